// Folder artifacts in the local store: the whole folder is built under a temp name inside the
// destination folder and renamed into place, so readers see all of it or none of it. Every level
// is made and entered by descriptor (./local-folder.ts), so nothing is written through a symlink.
import fs from 'node:fs/promises';
import { sizeCapReason, StoreRefusal, treeDigest, type SourceAdmission, type TreeFile, type TreeSource } from './store.js';
import { cloneOrCopy, createExclusive, hashIn, openSource, tempName, type Digest, type OnBytes } from './local-io.js';
import { Folder, removeTreeIn, within } from './local-folder.js';
import { removeEmptyFolder, removeSource } from './local-source.js';
import { sanitiseName, variantName } from './names.js';

const MAX_VARIANTS = 10_000;
const TAKEN = new Set(['EEXIST', 'ENOTEMPTY', 'ENOTDIR']);

/** Sanitised, collision-free destination segments for a folder's members. */
export class DestNames {
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

/** Total bytes, file count and tree digest of a stored folder (regular files only; links never followed). */
export async function hashTree(dir: Folder, onBytes?: OnBytes): Promise<Digest & { files: number }> {
  const lines: { rel: string; sha256: string }[] = [];
  let bytes = 0;
  const walk = async (f: Folder, rel: string[]): Promise<void> => {
    for (const d of await f.list()) {
      if (d.isDirectory()) {
        const sub = await f.child(d.name);
        try {
          await walk(sub, [...rel, d.name]);
        } finally {
          await sub.close();
        }
      } else if (d.isFile()) {
        const h = await hashIn(f, d.name, onBytes && ((n) => onBytes(bytes + n)));
        bytes += h.bytes;
        lines.push({ rel: [...rel, d.name].join('/'), sha256: h.sha256 });
      }
    }
  };
  await walk(dir, []);
  return { bytes, files: lines.length, sha256: treeDigest(lines) };
}

/** Member folders of the copy, opened once per run of files in the same folder. */
class Parents {
  private cur?: { key: string; folder: Folder };
  constructor(private readonly top: Folder) {}
  async get(rel: string[]): Promise<Folder> {
    const key = rel.join('/');
    if (this.cur?.key === key) return this.cur.folder;
    await this.close();
    const folder = rel.length ? await this.top.walk(rel) : this.top;
    this.cur = { key, folder };
    return folder;
  }
  async close(): Promise<void> {
    if (this.cur && this.cur.folder !== this.top) await this.cur.folder.close();
    this.cur = undefined;
  }
}

export interface TreeStored {
  name: string;
  bytes: number;
  files: number;
  sha256: string;
  deduplicated: boolean;
  sourceKept?: string;
}

export async function putTreeLocal(
  tree: TreeSource,
  dir: Folder,
  name: string,
  o: { mode: 'copy' | 'move'; maxBytes: number; admit?: SourceAdmission; admitHead?: (head: Buffer) => string | null },
): Promise<TreeStored> {
  if (tree.bytes > o.maxBytes) throw new StoreRefusal(sizeCapReason(o.maxBytes));
  const tmp = tempName();
  const top = await dir.child(tmp, true);
  let renamed = false;
  try {
    const names = new DestNames();
    for (const d of tree.dirs) {
      const rel = names.map(d.rel);
      await within(top.walk(rel, true), async () => undefined);
    }
    const parents = new Parents(top);
    const lines: { rel: string; sha256: string }[] = [];
    let bytes = 0;
    try {
      for (const f of tree.files) {
        const rel = names.map(f.rel);
        const parent = await parents.get(rel.slice(0, -1));
        const h = await copyMember(f, parent, rel[rel.length - 1]!, o.maxBytes - bytes, o.maxBytes, o.admit, o.admitHead);
        bytes += h.bytes;
        lines.push({ rel: rel.join('/'), sha256: h.sha256 });
      }
    } finally {
      await parents.close();
    }
    await top.close();
    const sha256 = treeDigest(lines);
    const res: TreeStored = { name: '', bytes, files: lines.length, sha256, deduplicated: false };
    for (let n = 0; n < MAX_VARIANTS && res.name === ''; n++) {
      const final = variantName(name, n);
      const there = await fs.lstat(dir.at(final)).catch(() => undefined);
      if (there) {
        if (there.isDirectory() && (await digestOf(dir, final))?.sha256 === sha256) Object.assign(res, { name: final, deduplicated: true });
        continue;
      }
      try {
        await fs.rename(dir.at(tmp), dir.at(final));
        renamed = true;
        res.name = final;
      } catch (e) {
        if (!TAKEN.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      }
    }
    if (res.name === '') throw new StoreRefusal(`more than ${MAX_VARIANTS} folders named ${name}`);
    if (o.mode === 'move') {
      const kept = await removeTreeSource(tree, dir, res, o.admit);
      if (kept) res.sourceKept = kept;
    }
    return res;
  } finally {
    await top.close();
    if (!renamed) await removeTreeIn(dir, tmp).catch(() => undefined);
  }
}

async function digestOf(dir: Folder, name: string): Promise<(Digest & { files: number }) | undefined> {
  const f = await dir.child(name).catch(() => undefined);
  if (!f) return undefined;
  try {
    return await hashTree(f);
  } catch {
    return undefined;
  } finally {
    await f.close();
  }
}

/** Copies one member, refusing a file that is no longer the one the policy scanned, or that now resolves where the policy forbids. */
async function copyMember(f: TreeFile, parent: Folder, name: string, budget: number, cap: number, admit?: SourceAdmission, admitHead?: (head: Buffer) => string | null): Promise<Digest> {
  let fh;
  try {
    ({ fh } = await openSource(f.src, f, admit, admitHead));
  } catch (e) {
    // One member refused refuses the folder; the reason names the member.
    if (e instanceof StoreRefusal) throw new StoreRefusal(`folder member ${f.rel.join('/')}: ${e.message}`);
    throw e;
  }
  try {
    return await cloneOrCopy(fh, await createExclusive(parent.at(name)), budget, cap);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Removes a moved folder's members once the stored copy re-hashes to the same digest. Each member
 * goes only if it is still the file that was copied; folders go only when empty.
 */
async function removeTreeSource(tree: TreeSource, dir: Folder, res: TreeStored, admit?: SourceAdmission): Promise<string | undefined> {
  if ((await digestOf(dir, res.name))?.sha256 !== res.sha256) return 'copy unverified';
  let kept: string | undefined;
  for (const f of tree.files) {
    // A symlinked member was read through; the link itself is what the folder held.
    const why = await removeSource(f.entry, f, admit, true);
    if (why) kept = why;
  }
  for (const d of [...tree.dirs].reverse()) await removeEmptyFolder(d.entry);
  await removeEmptyFolder(tree.root);
  return kept;
}
