// The workspace browser over HTTP (README "Workspace browser"): pages, the files themselves, a
// verify endpoint and a live event stream, under one path prefix (`/ui`). The same Host, Origin
// and token rules as the MCP endpoint guard it; a browser that cannot send a bearer header gives
// the token once as `?token=` and keeps it in an HttpOnly, SameSite=Strict cookie. Files are read
// through the store by key (its containment: no `..`, no symlink followed, nothing outside the
// root) and sent so they cannot script the browser: HTML, SVG and anything not an image or a PDF
// under `Content-Security-Policy: sandbox`, with `nosniff`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import mime from 'mime-types';
import type { Logger } from '../log.js';
import { StoreRefusal, type Key } from '../storage/store.js';
import { hostAllowed, originAllowed } from '../transports/http-guard.js';
import type { Workspaces } from '../workspace/layout.js';
import type { RunTarget } from '../workspace/types.js';
import { readManifestFiles } from '../workspace/manifest.js';
import { compareRuns, overview, parseRunRef, runView } from './model.js';
import { APP_CSS, APP_JS, comparePage, indexPage, runPage } from './pages.js';

/** Largest file served (a bigger one is opened from its folder). */
export const MAX_SERVED_BYTES = 256 * 1024 ** 2;
/** How often the store is looked at for new artifacts (changes made by other processes). */
export const POLL_MS = 2000;

export interface UiOptions {
  ws: Workspaces;
  /** Where the pages live: `/ui`. */
  base: string;
  /** What the server is bound to, for the Host check. */
  host: string;
  port: () => number;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  token?: string;
  log: Logger;
  /** Files were just filed in this process: told to the pages at once, not at the next poll. */
  onRouted?: (listener: (run: { dataset: string; runId: string }) => void) => () => void;
}

