// Folder artifacts in the local store: the whole folder is built under a temp name in the
// destination and renamed into place, so readers see all of it or none of it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { sizeCapReason, StoreRefusal, treeDigest, type TreeFile, type TreeResult, type TreeSource } from './store.js';
import { cloneOrCopy, createExclusive, hashFile, openSource, rmQuiet, sameInode, tempName } from './local-io.js';
import { sanitiseName, variantName } from './names.js';

const MAX_VARIANTS = 10_000;
const TAKEN = new Set(['EEXIST', 'ENOTEMPTY', 'ENOTDIR']);

/** Sanitised, collision-free destination segments for a folder's members. */
class DestNames {
  private readonly byParent = new Map<string, { names: Map<string, string>; used: Set<string> }>();

  map(rel: readonly string[]): string[] {
    const out: string[] = [];
    for (const seg of rel) {
      const key = out.join('/');
      let level = this.byParent.get(key);
      if (!level) this.byParent.set(key, (level = { names: new Map(), used: new Set() }));
      let dest = level.names.get(seg);
      if (dest === undefined) {
        const base = sanitiseName(seg, 'file');
        // Two raw names can sanitise alike (`a\x01`, `a\x02`); case-insensitive file systems too.
        for (let n = 0; level.used.has((dest = variantName(base, n)).toLowerCase()); n++);
        level.used.add(dest.toLowerCase());
        level.names.set(seg, dest);
      }
      out.push(dest);
    }
    return out;
  }
}

/** Total bytes, file count and tree digest of a stored folder (regular files only). */
export async function hashTree(dir: string): Promise<{ bytes: number; files: number; sha256: string }> {
  const lines: { rel: string; sha256: string }[] = [];
  let bytes = 0;
  const stack: string[][] = [[]];
  while (stack.length > 0) {
    const rel = stack.pop() as string[];
    for (const d of await fs.readdir(path.join(dir, ...rel), { withFileTypes: true })) {
      if (d.isDirectory()) stack.push([...rel, d.name]);
      else if (d.isFile()) {
        const h = await hashFile(path.join(dir, ...rel, d.name));
        bytes += h.bytes;
        lines.push({ rel: [...rel, d.name].join('/'), sha256: h.sha256 });
      }
    }
  }
  return { bytes, files: lines.length, sha256: treeDigest(lines) };
}

export async function putTreeLocal(
  tree: TreeSource,
  destDir: string,
  name: string,
  o: { mode: 'copy' | 'move'; maxBytes: number },
): Promise<TreeResult> {
  if (tree.bytes > o.maxBytes) throw new StoreRefusal(sizeCapReason(o.maxBytes));
  const tmp = path.join(destDir, tempName());
  await fs.mkdir(tmp);
  try {
    const names = new DestNames();
    for (const d of tree.dirs) await fs.mkdir(path.join(tmp, ...names.map(d.rel)));
    const lines: { rel: string; sha256: string }[] = [];
    let bytes = 0;
    for (const f of tree.files) {
      const rel = names.map(f.rel);
      const h = await copyMember(f, path.join(tmp, ...rel), o.maxBytes - bytes, o.maxBytes);
      bytes += h.bytes;
      lines.push({ rel: rel.join('/'), sha256: h.sha256 });
    }
    const sha256 = treeDigest(lines);
    const res: TreeResult = { dst: '', bytes, files: lines.length, sha256, deduplicated: false };
    for (let n = 0; n < MAX_VARIANTS && res.dst === ''; n++) {
      const final = path.join(destDir, variantName(name, n));
      const there = await fs.lstat(final).catch(() => undefined);
      if (there) {
        if (there.isDirectory() && (await hashTree(final).catch(() => undefined))?.sha256 === sha256) {
          Object.assign(res, { dst: final, deduplicated: true });
        }
        continue;
      }
      try {
        await fs.rename(tmp, final);
        res.dst = final;
      } catch (e) {
        if (!TAKEN.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      }
    }
    if (res.dst === '') throw new StoreRefusal(`more than ${MAX_VARIANTS} folders named ${name}`);
    if (o.mode === 'move') {
      const kept = await removeTreeSource(tree, res);
      if (kept) res.sourceKept = kept;
    }
    return res;
  } finally {
    await rmQuiet(tmp);
  }
}

/** Copies one member, refusing a file that is no longer the one the policy scanned. */
async function copyMember(f: TreeFile, dst: string, budget: number, cap: number): Promise<{ bytes: number; sha256: string }> {
  const { fh } = await openSource(f.src, f);
  try {
    return await cloneOrCopy(fh, await createExclusive(dst), budget, cap);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Removes a moved folder's members once the stored copy re-hashes to the same digest. Each member
 * goes only if it is still the file that was copied; folders go only when empty.
 */
async function removeTreeSource(tree: TreeSource, res: TreeResult): Promise<string | undefined> {
  const again = await hashTree(res.dst).catch(() => undefined);
  if (again?.sha256 !== res.sha256) return 'copy unverified';
  let kept: string | undefined;
  for (const f of tree.files) {
    const st = await fs.lstat(f.entry).catch(() => undefined);
    if (st?.isSymbolicLink() || (st && sameInode(st, f) && st.size === f.size)) {
      await fs.unlink(f.entry).catch((e: NodeJS.ErrnoException) => (kept = `source could not be removed (${e.code ?? e.message})`));
    } else kept = 'source changed while it was moved';
  }
  for (const d of [...tree.dirs].reverse()) await fs.rmdir(d.entry).catch(() => undefined);
  await fs.rmdir(tree.root).catch(() => undefined);
  return kept;
}
