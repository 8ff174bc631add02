// The counts index of a run: per folder, how many files and bytes it holds, so get_workspace_info
// does not walk 100k files on every call. It is a cache, never a source of truth:
//
// - Every folder's record carries the folder's identity and mtime/ctime (ns) from a stat taken
//   *before* its listing was read. A reader stats every recorded folder and re-reads any folder
//   whose stat differs: adding, removing or renaming an entry always changes its folder's mtime,
//   and ctime cannot be set back by `touch`.
// - A folder whose mtime falls within RACY_MS of the scan is "racy" (it may change again within
//   the same timestamp tick, unseen): it is re-read on every call until it has been quiet for a
//   while. Files whose mtime is that recent may still be growing: their sizes are re-read on every
//   call rather than cached.
// - So any number of writers (our router, tools writing into the run, other processes) may work
//   concurrently with no lock: a record is only trusted while its folder is provably unchanged.
//   Writes of the persisted copy are whole-file renames; the last one wins and any of them is valid.
//
// One limit, shared with every stat-based cache: a file rewritten in place long after it was last
// written, with no entry of its folder added, removed or renamed, keeps its old size in `bytes`
// until its folder next changes. Counts are always exact.
import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import type { FolderCounts, RunShape } from './store.js';
import { Folder, within } from './local-folder.js';
import { createExclusive, READ_FLAGS } from './local-io.js';

/** A folder changed this recently may change again unseen in the same timestamp tick (ms). */
export const RACY_MS = 2_000;
/** How many newest names the `newest` folder's record keeps (manifests, for `recent`). */
export const NEWEST_KEPT = 64;
/** Runs with fewer files are cheap to rescan and are not persisted (no cache files for small runs). */
export const PERSIST_MIN_FILES = 2_000;
const STAT_BATCH = 128;

interface DirRecord {
  ino: string;
  mtime: string;
  ctime: string;
  racy: boolean;
  files: number;
  /** Bytes of files that had settled when scanned. */
  bytes: number;
  /** Files still recent when scanned: [name, size], re-stat'ed on every read. */
  hot: [string, number][];
  /** Sub-folders (real folders, never symlinks). */
  dirs: string[];
  /** The shape's `newest` folder only: its file names, newest first, at most NEWEST_KEPT. */
  newest?: string[];
  /** The `newest` folder only: `newest` holds every name of the folder. */
  complete?: boolean;
}

interface Snapshot {
  v: 1;
  runDir: string;
  dirs: Record<string, DirRecord>;
}

export interface RunIndexOptions {
  /** Where persisted snapshots live (the local store keeps them in `{root}/.aw-index`); null keeps them in memory only. */
  dir?: { root: Folder; name: string } | null;
  persistMinFiles?: number;
  now?: () => number;
}

const sameStat = (r: DirRecord, st: BigIntStats): boolean => r.ino === String(st.ino) && r.mtime === String(st.mtimeNs) && r.ctime === String(st.ctimeNs);

function isRecord(v: unknown): v is DirRecord {
  const r = v as DirRecord;
  return (
    typeof r === 'object' && r !== null && typeof r.ino === 'string' && typeof r.mtime === 'string' && typeof r.ctime === 'string' &&
    typeof r.racy === 'boolean' && Number.isSafeInteger(r.files) && Number.isSafeInteger(r.bytes) && Array.isArray(r.hot) && Array.isArray(r.dirs) &&
    r.hot.every((h) => Array.isArray(h) && typeof h[0] === 'string' && !h[0].includes('/') && !h[0].includes('\\') && h[0] !== '..' && h[0] !== '.' && Number.isSafeInteger(h[1])) && r.dirs.every((d) => typeof d === 'string' && !d.includes('/') && d !== '..' && d !== '.') &&
    (r.newest === undefined || (Array.isArray(r.newest) && r.newest.every((n) => typeof n === 'string' && !n.includes('/') && n !== '..' && n !== '.')))
  );
}

/** Per-process cache of run snapshots, backed by a folder so a new process starts warm. */
export class RunIndex {
  private readonly memory = new Map<string, Snapshot>();
  private readonly dir: { root: Folder; name: string } | null;
  private readonly persistMin: number;
  private readonly now: () => number;

