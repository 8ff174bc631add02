// File primitives of the local store: exclusive temp files, the one double-buffered read loop
// (copy+hash, or hash alone), clones, claiming a final name without ever overwriting one, and
// opening a source so that what is read is what the policy cleared. Workspace-side names are
// always looked up inside an open Folder (./local-folder.ts).
import { createHash, randomBytes } from 'node:crypto';
import { constants as C, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HEAD_BYTES, sizeCapReason, StoreRefusal, type ByteSource, type SourceAdmission } from './store.js';
import { fdPath, openedPath, PINNED, type Folder } from './local-folder.js';

export const TEMP_PREFIX = '.aw-tmp-';

/** Told the running total of bytes copied (or hashed) so far, after each chunk. */
export type OnBytes = (done: number) => void;
export type Digest = { bytes: number; sha256: string };

// Windows lacks O_NOFOLLOW / O_NONBLOCK; there the lstat checks of the policy are the guard.
const NOFOLLOW = C.O_NOFOLLOW ?? 0;
const NONBLOCK = C.O_NONBLOCK ?? 0;
/** Never follow a symlink at the leaf, never block on a FIFO swapped in after the policy check. */
export const READ_FLAGS = C.O_RDONLY | NOFOLLOW | NONBLOCK;
const CREATE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | NOFOLLOW;

/**
 * `.aw-tmp-<pid>-<random>`: the writer's pid lets the startup sweep (./local-sweep.ts) tell a temp
 * left by a killed process from one a live process is still writing.
 */
export const tempName = (pid: number = process.pid): string => `${TEMP_PREFIX}${pid}-${randomBytes(8).toString('hex')}`;

/** Creates a file that did not exist before (O_EXCL fails on anything there, dangling symlinks included). */
export function createExclusive(file: string | Buffer): Promise<FileHandle> {
  return fs.open(file, CREATE_FLAGS, 0o644);
}

export async function openTemp(dir: Folder): Promise<{ name: string; fh: FileHandle }> {
  const name = tempName();
  return { name, fh: await createExclusive(dir.at(name)) };
}

/** Counts and hashes the bytes passing through; stops the stream once the cap is crossed. */
export class HashCounter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  /** `reportedCap`: the cap named in the refusal (a folder's total, when `maxBytes` is what is left of it). */
  constructor(
    private readonly maxBytes: number,
    private readonly reportedCap = maxBytes,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return cb(new StoreRefusal(sizeCapReason(this.reportedCap)));
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

async function writeAt(fh: FileHandle, chunk: Buffer, pos: number | null): Promise<void> {
  let off = 0;
  while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off, pos === null ? null : pos + off)).bytesWritten;
}

/** A sink that writes to `fh` and fsyncs before finishing, so a renamed file is a whole file. */
function fileSink(fh: FileHandle): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      writeAt(fh, chunk, null).then(() => cb(), cb);
    },
    final(cb) {
      fh.sync().then(() => cb(), cb);
    },
  });
}

export function toReadable(data: ByteSource): Readable {
  if (Buffer.isBuffer(data)) return Readable.from([data]);
  if (data instanceof Readable) return data;
  return Readable.from(data as Iterable<Buffer> | AsyncIterable<Buffer>);
}

/** One pass: copies a stream into `fh` and hashes it at once. Closes `fh`. */
export async function copyHashed(src: Readable, fh: FileHandle, maxBytes: number, reportedCap = maxBytes): Promise<Digest> {
  const counter = new HashCounter(maxBytes, reportedCap);
  try {
    await pipeline(src, counter, fileSink(fh));
  } finally {
    await fh.close().catch(() => undefined);
  }
  return { bytes: counter.bytes, sha256: counter.hash.digest('hex') };
}

/**
 * Read size of file-to-file copies: 2 MiB reads amortise the thread-pool round trip per syscall
 * (64 KiB stream chunks cost ~30% on a 1 GiB copy) while SLOTS buffers keep memory at 8 MiB.
 */
export const COPY_CHUNK = 2 * 1024 * 1024;
/** Writeback is started every 64 MiB written, so the fsync before the rename has little left to do. */
const FLUSH_EVERY = 64 * 1024 * 1024;

/** Marks a promise as handled now (it is awaited later): a failure must not count as unhandled meanwhile. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Buffers of the read loop: one being read, one being hashed, the rest being written. */
const SLOTS = 4;

