// A folder held open by descriptor, so that every name looked up in it is looked up in that very
// folder, whatever is renamed, removed or swapped for a symlink above it afterwards. On Linux a
// path through `/proc/self/fd/N/` starts at the open folder N: it is openat() for APIs that only
// take paths. Each step down opens the child with O_NOFOLLOW|O_DIRECTORY relative to its parent,
// so no symlink is followed anywhere below the folder the walk started from.
//
// Where there is no /proc (macOS, Windows) the folder is named by its path, and each step is
// checked with lstat and realpath instead: the same refusals, but a swap between the check and
// the use is not ruled out there (README, "Security model").
import { existsSync, constants as C, type BigIntStats, type Dirent, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { StoreRefusal, validSegment } from './store.js';

/** Whether descriptor-relative paths work here. */
export const PINNED = process.platform === 'linux' && existsSync('/proc/self/fd');

const NOFOLLOW = C.O_NOFOLLOW ?? 0;
const DIRECTORY = C.O_DIRECTORY ?? 0;
const DIR_FLAGS = C.O_RDONLY | DIRECTORY | NOFOLLOW;

/** The path of an open descriptor itself: no lookup a symlink could redirect. */
export const fdPath = (fh: FileHandle): string => `/proc/self/fd/${fh.fd}`;

/** The real path of what a descriptor holds open (Linux), or undefined where that cannot be read. */
export async function openedPath(fh: FileHandle): Promise<string | undefined> {
  if (!PINNED) return undefined;
  const p = await fs.readlink(fdPath(fh)).catch(() => undefined);
  // A file unlinked since it was opened reads as "… (deleted)": not a place the policy can judge.
  return p === undefined || p.endsWith(' (deleted)') ? undefined : p;
}

export class Folder {
  private constructor(
    /** The open folder (undefined where there is no /proc). */
    private readonly fh: FileHandle | undefined,
    /** Its path when it was opened, for messages and for the fallback. */
    readonly shown: string,
  ) {}

  /** Opens an existing folder by path (the root of a walk: symlinks in `abs` itself are followed). */
  static async open(abs: string): Promise<Folder> {
    if (!PINNED) {
      const st = await fs.stat(abs);
      if (!st.isDirectory()) throw Object.assign(new Error(`not a folder: ${abs}`), { code: 'ENOTDIR' });
      return new Folder(undefined, abs);
    }
    return new Folder(await fs.open(abs, C.O_RDONLY | DIRECTORY), abs);
  }

  /** A name inside this folder, as a path the fs APIs take. `name` is one segment. */
  at(name: string | Buffer): string | Buffer {
    if (typeof name === 'string' ? !validSegment(name) : name.length === 0 || name.includes(0x2f) || name.includes(0)) {
      throw new StoreRefusal(`not a plain name: ${JSON.stringify(String(name))}`);
    }
    const base = this.fh ? fdPath(this.fh) : this.shown;
    return typeof name === 'string' ? `${base}/${name}` : Buffer.concat([Buffer.from(`${base}/`), name]);
  }

  /** The folder itself, as a path (readdir, stat). */
  get self(): string {
    return this.fh ? fdPath(this.fh) : this.shown;
  }

  /**
   * The child folder `name`, made first when `create` (an existing one is fine). A symlink, a
   * file or anything else standing there is refused: never followed.
   */
  async child(name: string | Buffer, create = false): Promise<Folder> {
    const p = this.at(name);
    const shown = path.join(this.shown, String(name));
    if (create) {
      await fs.mkdir(p).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }
    if (!this.fh) {
      const st = await fs.lstat(p);
      if (!st.isDirectory()) throw notPlain(shown);
      if ((await fs.realpath(p)) !== path.join(await fs.realpath(this.shown), String(name))) throw notPlain(shown);
      return new Folder(undefined, shown);
    }
    try {
      return new Folder(await fs.open(p, DIR_FLAGS), shown);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR') throw notPlain(shown);
      throw e;
    }
  }

  /** A second handle on this very folder (closing one leaves the other open). */
  async dup(): Promise<Folder> {
    // The descriptor's own path: a magic link that resolves to the open folder itself.
    return this.fh ? new Folder(await fs.open(fdPath(this.fh), C.O_RDONLY | DIRECTORY), this.shown) : new Folder(undefined, this.shown);
  }

  /** Walks down `segments` (each a plain folder, made when `create`); closes the folders in between. The result is the caller's to close. */
  async walk(segments: readonly string[], create = false): Promise<Folder> {
    if (segments.length === 0) return this.dup();
    let cur = await this.child(segments[0]!, create);
    try {
      for (const s of segments.slice(1)) {
        const next: Folder = await cur.child(s, create);
        await cur.close();
        cur = next;
      }
      return cur;
    } catch (e) {
      await cur.close();
      throw e;
    }
  }

  /** Entries, with their types as lstat sees them (symlinks are symlinks). */
  list(): Promise<Dirent[]> {
    return fs.readdir(this.self, { withFileTypes: true });
  }

  /** Entry names as bytes (names that are not valid UTF-8 survive). */
  listRaw(): Promise<Buffer[]> {
    return fs.readdir(this.self, { encoding: 'buffer' });
  }

  /** Where the open folder is now (read back from its descriptor; by path where there is no /proc). */
  async realPath(): Promise<string | undefined> {
    return this.fh ? openedPath(this.fh) : fs.realpath(this.shown).catch(() => undefined);
  }

  stat(): Promise<Stats> {
    return this.fh ? this.fh.stat() : fs.lstat(this.shown);
  }

  statBig(): Promise<BigIntStats> {
    return this.fh ? this.fh.stat({ bigint: true }) : fs.lstat(this.shown, { bigint: true });
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
  }
}

const notPlain = (shown: string): StoreRefusal => new StoreRefusal(`${shown} is not a plain folder (a symlink or a file stands there)`);

/** Runs `fn` with a folder, closing it after. */
export async function within<T>(folder: Promise<Folder>, fn: (f: Folder) => Promise<T>): Promise<T> {
  const f = await folder;
  try {
    return await fn(f);
  } finally {
    await f.close();
  }
}

/**
 * Removes `name` inside `parent` and, if it is a folder, everything below it: each level is opened
 * by descriptor without following links, so a folder swapped for a symlink mid-removal loses only
 * the link. Names are handled as bytes. Missing entries are fine.
 */
export async function removeTreeIn(parent: Folder, name: string | Buffer, depth = 0): Promise<void> {
  const p = parent.at(name);
  const st = await fs.lstat(p).catch(() => undefined);
  if (!st) return;
  if (!st.isDirectory()) {
    await fs.unlink(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    return;
  }
  if (depth > 256) throw new StoreRefusal('folder nested deeper than 256 levels');
  let dir: Folder;
  try {
    dir = await parent.child(name);
  } catch (e) {
    // Swapped for a symlink or a file since the lstat: remove that entry itself, never its target.
    if (e instanceof StoreRefusal) return fs.unlink(p);
    throw e;
  }
  try {
    for (const n of await dir.listRaw()) await removeTreeIn(dir, n, depth + 1);
  } finally {
    await dir.close();
  }
  await fs.rmdir(p).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}
