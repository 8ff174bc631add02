// The local file-system store. The workspaces root is opened once and every key is reached from
// it by descriptor, one plain folder at a time (./local-folder.ts): no symlink below the root is
// ever followed, whatever is swapped in while we work. Every write goes to an exclusive temp file
// in the destination folder, is hashed while it is copied, fsynced, then linked to a free final
// name: no reader sees a half file, and no name is ever overwritten.
import fs, { type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  checkKey, DEFAULT_MAX_BYTES, sizeCapReason, StoreRefusal, validSegment,
  type ByteSource, type Entry, type FolderCounts, type Key, type RunShape, type PutOptions, type PutResult, type SourceAdmission, type SweepReport, type TreeResult, type TreeSource, type WorkspaceStore,
} from './store.js';
import {
  claim, cloneOrCopy, copyHashed, hashHandle, hashIn, NO_HARDLINKS, openSource, openTemp, READ_FLAGS, sameContent, sameInode, TEMP_PREFIX, toReadable, unlinkQuiet, type Digest,
} from './local-io.js';
import { Folder, removeTreeIn, within } from './local-folder.js';
import { RunIndex, type RunIndexOptions } from './local-index.js';
import { removeSource } from './local-source.js';
import { isTempName, sweepTemps } from './local-sweep.js';
import { hashTree, putTreeLocal } from './local-tree.js';
import { sanitiseName, variantName } from './names.js';
import { isWithin } from './paths.js';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';

export interface LocalStoreOptions {
  /** Default size cap per artifact, in bytes (10 GiB). */
  maxBytes?: number;
  /** Make the root if it is missing (default true); read-only commands never do. */
  create?: boolean;
  /** Counts-index options (tests shrink the persistence threshold). */
  index?: Omit<RunIndexOptions, 'dir'> & { persist?: boolean };
}

/** How many `name_N` variants are tried before giving up on a name. */
export const MAX_VARIANTS = 10_000;

/** The counts-index cache folder inside the root. */
export const INDEX_DIR = '.aw-index';

/** Names inside the root that are ours, not workspace content: never listed. */
const HIDDEN = (name: string): boolean => isTempName(name) || name === INDEX_DIR;

export class LocalStore implements WorkspaceStore {
  private readonly index: RunIndex;

  private constructor(
    /** Absolute real path of the workspaces root. */
    readonly root: string,
    private readonly top: Folder,
    readonly maxBytes: number,
    index: LocalStoreOptions['index'],
    readonly identity: string,
  ) {
    // The index cache lives inside the root (nothing is written outside the workspaces), hidden
    // from resources and from the dataset list by its leading dot.
    this.index = new RunIndex({ ...index, dir: index?.persist === false ? null : { root: top, name: INDEX_DIR } });
  }

  /** Opens (creating if asked) a workspaces root; its real path is resolved once and held open. */
  static async open(root: string, opts: LocalStoreOptions = {}): Promise<LocalStore> {
    if (opts.create ?? true) await fs.mkdir(root, { recursive: true });
    else if (!(await fs.stat(root).catch(() => undefined))?.isDirectory()) throw new StoreRefusal(`no workspaces at ${root}`);
    const real = await fs.realpath(root);
    const st = await fs.stat(real);
    // The folder's own identity (device and inode) on this machine (host name): a path alone would
    // make two machines' `/data/ws` one root.
    const identity = createHash('sha256').update(JSON.stringify(['local', os.hostname(), real, st.dev, st.ino])).digest('hex').slice(0, 32);
    return new LocalStore(real, await Folder.open(real), opts.maxBytes ?? DEFAULT_MAX_BYTES, opts.index, identity);
  }

  locate(key: Key): string {
    return path.join(this.root, ...checkKey(key));
  }

  uri(key: Key): string {
    return pathToFileURL(this.locate(key)).href;
  }

  keyOf(locationOrUri: string): Key | undefined {
    let p = locationOrUri;
    if (p.startsWith('file:')) {
      try {
        // Rejects encoded `/` (%2F) and non-local hosts; `..` segments are resolved by URL parsing.
        p = fileURLToPath(p);
      } catch {
        return undefined;
      }
    }
    if (!path.isAbsolute(p) || p.includes('\0')) return undefined;
    const abs = path.resolve(p);
    if (!isWithin(abs, this.root)) return undefined;
    const key = path.relative(this.root, abs).split(path.sep).filter((s) => s !== '');
    return key.every(validSegment) ? key : undefined;
  }