/**
 * The one read loop: reads `src` from its start into SLOTS reused buffers and hands each chunk to
 * `sink` (if any), so the next read, the hashing of this chunk (on this thread) and the writes of
 * the chunks before it (in the thread pool, at their own offsets) all run at once: a copy costs
 * about as long as hashing alone, not hashing plus the I/O. A buffer is read into again only once
 * its write is done. The cap stops reading early.
 */
async function pump(src: FileHandle, o: { maxBytes: number; reportedCap: number; onBytes?: OnBytes; sink?: (chunk: Buffer, at: number) => Promise<void> }): Promise<Digest> {
  const hash = createHash('sha256');
  const bufs = Array.from({ length: o.sink ? SLOTS : 2 }, () => Buffer.allocUnsafe(COPY_CHUNK));
  const writes: Promise<void>[] = bufs.map(() => Promise.resolve());
  let pos = 0;
  let cur = 0;
  try {
    let reading: Promise<{ bytesRead: number }> = later(src.read(bufs[0]!, 0, COPY_CHUNK, 0));
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      if (pos + bytesRead > o.maxBytes) throw new StoreRefusal(sizeCapReason(o.reportedCap));
      const chunk = bufs[cur]!.subarray(0, bytesRead);
      const at = pos;
      pos += bytesRead;
      // The next buffer is free once the write that last used it is done.
      const next = (cur + 1) % bufs.length;
      await writes[next];
      reading = later(src.read(bufs[next]!, 0, COPY_CHUNK, pos));
      // The write starts first and runs in the pool while this thread hashes the same, unchanging
      // bytes: what is hashed is what is stored.
      if (o.sink) writes[cur] = later(o.sink(chunk, at));
      hash.update(chunk);
      o.onBytes?.(pos);
      cur = next;
    }
    await Promise.all(writes);
  } finally {
    // Pending writes must settle before their handle closes (they are awaited above on success).
    await Promise.allSettled(writes);
  }
  return { bytes: pos, sha256: hash.digest('hex') };
}

/** One pass, file to file: copies and hashes, fsyncs and closes `dst`. */
export async function copyFileHashed(src: FileHandle, dst: FileHandle, maxBytes: number, reportedCap = maxBytes, onBytes?: OnBytes): Promise<Digest> {
  let flushing: Promise<void> | undefined;
  let flushedAt = 0;
  try {
    const d = await pump(src, {
      maxBytes,
      reportedCap,
      onBytes,
      sink: async (chunk, at) => {
        await writeAt(dst, chunk, at);
        // Start writeback of what is written so far while hashing goes on, so the final fsync
        // finds little left to flush (one flush at a time; the copy does not wait for it).
        if (at + chunk.length - flushedAt >= FLUSH_EVERY && flushing === undefined) {
          flushedAt = at + chunk.length;
          flushing = later(dst.datasync()).finally(() => (flushing = undefined));
        }
      },
    });
    await flushing;
    await dst.sync();
    return d;
  } finally {
    await flushing?.catch(() => undefined);
    await dst.close().catch(() => undefined);
  }
}

/** sha256 and size of an open file, read from its start. */
export function hashHandle(fh: FileHandle, maxBytes = Number.POSITIVE_INFINITY, reportedCap = maxBytes, onBytes?: OnBytes): Promise<Digest> {
  return pump(fh, { maxBytes, reportedCap, onBytes });
}

