// The local file-system store. Every write goes to an exclusive temp file in the destination
// folder, is hashed while it is copied, fsynced, then linked to a free final name: no reader sees
// a half file, and no name is ever overwritten.
import fs, { type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  DEFAULT_MAX_BYTES, sizeCapReason, StoreRefusal,
  type ArtifactStore, type ByteSource, type PutOptions, type PutResult, type TreeResult, type TreeSource,
} from './store.js';
import {
  claim, cloneOrCopy, copyHashed, hashFile, hashHandle, NO_HARDLINKS, openSource, openTemp, rmQuiet, sameContent, sameInode, TEMP_PREFIX, toReadable,
} from './local-io.js';
import { sanitiseName, variantName } from './names.js';
import { putTreeLocal } from './local-tree.js';

export interface LocalStoreOptions {
  /** Default size cap per artifact, in bytes (10 GiB). */
  maxBytes?: number;
}

/** How many `name_N` variants are tried before giving up on a name. */
export const MAX_VARIANTS = 10_000;

type Digest = { bytes: number; sha256: string };

export class LocalStore implements ArtifactStore {
  readonly maxBytes: number;

  constructor(opts: LocalStoreOptions = {}) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  async putBytes(data: ByteSource, destDir: string, name: string, opts: Pick<PutOptions, 'maxBytes'> = {}): Promise<PutResult> {
    const tmp = await openTemp(destDir);
    try {
      const h = await copyHashed(toReadable(data), tmp.fh, opts.maxBytes ?? this.maxBytes);
      return await this.settle(tmp.path, destDir, sanitiseName(name), h);
    } finally {
      await rmQuiet(tmp.path);
    }
  }

  async putFile(src: string | Buffer, destDir: string, name: string, opts: PutOptions = {}): Promise<PutResult> {
    const max = opts.maxBytes ?? this.maxBytes;
    const safe = sanitiseName(name);
    const { fh, st } = await openSource(src, opts.expect);
    try {
      if (st.size > max) throw new StoreRefusal(sizeCapReason(max));
      if (opts.mode === 'move') {
        const moved = await this.moveByLink(fh, st, src, destDir, safe, max);
        if (moved) return moved;
      }
      const tmp = await openTemp(destDir);
      let res: PutResult;
      try {
        // A clone where the file system can (no data copied, no space used), else one streaming pass.
        const h = await cloneOrCopy(fh, tmp.fh, max, max, opts.onBytes);
        res = await this.settle(tmp.path, destDir, safe, h);
      } finally {
        await rmQuiet(tmp.path);
      }
      if (opts.mode === 'move') {
        const kept = await removeVerified(src, st, res);
        if (kept) res.sourceKept = kept;
      }
      return res;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  putTree(tree: TreeSource, destDir: string, name: string, opts: PutOptions = {}): Promise<TreeResult> {
    return putTreeLocal(tree, destDir, sanitiseName(name), { mode: opts.mode ?? 'copy', maxBytes: opts.maxBytes ?? this.maxBytes });
  }

  async writeJsonExclusive(dir: string, baseName: string, obj: unknown): Promise<string> {
    const tmp = await openTemp(dir);
    try {
      await copyHashed(Readable.from([Buffer.from(`${JSON.stringify(obj, null, 2)}\n`, 'utf8')]), tmp.fh, Number.POSITIVE_INFINITY);
      for (let n = 0; n < MAX_VARIANTS; n++) {
        const final = path.join(dir, `${baseName}${n === 0 ? '' : `_${n}`}.json`);
        if (await claim(tmp.path, final)) return final;
      }
      throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${baseName}`);
    } finally {
      await rmQuiet(tmp.path);
    }
  }

  async sweepTemp(dir: string, olderThanMs = 60_000): Promise<number> {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const now = Date.now();
    let removed = 0;
    for (const n of names) {
      if (!n.startsWith(TEMP_PREFIX)) continue;
      const st = await fs.lstat(path.join(dir, n)).catch(() => undefined);
      // Younger temp files may belong to a writer that is still copying.
      if (st && now - st.mtimeMs > olderThanMs) {
        await rmQuiet(path.join(dir, n));
        removed++;
      }
    }
    return removed;
  }

  /** Links the finished temp file to the first free variant of `name`, or finds the same bytes already there. */
  private async settle(tmp: string, destDir: string, name: string, h: Digest): Promise<PutResult> {
    for (let n = 0; n < MAX_VARIANTS; n++) {
      const final = path.join(destDir, variantName(name, n));
      if (await claim(tmp, final)) return { dst: final, ...h, deduplicated: false };
      if (await sameContent(final, h.bytes, h.sha256)) return { dst: final, ...h, deduplicated: true };
    }
    throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${name}`);
  }

  /**
   * Same file system: a hard link gives the file its new name without copying, then the old
   * name goes. Null when links are impossible here (another device, no hard links): copy instead.
   */
  private async moveByLink(fh: FileHandle, st: Stats, src: string | Buffer, destDir: string, name: string, max: number): Promise<PutResult | null> {
    const h = await hashHandle(fh, max);
    for (let n = 0; n < MAX_VARIANTS; n++) {
      const final = path.join(destDir, variantName(name, n));
      try {
        await fs.link(src, final);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (NO_HARDLINKS.has(code)) return null;
        if (code !== 'EEXIST') throw e;
        const there = await fs.lstat(final).catch(() => undefined);
        if (there && sameInode(there, st)) return { dst: final, ...h, deduplicated: true, sourceKept: 'source and destination are the same' };
        if (!(await sameContent(final, h.bytes, h.sha256))) continue;
        const res: PutResult = { dst: final, ...h, deduplicated: true };
        const kept = await unlinkIfUnchanged(src, st);
        if (kept) res.sourceKept = kept;
        return res;
      }
      // link() does not follow a symlink swapped in at `src`; make sure we linked the file we hashed.
      const linked = await fs.lstat(final);
      if (!sameInode(linked, st)) {
        await fs.unlink(final);
        throw new StoreRefusal('changed since it was checked');
      }
      const res: PutResult = { dst: final, ...h, deduplicated: false };
      const kept = await unlinkIfUnchanged(src, st);
      if (kept) res.sourceKept = kept;
      return res;
    }
    throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${name}`);
  }
}

/** Removes the source only if it is still the file that was read. Returns why it was kept, if it was. */
export async function unlinkIfUnchanged(src: string | Buffer, st: Stats): Promise<string | undefined> {
  const now = await fs.lstat(src).catch(() => undefined);
  if (!now || !sameInode(now, st) || now.size !== st.size || now.mtimeMs !== st.mtimeMs) return 'source changed while it was moved';
  // The copy is already filed; a read-only source folder must not turn that into a failure.
  return fs.unlink(src).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => `source could not be removed (${e.code ?? e.message})`,
  );
}

/** Cross-device move: the copy is re-read and must match before the source may go. */
async function removeVerified(src: string | Buffer, st: Stats, res: PutResult): Promise<string | undefined> {
  const dst = await fs.lstat(res.dst).catch(() => undefined);
  if (dst && sameInode(dst, st)) return 'source and destination are the same';
  const again = await hashFile(res.dst).catch(() => undefined);
  if (again?.sha256 !== res.sha256 || again.bytes !== res.bytes) return 'copy unverified';
  return unlinkIfUnchanged(src, st);
}