export interface UiHandler {
  /** Answers a request under `base`; false when the path is not the browser's. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}

const COOKIE = 'aw_ui_token';
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'";
const FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; font-src 'self' data:";

export function createUi(o: UiOptions): UiHandler {
  const tokenDigest = o.token ? digest(o.token) : undefined;
  const streams = new Set<ServerResponse>();
  const tell = (run: { dataset: string; runId: string }) => {
    const data = `event: changed\ndata: ${JSON.stringify(run)}\n\n`;
    for (const s of streams) s.write(data);
  };
  const offRouted = o.onRouted?.(tell);
  // Other processes file into the same root: look at the newest runs' counts now and then.
  let seen = new Map<string, string>();
  let polling = false;
  const poll = async () => {
    if (polling || !streams.size) return;
    polling = true;
    try {
      const next = new Map<string, string>();
      for (const dataset of await o.ws.listDatasets()) {
        for (const runId of await o.ws.recentRuns(dataset, 3)) {
          const c = await o.ws.counts(o.ws.target(dataset, runId));
          const k = `${dataset}/${runId}`;
          const v = `${c.bytes}:${Object.values(c.counts).join(',')}`;
          next.set(k, v);
          if (seen.size && seen.get(k) !== v) tell({ dataset, runId });
        }
      }
      seen = next;
    } catch (e) {
      o.log.debug(`ui: polling the workspaces failed: ${(e as Error).message}`);
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), POLL_MS);
  timer.unref();

  const authorized = (req: IncomingMessage, res: ServerResponse, url: URL): boolean | 'redirected' => {
    if (!tokenDigest) return true;
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (!timingSafeEqual(digest(given), tokenDigest)) return false;
      url.searchParams.delete('token');
      res.writeHead(303, { location: url.pathname + url.search, 'set-cookie': `${COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=${o.base}` });
      res.end();
      return 'redirected';
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const cookie = (req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith(`${COOKIE}=`))?.slice(COOKIE.length + 1);
    const candidate = bearer ?? (cookie !== undefined ? safeDecode(cookie) : undefined);
    return candidate !== undefined && timingSafeEqual(digest(candidate), tokenDigest);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== o.base && !url.pathname.startsWith(`${o.base}/`)) return false;
    if (!hostAllowed(req.headers.host, o.host, o.port(), o.allowedHosts)) return send(res, 403, 'forbidden: Host header not allowed'), true;
    if (!originAllowed(req.headers.origin, o.allowedOrigins)) return send(res, 403, 'forbidden: Origin not allowed'), true;
    const auth = authorized(req, res, url);
    if (auth === 'redirected') return true;
    if (!auth) return send(res, 401, 'unauthorized: open this page with ?token=YOUR_TOKEN once (or send a bearer token)'), true;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', { allow: 'GET, HEAD' }), true;
    route(url, req, res).catch((e: unknown) => {
      o.log.warn(`ui: ${url.pathname}: ${(e as Error)?.message ?? String(e)}`);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.end();
    });
    return true;
  };

  const route = async (url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rest = url.pathname.slice(o.base.length).replace(/^\/+/, '');
    let parts: string[];
    try {
      parts = rest === '' ? [] : rest.split('/').map((p) => decodeURIComponent(p));
    } catch {
      return send(res, 400, 'bad path');
    }
    const [what, ...args] = parts;
    if (what === undefined || what === '') {
      if (!url.pathname.endsWith('/')) return void (res.writeHead(308, { location: `${o.base}/` }), res.end());
      return html(res, indexPage(o.base, await overview(o.ws)));
    }
    if (what === 'app.css' && !args.length) return asset(res, APP_CSS, 'text/css; charset=utf-8');
    if (what === 'app.js' && !args.length) return asset(res, APP_JS, 'text/javascript; charset=utf-8');
    if (what === 'events' && !args.length) return events(req, res);
    if (what === 'run' && args.length === 2) {
      const ref = parseRunRef(args[0]!, args[1]!);
      const v = ref && (await runView(o.ws, ref.dataset, ref.runId));
      if (!v) return send(res, 404, 'no such run');
      const others = (await o.ws.listRuns(ref.dataset)).filter((r) => r !== ref.runId).reverse();
      return html(res, runPage(o.base, v, others));
    }
    if (what === 'compare' && (args.length === 3 || (args.length === 2 && url.searchParams.has('b')))) {
      const ref = parseRunRef(args[0]!, args[1]!);
      const b = args[2] ?? url.searchParams.get('b')!;
      const other = ref && parseRunRef(ref.dataset, b);
      if (!ref || !other) return send(res, 404, 'no such run');
      if (args.length === 2) return void (res.writeHead(303, { location: `${o.base}/compare/${encodeURIComponent(ref.dataset)}/${encodeURIComponent(ref.runId)}/${encodeURIComponent(b)}` }), res.end());
      const c = await compareRuns(o.ws, ref.dataset, ref.runId, other.runId);
      if (!c) return send(res, 404, 'no such run');
      return html(res, comparePage(o.base, c));
    }
    if (what === 'api' && args[0] === 'verify' && args.length === 3) {
      const ref = parseRunRef(args[1]!, args[2]!);
      const run = ref && (await o.ws.findRun(ref.dataset, ref.runId));
      if (!run) return send(res, 404, 'no such run');
      return json(res, await verifyRun(o.ws, run));
    }
    if (what === 'file' && args.length >= 3) return file(res, args, req.method === 'HEAD');
    return send(res, 404, 'not found');
  };

  const file = async (res: ServerResponse, key: Key, head: boolean): Promise<void> => {
    // A file of a run, by key: the store refuses what is not a plain file inside the root.
    if (!parseRunRef(key[0]!, key[1]!) || key.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return send(res, 404, 'not found');
    let body: Buffer;
    try {
      body = await o.ws.store.read(key, MAX_SERVED_BYTES);
    } catch (e) {
      if (e instanceof StoreRefusal || (e as NodeJS.ErrnoException)?.code === 'ENOENT') return send(res, 404, `not found: ${e instanceof StoreRefusal ? e.message : 'no such file'}`);
      throw e;
    }
    const type = mime.lookup(key[key.length - 1]!) || 'application/octet-stream';
    // Images (but SVG, which can script) and PDFs are shown as they are; anything else is sandboxed.
    const plain = (/^image\//.test(type) && type !== 'image/svg+xml') || type === 'application/pdf';
    const textual = /^text\/|json|xml|javascript/.test(type);
    res.writeHead(200, {
      'content-type': textual ? `${type}; charset=utf-8` : type,
      'content-length': body.length,
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, max-age=60',
      ...(plain ? {} : { 'content-security-policy': FILE_CSP }),
    });
    res.end(head ? undefined : body);
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    void poll();
    const ping = setInterval(() => res.write(': ping\n\n'), 25_000);
    ping.unref();
    req.on('close', () => {
      clearInterval(ping);
      streams.delete(res);
    });
  };

  return {
    handle,
    close() {
      clearInterval(timer);
      offRouted?.();
      for (const s of streams) s.end();
      streams.clear();
    },
  };
}

/** Each manifest entry of a run checked against the bytes stored now: by key, ok or why not. */
export async function verifyRun(ws: Workspaces, run: RunTarget): Promise<Record<string, { ok: boolean; why?: string }>> {
  const out: Record<string, { ok: boolean; why?: string }> = {};
  for (const m of await readManifestFiles(ws.store, run)) {
    for (const e of m.manifest?.entries ?? []) {
      const key = ws.store.keyOf(e.dst);
      if (!key) continue;
      try {
        const d = await ws.store.digest(key);
        out[key.join('/')] = d.sha256 === e.sha256 ? { ok: true } : { ok: false, why: 'changed since it was filed' };
      } catch {
        out[key.join('/')] = { ok: false, why: 'missing' };
      }
    }
  }
  return out;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers });
  res.end(`${text}\n`);
}

function html(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' });
  res.end(body);
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function asset(res: ServerResponse, body: string, type: string): void {
  res.writeHead(200, { 'content-type': type, 'x-content-type-options': 'nosniff', 'cache-control': 'private, max-age=300' });
  res.end(body);
}