  constructor(opts: RunIndexOptions = {}) {
    this.dir = opts.dir ?? null;
    this.persistMin = opts.persistMinFiles ?? PERSIST_MIN_FILES;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Recursive file counts per subfolder, total bytes and the newest manifest names of the run
   * held open as `run` (every folder below it entered by descriptor, no link followed); `id`
   * names its snapshot.
   */
  async counts(run: Folder, id: string, shape: RunShape): Promise<FolderCounts> {
    const old = this.memory.get(id) ?? (await this.load(id));
    const next: Snapshot = { v: 1, runDir: id, dirs: {} };
    const t0 = this.now();
    let changed = !old;
    const perSubdir = new Map<string, number>();
    let bytes = 0;
    // Folders are visited in parallel per subfolder; each one's records are independent.
    await Promise.all(
      shape.subfolders.map(async (s) => {
        const stack: { rel: string; folder: Folder | undefined }[] = [{ rel: s, folder: await run.child(s).catch(() => undefined) }];
        let n = 0;
        while (stack.length) {
          const { rel, folder } = stack.pop()!;
          if (!folder) {
            if (old?.dirs[rel]) changed = true;
            continue;
          }
          try {
            // A stat before the listing: a change after it moves the mtime past what we record.
            const st = await folder.statBig();
            let rec = old?.dirs[rel];
            if (!rec || rec.racy || !sameStat(rec, st)) {
              rec = await scanDir(folder, st, t0, rel === shape.newest.folder ? shape.newest.order : undefined);
              changed = true;
            }
            next.dirs[rel] = rec;
            n += rec.files;
            // Awaited before `bytes` is read: `bytes += x + await y` would lose the other walks' sums.
            const hot = await hotBytes(folder, rec.hot);
            bytes += rec.bytes + hot;
            for (const d of rec.dirs) stack.push({ rel: `${rel}/${d}`, folder: await folder.child(d).catch(() => undefined) });
          } finally {
            await folder.close();
          }
        }
        perSubdir.set(s, n);
      }),
    );
    // In the shape's order whatever order the walks finished in: the JSON a client sees is stable.
    const counts = Object.fromEntries(shape.subfolders.map((s) => [s, perSubdir.get(s) ?? 0]));
    const files = [...perSubdir.values()].reduce((a, b) => a + b, 0);
    if (old && Object.keys(old.dirs).length !== Object.keys(next.dirs).length) changed = true;
    this.memory.set(id, next);
    if (changed && this.dir && files >= this.persistMin) await this.save(next);
    const m = next.dirs[shape.newest.folder];
    return { counts, bytes, newest: { names: m?.newest ?? [], complete: m?.complete ?? true } };
  }

  /** A run was removed: drop its snapshot, in memory and on disk. */
  async forget(runDir: string): Promise<void> {
    this.memory.delete(runDir);
    if (this.dir) await this.inCache(false, (f) => fs.unlink(f.at(this.file(runDir)))).catch(() => undefined);
  }

  private file(runDir: string): string {
    return `${createHash('sha256').update(runDir).digest('hex').slice(0, 32)}.json`;
  }

  /** Runs `fn` in the cache folder, entered by descriptor (a symlink planted in its place is refused). */
  private async inCache<T>(create: boolean, fn: (f: Folder) => Promise<T>): Promise<T> {
    return within(this.dir!.root.child(this.dir!.name, create), fn);
  }

  private async load(runDir: string): Promise<Snapshot | undefined> {
    if (!this.dir) return undefined;
    try {
      const text = await this.inCache(false, async (f) => {
        const fh = await fs.open(f.at(this.file(runDir)), READ_FLAGS);
        try {
          return (await fh.stat()).isFile() ? await fh.readFile('utf8') : '';
        } finally {
          await fh.close();
        }
      });
      const v = JSON.parse(text) as Snapshot;
      // The cache folder is ours but not trusted blindly: anything malformed is ignored.
      if (v?.v !== 1 || v.runDir !== runDir || typeof v.dirs !== 'object' || v.dirs === null) return undefined;
      return Object.values(v.dirs).every(isRecord) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** Best effort: a cache that cannot be written only costs the next process a rescan. */
  private async save(s: Snapshot): Promise<void> {
    const final = this.file(s.runDir);
    const tmp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    await this.inCache(true, async (f) => {
      try {
        const fh = await createExclusive(f.at(tmp));
        try {
          await fh.writeFile(JSON.stringify(s));
        } finally {
          await fh.close();
        }
        await fs.rename(f.at(tmp), f.at(final));
      } catch {
        await fs.unlink(f.at(tmp)).catch(() => undefined);
      }
    }).catch(() => undefined);
  }
}

async function hotBytes(dir: Folder, hot: [string, number][]): Promise<number> {
  let n = 0;
  for (let i = 0; i < hot.length; i += STAT_BATCH) {
    const stats = await Promise.all(hot.slice(i, i + STAT_BATCH).map(([name]) => fs.lstat(dir.at(name)).catch(() => undefined)));
    for (const st of stats) n += st?.isFile() ? st.size : 0;
  }
  return n;
}

async function scanDir(dir: Folder, st: BigIntStats, t0: number, newestOrder?: (names: string[]) => string[]): Promise<DirRecord> {
  const rec: DirRecord = {
    ino: String(st.ino),
    mtime: String(st.mtimeNs),
    ctime: String(st.ctimeNs),
    racy: Number(st.mtimeNs / 1_000_000n) >= t0 - RACY_MS || Number(st.ctimeNs / 1_000_000n) >= t0 - RACY_MS,
    files: 0,
    bytes: 0,
    hot: [],
    dirs: [],
  };
  const entries = await dir.list().catch(() => []);
  const files: string[] = [];
  for (const d of entries) {
    if (d.isDirectory()) rec.dirs.push(d.name);
    else if (d.isFile()) files.push(d.name);
  }
  rec.files = files.length;
  // Sizes in bounded parallel batches: a cold scan of 100k files is syscall-bound, not CPU-bound.
  for (let i = 0; i < files.length; i += STAT_BATCH) {
    const batch = files.slice(i, i + STAT_BATCH);
    const stats = await Promise.all(batch.map((n) => fs.lstat(dir.at(n)).catch(() => undefined)));
    stats.forEach((fst, j) => {
      if (!fst) return;
      if (fst.mtimeMs >= t0 - RACY_MS || fst.ctimeMs >= t0 - RACY_MS) rec.hot.push([batch[j]!, fst.size]);
      else rec.bytes += fst.size;
    });
  }
  if (newestOrder) {
    const all = newestOrder(files);
    rec.newest = all.slice(0, NEWEST_KEPT);
    rec.complete = all.length <= NEWEST_KEPT;
  }
  return rec;
}
