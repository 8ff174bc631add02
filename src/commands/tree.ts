// A folder as an indented tree (like SPEC's layout), for `demo` and `ls`. Never follows symlinks.
import fs from 'node:fs/promises';
import path from 'node:path';

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

export async function renderTree(dir: string, opts: TreeOptions = {}): Promise<string> {
  const maxDepth = opts.maxDepth ?? 6;
  const maxEntries = opts.maxEntries ?? 50;
  const lines = [`${dir}/`];
  const walk = async (d: string, indent: string, depth: number): Promise<void> => {
    const entries = (await fs.readdir(d, { withFileTypes: true }).catch(() => [])).sort((a, b) => a.name.localeCompare(b.name));
    const empty: string[] = [];
    let shown = 0;
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) {
        lines.push(`${indent}${e.name} -> ${await fs.readlink(p).catch(() => '?')}`);
      } else if (e.isDirectory()) {
        const kids = await fs.readdir(p).catch(() => []);
        if (opts.foldEmpty && kids.length === 0) {
          empty.push(`${e.name}/`);
          continue;
        }
        lines.push(`${indent}${e.name}/`);
        if (depth < maxDepth) await walk(p, `${indent}  `, depth + 1);
        else lines.push(`${indent}  (${kids.length} entries)`);
      } else {
        const st = await fs.lstat(p).catch(() => undefined);
        lines.push(`${indent}${e.name}  (${human(st?.size ?? 0)})`);
      }
      if (++shown >= maxEntries && entries.length > maxEntries) {
        lines.push(`${indent}… ${entries.length - maxEntries} more`);
        break;
      }
    }
    if (empty.length) lines.push(`${indent}${empty.join(' ')}  (empty)`);
  };
  await walk(dir, '  ', 1);
  return lines.join('\n');
}