/** Errors that mean "this file system (or this pair of files) cannot clone": copy instead. */
export const NO_CLONE = new Set(['EXDEV', 'EOPNOTSUPP', 'ENOTSUP', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EPERM', 'EBADF', 'ENOENT', 'EACCES']);

/**
 * Copy-on-write clone of `src` into the temp file `dst` (XFS with reflink, btrfs, …): the data
 * blocks are shared, so the copy costs no data I/O and no space. Both files are named through
 * /proc/self/fd, so the clone is of the very file that was opened and checked, and lands in the
 * very temp file we created. The stored bytes are then hashed from the clone, one read: what is
 * hashed is what is stored, whatever happens to the source afterwards. Null when cloning is not
 * possible here; `dst` is then untouched (still empty) and open for the streaming copy.
 */
export async function cloneHashed(src: FileHandle, dst: FileHandle, maxBytes: number, reportedCap = maxBytes, onBytes?: OnBytes): Promise<Digest | null> {
  if (!PINNED) return null;
  try {
    await fs.copyFile(fdPath(src), fdPath(dst), C.COPYFILE_FICLONE_FORCE);
  } catch (e) {
    if (NO_CLONE.has((e as NodeJS.ErrnoException).code ?? '')) {
      await dst.truncate(0);
      return null;
    }
    throw e;
  }
  // copyFile gives the clone the source's mode; stored files have one mode whichever path made them.
  await dst.chmod(0o644);
  await dst.sync();
  const rd = await fs.open(fdPath(dst), C.O_RDONLY);
  try {
    return await hashHandle(rd, maxBytes, reportedCap, onBytes);
  } finally {
    await rd.close().catch(() => undefined);
  }
}

/** A file's bytes into a new file: cloned where possible, else copied in one pass; hashed either way. Closes `dst`. */
export async function cloneOrCopy(src: FileHandle, dst: FileHandle, maxBytes: number, reportedCap = maxBytes, onBytes?: OnBytes): Promise<Digest> {
  let cloned: Digest | null;
  try {
    cloned = await cloneHashed(src, dst, maxBytes, reportedCap, onBytes);
  } catch (e) {
    await dst.close().catch(() => undefined);
    throw e;
  }
  if (!cloned) return copyFileHashed(src, dst, maxBytes, reportedCap, onBytes);
  await dst.close();
  return cloned;
}

/** sha256 and size of the regular file `name` in `dir`, without following a symlink. */
export async function hashIn(dir: Folder, name: string, onBytes?: OnBytes): Promise<Digest> {
  const fh = await fs.open(dir.at(name), READ_FLAGS);
  try {
    if (!(await fh.stat()).isFile()) throw new StoreRefusal('not a regular file');
    return await hashHandle(fh, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, onBytes);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** True when `name` in `dir` is a regular file holding exactly these bytes. */
export async function sameContent(dir: Folder, name: string, d: Digest): Promise<boolean> {
  const st = await fs.lstat(dir.at(name)).catch(() => undefined);
  if (!st?.isFile() || st.size !== d.bytes) return false;
  return (await hashIn(dir, name).catch(() => undefined))?.sha256 === d.sha256;
}

/** Errors that mean "no hard link possible here" rather than a real failure. */
export const NO_HARDLINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

/**
 * Gives the temp `tmp` the name `final` in `dir` only if `final` is free: link() fails with
 * EEXIST instead of overwriting, so two writers can never clobber each other. Where hard links are
 * unsupported, an exclusively created placeholder reserves the name before the rename. False when taken.
 */
export async function claim(dir: Folder, tmp: string, final: string): Promise<boolean> {
  try {
    await fs.link(dir.at(tmp), dir.at(final));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARDLINKS.has(code)) throw e;
    try {
      await (await createExclusive(dir.at(final))).close();
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
    await fs.rename(dir.at(tmp), dir.at(final));
    return true;
  }
  await fs.unlink(dir.at(tmp));
  return true;
}

export async function unlinkQuiet(p: string | Buffer): Promise<void> {
  await fs.unlink(p).catch(() => undefined);
}

/** Same file system object (used to refuse deleting a source that is the destination). */
export const sameInode = (a: Pick<Stats, 'dev' | 'ino'>, b: Pick<Stats, 'dev' | 'ino'>): boolean => a.dev === b.dev && a.ino === b.ino;

/**
 * Opens a source for reading and refuses anything but the regular file the policy cleared: the
 * leaf is opened without following a symlink and without blocking on a FIFO, the open file must
 * be the one the policy saw (`expect`), and the real path of what is actually open (read back
 * from the descriptor, so no later lookup can differ) must pass `admit`. A folder on the path
 * swapped for a symlink between the check and the open is caught here.
 */
export async function openSource(
  src: string | Buffer,
  expect?: { dev: number; ino: number },
  admit?: SourceAdmission,
  admitHead?: (head: Buffer) => string | null,
): Promise<{ fh: FileHandle; st: Stats }> {
  let fh: FileHandle;
  try {
    fh = await fs.open(src, READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new StoreRefusal('changed since it was checked (now a symlink)');
    if (code === 'ENOENT') throw new StoreRefusal('does not exist');
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new StoreRefusal('not a regular file');
    if (expect && !sameInode(st, expect)) throw new StoreRefusal('changed since it was checked');
    if (admit && PINNED) {
      const real = await openedPath(fh);
      const why = real === undefined ? 'changed since it was checked (no longer on disk)' : admit(real);
      if (why) throw new StoreRefusal(`changed since it was checked (${why})`);
    }
    if (admitHead) {
      const head = Buffer.alloc(Math.min(HEAD_BYTES, st.size));
      const { bytesRead } = head.length ? await fh.read(head, 0, head.length, 0) : { bytesRead: 0 };
      const why = admitHead(head.subarray(0, bytesRead));
      if (why) throw new StoreRefusal(why);
    }
    return { fh, st };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}
