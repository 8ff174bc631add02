// Pure checks against DNS rebinding: a web page on evil.example that resolves its name to
// 127.0.0.1 sends `Host: evil.example` and `Origin: http://evil.example`; both are refused unless
// the user allowed them. They run before anything else sees a request, the lane's calls included
// (which never reach the SDK's transport), so the SDK transport's own host/origin options would
// cover only part of the traffic; this is the one guard.

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** `host[:port]` → [hostname (brackets kept for IPv6), port or undefined]. */
export function splitHost(value: string): [string, number | undefined] {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value.trim().toLowerCase());
  if (!m) return ['', undefined];
  return [m[1]!, m[2] ? Number(m[2]) : undefined];
}

/** A bind address or host name that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK.has(h) || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function hostAllowed(header: string | undefined, boundHost: string, port: number, extra: string[] = []): boolean {
  if (!header) return false;
  const [name, p] = splitHost(header);
  if (!name) return false;
  const bound = boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost.toLowerCase()}]` : boundHost.toLowerCase();
  const names = new Set(LOOPBACK);
  if (!WILDCARD.has(bound)) names.add(bound);
  if (names.has(name) && (p === undefined || p === port)) return true;
  return extra.some((e) => {
    const [en, ep] = splitHost(e);
    return en === name && (ep === undefined || ep === p);
  });
}

export function originAllowed(origin: string | undefined, extra: string[] = []): boolean {
  // Non-browser clients send no Origin; browsers always do, so only they are checked.
  if (origin === undefined) return true;
  if (extra.includes(origin)) return true;
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && LOOPBACK.has(u.hostname.toLowerCase());
  } catch {
    return false; // includes the literal "null" of sandboxed frames and file:// pages
  }
}