  async createFolder(key: Key): Promise<boolean> {
    checkKey(key);
    return this.inParent(key, async (parent, name) => {
      try {
        await fs.mkdir(parent.at(name));
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
    });
  }

  async ensureFolder(key: Key): Promise<void> {
    await within(this.top.walk(checkKey(key), true), async () => undefined);
  }

  async stat(key: Key): Promise<Entry | undefined> {
    checkKey(key);
    if (key.length === 0) return entryOf('', await this.top.stat());
    return this.inParent(key, async (parent, name) => {
      const st = await fs.lstat(parent.at(name)).catch(() => undefined);
      return st && entryOf(name, st);
    }).catch((e: unknown) => {
      if (e instanceof StoreRefusal || isMissing(e)) return undefined;
      throw e;
    });
  }

  async list(key: Key): Promise<Entry[]> {
    const f = await this.top.walk(checkKey(key)).catch(() => undefined);
    if (!f) return [];
    try {
      const out: Entry[] = [];
      for (const d of await f.list().catch(() => [])) {
        if (HIDDEN(d.name)) continue;
        out.push({ name: d.name, kind: d.isFile() ? 'file' : d.isDirectory() ? 'folder' : 'other' });
      }
      return out;
    } finally {
      await f.close();
    }
  }

  /** Sizes of files in one folder, in parallel batches (a page of resources, the CLI's tables). */
  async sizes(dir: Key, names: readonly string[]): Promise<number[]> {
    return within(this.top.walk(checkKey(dir)), async (f) => {
      const out: number[] = [];
      for (let i = 0; i < names.length; i += 128) {
        const batch = await Promise.all(names.slice(i, i + 128).map((n) => fs.lstat(f.at(n)).then((st) => st.size, () => 0)));
        out.push(...batch);
      }
      return out;
    });
  }

  async putBytes(data: ByteSource, dir: Key, name: string, opts: Pick<PutOptions, 'maxBytes'> = {}): Promise<PutResult> {
    return within(this.top.walk(checkKey(dir)), async (f) => {
      const tmp = await openTemp(f);
      try {
        const h = await copyHashed(toReadable(data), tmp.fh, opts.maxBytes ?? this.maxBytes);
        return await this.settle(f, dir, tmp.name, sanitiseName(name), h);
      } finally {
        await unlinkQuiet(f.at(tmp.name));
      }
    });
  }

  async putFile(src: string | Buffer, dir: Key, name: string, opts: PutOptions = {}): Promise<PutResult> {
    const max = opts.maxBytes ?? this.maxBytes;
    const safe = sanitiseName(name);
    return within(this.top.walk(checkKey(dir)), async (f) => {
      const { fh, st } = await openSource(src, opts.expect, opts.admit, opts.admitHead);
      try {
        // Counted at its apparent size: a sparse file is stored (and takes disk) whole.
        if (st.size > max) throw new StoreRefusal(sizeCapReason(max));
        if (opts.mode === 'move') {
          const moved = await this.moveByLink(fh, st, src, f, dir, safe, max, opts.admit);
          if (moved) return moved;
        }
        const tmp = await openTemp(f);
        let res: PutResult;
        try {
          // A clone where the file system can (no data copied, no space used), else one streaming pass.
          const h = await cloneOrCopy(fh, tmp.fh, max, max, opts.onBytes);
          res = await this.settle(f, dir, tmp.name, safe, h);
        } finally {
          await unlinkQuiet(f.at(tmp.name));
        }
        if (opts.mode === 'move') {
          const kept = await this.removeVerified(src, st, f, res, opts.admit);
          if (kept) res.sourceKept = kept;
        }
        return res;
      } finally {
        await fh.close().catch(() => undefined);
      }
    });
  }

  async putTree(tree: TreeSource, dir: Key, name: string, opts: PutOptions = {}): Promise<TreeResult> {
    return within(this.top.walk(checkKey(dir)), async (f) => {
      const r = await putTreeLocal(tree, f, sanitiseName(name), { mode: opts.mode ?? 'copy', maxBytes: opts.maxBytes ?? this.maxBytes, admit: opts.admit, admitHead: opts.admitHead });
      const key = [...dir, r.name];
      return { dst: this.locate(key), key, bytes: r.bytes, files: r.files, sha256: r.sha256, deduplicated: r.deduplicated, ...(r.sourceKept && { sourceKept: r.sourceKept }) };
    });
  }

  async writeJsonExclusive(dir: Key, baseName: string, obj: unknown): Promise<Key> {
    return within(this.top.walk(checkKey(dir)), async (f) => {
      const tmp = await openTemp(f);
      try {
        await copyHashed(Readable.from([Buffer.from(`${JSON.stringify(obj, null, 2)}\n`, 'utf8')]), tmp.fh, Number.POSITIVE_INFINITY);
        for (let n = 0; n < MAX_VARIANTS; n++) {
          const final = `${baseName}${n === 0 ? '' : `_${n}`}.json`;
          if (await claim(f, tmp.name, final)) return [...dir, final];
        }
        throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${baseName}`);
      } finally {
        await unlinkQuiet(f.at(tmp.name));
      }
    });
  }

  async read(key: Key, maxBytes: number): Promise<Buffer> {
    checkKey(key);
    return this.inParent(key, async (parent, name) => {
      const fh = await fs.open(parent.at(name), READ_FLAGS).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'ELOOP' ? new StoreRefusal('a symlink') : e;
      });
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw new StoreRefusal('not a regular file');
        if (st.size > maxBytes) throw new StoreRefusal(`larger than ${maxBytes} bytes`);
        return await fh.readFile();
      } finally {
        await fh.close().catch(() => undefined);
      }
    });
  }

  async digest(key: Key, onBytes?: (done: number) => void): Promise<{ kind: 'file' | 'folder'; bytes: number; sha256: string; files?: number }> {
    checkKey(key);
    return this.inParent(key, async (parent, name) => {
      const st = await fs.lstat(parent.at(name));
      if (st.isFile()) return { kind: 'file' as const, ...(await hashIn(parent, name, onBytes)) };
      if (st.isDirectory()) return { kind: 'folder' as const, ...(await within(parent.child(name), (f) => hashTree(f, onBytes))) };
      throw new StoreRefusal('not a regular file or folder');
    });
  }

  async removeTree(key: Key): Promise<void> {
    if (checkKey(key).length === 0) throw new StoreRefusal('refusing to remove the workspaces root');
    await this.inParent(key, (parent, name) => removeTreeIn(parent, name));
  }

  async readLatest(dataset: string): Promise<string | undefined> {
    return within(this.top.child(dataset), async (f) => {
      const target = await fs.readlink(f.at('latest')).catch(() => undefined);
      if (target !== undefined) return path.basename(target.replace(/[\\/]+$/, ''));
      const fh = await fs.open(f.at('latest.txt'), READ_FLAGS).catch(() => undefined);
      if (!fh) return undefined;
      try {
        return (await fh.stat()).size < 256 ? (await fh.readFile('utf8')).trim() : undefined;
      } finally {
        await fh.close();
      }
    }).catch(() => undefined);
  }

  /**
   * `{dataset}/latest` as a relative symlink swapped atomically (temp link + rename), where the
   * file system cannot hold symlinks a `latest.txt` beside it. Readers accept both.
   */
  async writeLatest(dataset: string, runId: string): Promise<void> {
    if (!validSegment(runId)) throw new StoreRefusal(`not a run id: ${JSON.stringify(runId)}`);
    await within(this.top.child(dataset), async (f) => {
      const tmp = `.latest-${randomBytes(6).toString('hex')}`;
      try {
        await fs.symlink(runId, f.at(tmp), 'dir');
        await fs.rename(f.at(tmp), f.at('latest'));
        return;
      } catch (e) {
        await unlinkQuiet(f.at(tmp));
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOSYS' && code !== 'ENOTSUP') throw e;
      }
      const fh = await fs.open(f.at(tmp), 'wx');
      try {
        await fh.writeFile(`${runId}\n`);
      } finally {
        await fh.close();
      }
      await fs.rename(f.at(tmp), f.at('latest.txt'));
    });
  }

  runCounts(run: Key, shape: RunShape): Promise<FolderCounts> {
    return within(this.top.walk(checkKey(run)), (f) => this.index.counts(f, this.locate(run), shape));
  }

  forgetRun(run: Key): Promise<void> {
    return this.index.forget(this.locate(run));
  }

  sweepTemps(opts: { maxAgeMs?: number; maxDirs?: number; isAlive?: (pid: number) => boolean } = {}): Promise<SweepReport> {
    return sweepTemps(this.top, opts);
  }

  async close(): Promise<void> {
    await this.top.close();
  }

  /** Runs `fn` in the open parent folder of `key` with the key's last name. */
  private async inParent<T>(key: Key, fn: (parent: Folder, name: string) => Promise<T>): Promise<T> {
    const name = key[key.length - 1];
    if (name === undefined) throw new StoreRefusal('the workspaces root has no parent here');
    const parent = key.length > 1 ? await this.top.walk(key.slice(0, -1)) : this.top;
    try {
      return await fn(parent, name);
    } finally {
      if (parent !== this.top) await parent.close();
    }
  }

  /** Links the finished temp file to the first free variant of `name`, or finds the same bytes already there. */
  private async settle(f: Folder, dir: Key, tmp: string, name: string, h: Digest): Promise<PutResult> {
    for (let n = 0; n < MAX_VARIANTS; n++) {
      const final = variantName(name, n);
      if (await claim(f, tmp, final)) return this.result(dir, final, h, false);
      if (await sameContent(f, final, h)) return this.result(dir, final, h, true);
    }
    throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${name}`);
  }

  private result(dir: Key, name: string, h: Digest, deduplicated: boolean): PutResult {
    const key = [...dir, name];
    return { dst: this.locate(key), key, ...h, deduplicated };
  }

  /**
   * Same file system: a hard link gives the file its new name without copying, then the old
   * name goes. The link is made from inside the source's own folder, held open and cleared by the
   * policy, and what got linked must be the file that was opened and hashed. Null when links are
   * impossible here (another device, no hard links): copy instead.
   */
  private async moveByLink(fh: FileHandle, st: Stats, src: string | Buffer, f: Folder, dir: Key, name: string, max: number, admit?: SourceAdmission): Promise<PutResult | null> {
    const h = await hashHandle(fh, max);
    const srcStr = String(src);
    return within(Folder.open(path.dirname(srcStr)), async (from) => {
      const base = path.basename(srcStr);
      if (admit) {
        const real = await from.realPath();
        if (!real || admit(path.join(real, base))) throw new StoreRefusal('changed since it was checked');
      }
      for (let n = 0; n < MAX_VARIANTS; n++) {
        const final = variantName(name, n);
        try {
          await fs.link(from.at(base), f.at(final));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? '';
          if (NO_HARDLINKS.has(code)) return null;
          if (code !== 'EEXIST') throw e;
          const there = await fs.lstat(f.at(final)).catch(() => undefined);
          if (there && sameInode(there, st)) return { ...this.result(dir, final, h, true), sourceKept: 'source and destination are the same' };
          if (!(await sameContent(f, final, h))) continue;
          const res = this.result(dir, final, h, true);
          const kept = await removeSource(src, st, admit);
          if (kept) res.sourceKept = kept;
          return res;
        }
        // The name may have been swapped between the open and the link: keep only the file we hashed.
        const linked = await fs.lstat(f.at(final));
        if (!sameInode(linked, st)) {
          await fs.unlink(f.at(final));
          throw new StoreRefusal('changed since it was checked');
        }
        const res = this.result(dir, final, h, false);
        const kept = await removeSource(src, st, admit);
        if (kept) res.sourceKept = kept;
        return res;
      }
      throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${name}`);
    });
  }

  /** Cross-device move: the copy is re-read and must match before the source may go. */
  private async removeVerified(src: string | Buffer, st: Stats, f: Folder, res: PutResult, admit?: SourceAdmission): Promise<string | undefined> {
    const name = res.key[res.key.length - 1]!;
    const dst = await fs.lstat(f.at(name)).catch(() => undefined);
    if (dst && sameInode(dst, st)) return 'source and destination are the same';
    const again = await hashIn(f, name).catch(() => undefined);
    if (again?.sha256 !== res.sha256 || again.bytes !== res.bytes) return 'copy unverified';
    return removeSource(src, st, admit);
  }
}

function entryOf(name: string, st: Stats): Entry {
  const kind = st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
  return { name, kind, ...(kind === 'file' && { size: st.size }), mtimeMs: st.mtimeMs };
}

const isMissing = (e: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException)?.code ?? '');

export { TEMP_PREFIX };
