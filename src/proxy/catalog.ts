// The tool catalog the host sees: every downstream server's tools merged under the rules of README "Proxy mode",
// pure (lists in, names out). Also used for prompts, which collide the same way.
// - tools.allow / tools.deny are globs on the downstream's own names; deny beats allow.
// - A name offered by two or more servers is exposed as `{server}__{tool}` for each of them.
// - A downstream name equal to one of our own (ensure_workspace …) becomes `{server}__{tool}`;
//   our own keep their bare names.
// - `{server}__…` names belong to that server: another server's tool named `good__echo` is
//   exposed as `evil__good__echo`, so it can never take the name under which good's `echo` is
//   reached. Prefixed names are placed before bare ones for the same reason.
// Everything else keeps its name, and the item itself (schemas, annotations, _meta) is untouched.
import { compileNames } from './allowlist.js';

export const SEPARATOR = '__';

export interface ServerItems<T> {
  server: string;
  items: readonly T[];
  allow?: readonly string[];
  deny?: readonly string[];
}

export interface CatalogEntry<T> {
  /** The name the host sees. */
  exposed: string;
  server: string;
  /** The downstream's own name, used when forwarding. */
  original: string;
  /** What the host is shown: the downstream item, renamed only when `exposed` differs. */
  item: T;
}

export interface Catalog<T> {
  entries: CatalogEntry<T>[];
  byName: Map<string, CatalogEntry<T>>;
  /** Items that could not be exposed (a prefixed name that is itself taken), for the log. */
  dropped: string[];
}

export function filterNames<T extends { name: string }>(items: readonly T[], allow?: readonly string[], deny?: readonly string[]): T[] {
  const allowed = allow ? compileNames(allow) : () => true;
  const denied = deny ? compileNames(deny) : () => false;
  return items.filter((t) => allowed(t.name) && !denied(t.name));
}

export function buildCatalog<T extends { name: string }>(servers: readonly ServerItems<T>[], reserved: ReadonlySet<string>): Catalog<T> {
  const filtered = servers.map((s) => ({ server: s.server, items: filterNames(s.items, s.allow, s.deny) }));
  const owners = new Map<string, number>();
  for (const s of filtered) for (const name of new Set(s.items.map((t) => t.name))) owners.set(name, (owners.get(name) ?? 0) + 1);
  const prefixes = filtered.map((s) => `${s.server}${SEPARATOR}`);
  const othersPrefix = (server: string, name: string) => prefixes.some((p) => p !== `${server}${SEPARATOR}` && name.startsWith(p));

  const byName = new Map<string, CatalogEntry<T>>();
  const dropped: string[] = [];
  const taken = (n: string) => reserved.has(n) || byName.has(n);
  const bare: { server: string; item: T }[] = [];
  const prefixed: { server: string; item: T }[] = [];
  for (const s of filtered) {
    for (const item of s.items) {
      const clash = reserved.has(item.name) || (owners.get(item.name) ?? 0) > 1 || othersPrefix(s.server, item.name);
      (clash ? prefixed : bare).push({ server: s.server, item });
    }
  }
  for (const { server, item } of prefixed) {
    const exposed = `${server}${SEPARATOR}${item.name}`;
    if (taken(exposed)) dropped.push(`${server}: ${item.name} (${exposed} is already taken)`);
    else byName.set(exposed, { exposed, server, original: item.name, item: { ...item, name: exposed } });
  }
  for (const { server, item } of bare) {
    const owner = byName.get(item.name);
    if (taken(item.name)) dropped.push(`${server}: ${item.name} (${owner ? `already the name of ${owner.server}: ${owner.original}` : 'reserved'})`);
    else byName.set(item.name, { exposed: item.name, server, original: item.name, item });
  }
  // Keep config order, then the server's own order, whatever the pass that placed an entry.
  const order = new Map(filtered.flatMap((s, i) => s.items.map((t, j) => [`${s.server}\0${t.name}`, i * 1e6 + j] as const)));
  const entries = [...byName.values()].sort((a, b) => order.get(`${a.server}\0${a.original}`)! - order.get(`${b.server}\0${b.original}`)!);
  return { entries, byName, dropped };
}
