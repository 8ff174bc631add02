// A folder of the store as an indented tree (like the README's layout), for `demo` and people.
// Reads through the store only: symlinks are never followed (a dataset's `latest` is shown with
// the run it names).
import type { Key, WorkspaceStore } from '../storage/store.js';

export interface TreeOptions {
  /** Folders deeper than this are summarised as "(n entries)". */
  maxDepth?: number;
  /** At most this many entries per folder are listed. */
  maxEntries?: number;
  /** Hide empty folders under a run (uploads/, data/ … with nothing in them) behind one line. */
  foldEmpty?: boolean;
}

const human = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${(n / 1024 ** 3).toFixed(2)} GB`;

export { human as humanBytes };

/** The tree of `key` in `store` (the whole store by default), titled with where it is. */
export async function renderTree(store: WorkspaceStore, key: Key = [], opts: TreeOptions = {}): Promise<string> {
  const maxDepth = opts.maxDepth ?? 6;
  const maxEntries = opts.maxEntries ?? 50;
  const lines = [`${store.locate(key)}/`];
  const walk = async (k: Key, indent: string, depth: number): Promise<void> => {
    const entries = (await store.list(k)).sort((a, b) => a.name.localeCompare(b.name));
    const files = entries.filter((e) => e.kind === 'file').map((e) => e.name);
    const sizes = new Map(files.map((n, i) => [n, i]));
    const sized = files.length ? await store.sizes(k, files) : [];
    const empty: string[] = [];
    let shown = 0;
    for (const e of entries) {
      if (e.kind === 'other') {
        const target = e.name === 'latest' ? await store.readLatest(k[k.length - 1] ?? '') : undefined;
        lines.push(`${indent}${e.name} -> ${target ?? '?'}`);
      } else if (e.kind === 'folder') {
        const kids = await store.list([...k, e.name]);
        if (opts.foldEmpty && kids.length === 0) {
          empty.push(`${e.name}/`);
          continue;
        }
        lines.push(`${indent}${e.name}/`);
        if (depth < maxDepth) await walk([...k, e.name], `${indent}  `, depth + 1);
        else lines.push(`${indent}  (${kids.length} entries)`);
      } else {
        lines.push(`${indent}${e.name}  (${human(sized[sizes.get(e.name)!] ?? 0)})`);
      }
      if (++shown >= maxEntries && entries.length > maxEntries) {
        lines.push(`${indent}… ${entries.length - maxEntries} more`);
        break;
      }
    }
    if (empty.length) lines.push(`${indent}${empty.join(' ')}  (empty)`);
  };
  await walk(key, '  ', 1);
  return lines.join('\n');
}
