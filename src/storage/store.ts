// The store: the one seam through which every byte, folder and name of the workspaces is read or
// written. Workspace layout, manifests, routing, resources and the CLI name places by key
// (segments below the workspaces root) and never touch a file system themselves, so a second
// backend (an S3-compatible object store) replaces the local one without touching them.
// Sources (the files a tool made) are not workspace I/O: the store reads them from local paths
// the source policy has cleared, and checks what it opened against that policy again.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** A place in the store, as path segments below the workspaces root: `[dataset, run_id, subdir, name]`. */
export type Key = readonly string[];

/**
 * The shape of a run as far as counting it goes, given by the workspace layer: the subfolders to
 * count, and the one whose newest file names are wanted (in the order `order` gives, newest first).
 */
export interface RunShape {
  subfolders: readonly string[];
  newest: { folder: string; order(names: string[]): string[] };
}

/** Files (recursive) per subfolder, total bytes, and the newest names of the `newest` folder. */
export interface FolderCounts {
  counts: Record<string, number>;
  bytes: number;
  newest: { names: string[]; complete: boolean };
}

/** 10 GiB: the default size cap of one artifact (a file, or a folder's total). */
export const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;

/**
 * The source policy as the store applies it to what it actually opened: the real path of the
 * open file (read back from its descriptor), or null when it may be read, else the reason.
 */
export type SourceAdmission = (realPath: string) => string | null;

export interface PutOptions {
  /** `move` removes the source once a verified copy exists; never the only copy. */
  mode?: 'copy' | 'move';
  /** Size cap in bytes; over it nothing is stored (default: the store's cap). */
  maxBytes?: number;
  /**
   * The identity the source had when the policy checked it. The store refuses to read a
   * different file (a path swapped for a symlink or a device between check and copy).
   */
  expect?: { dev: number; ino: number };
  /** Checked on the real path of every source file the store opens (a file, or each member of a folder). */
  admit?: SourceAdmission;
  /** Checked on the first bytes (up to HEAD_BYTES) of every source file before any is stored: null, or why not. */
  admitHead?: (head: Buffer) => string | null;
  /** Told the running total of bytes stored so far (a long copy's progress). */
  onBytes?: (done: number) => void;
}

export interface PutResult {
  /** Where the bytes are now, as manifests record it (see WorkspaceStore.locate). */
  dst: string;
  key: Key;
  bytes: number;
  /** sha256 of the file; for a folder, the tree digest (see treeDigest). */
  sha256: string;
  /** The same content was already stored there; nothing new was written. */
  deduplicated: boolean;
  /** Move only: why the source was kept (the copy could not be verified, or it is the destination). */
  sourceKept?: string;
}

export interface TreeResult extends PutResult {
  files: number;
}

/** One regular file of a folder artifact, as the policy's scan found it. */
export interface TreeFile {
  /** Path segments below the folder, as the file system names them (unsanitised, maybe lossy). */
  rel: string[];
  /** Real path to read (the target of a symlinked member); a Buffer when not valid UTF-8. */
  src: string | Buffer;
  /** The member's own path inside the folder (what a move removes). */
  entry: string | Buffer;
  dev: number;
  ino: number;
  size: number;
}

export interface TreeDir {
  rel: string[];
  entry: string | Buffer;
}

/** A folder artifact: every member already cleared by the source policy. */
export interface TreeSource {
  /** Real path of the folder. */
  root: string;
  files: TreeFile[];
  /** Every sub-folder (empty ones too), parents before children. */
  dirs: TreeDir[];
  bytes: number;
}

/** How much of each source file `admitHead` sees. */
export const HEAD_BYTES = 64 * 1024;

export type ByteSource = Buffer | Readable | Iterable<Buffer> | AsyncIterable<Buffer | Uint8Array>;

/** What is at a key. */
export interface Entry {
  name: string;
  kind: 'file' | 'folder' | 'other';
  /** Files: size in bytes. */
  size?: number;
  mtimeMs?: number;
}

export interface SweepReport {
  removed: string[];
  /** Temps left in place (their writer is alive and they are young). */
  kept: number;
  dirs: number;
  /** The folder bound was hit. */
  truncated: boolean;
  /** Folders or temps that could not be read or removed (left for the next sweep). */
  errors: number;
}

export interface WorkspaceStore {
  /** Where the workspaces are, as people see it: an absolute folder, or `s3://bucket/prefix`. */
  readonly root: string;
  /** The default size cap per artifact, in bytes. */
  readonly maxBytes: number;
  /**
   * Who this root is, as an opaque string two processes compare to learn whether they share it
   * (README "Chaining"): equal only for one folder on one machine. Says nothing of its path.
   */
  readonly identity: string;

  /** Where a key is, as manifests record it and people read it (an absolute path, or an s3:// URI). */
  locate(key: Key): string;
  /** The resource URI of a key (`file://…` or `s3://…`). */
  uri(key: Key): string;
  /** The key a location or URI names, when it names a place below the root (lexically); else undefined. */
  keyOf(locationOrUri: string): Key | undefined;

  /** Makes the folder `key` if it is not there; false when it was (a run id is claimed this way). */
  createFolder(key: Key): Promise<boolean>;
  /** Makes the folder and any missing parents below the root; refuses any that is not a plain folder. */
  ensureFolder(key: Key): Promise<void>;
  /** What is at `key`, without following a symlink anywhere below the root; undefined when nothing. */
  stat(key: Key): Promise<Entry | undefined>;
  /** The entries of a folder (unsorted; store temps and hidden files left out); [] when it is not one. */
  list(key: Key): Promise<Entry[]>;
  /** Sizes of the named files of one folder, in order (0 for one that is gone). */
  sizes(dir: Key, names: readonly string[]): Promise<number[]>;

  putFile(src: string | Buffer, dir: Key, name: string, opts?: PutOptions): Promise<PutResult>;
  putBytes(data: ByteSource, dir: Key, name: string, opts?: Pick<PutOptions, 'maxBytes'>): Promise<PutResult>;
  putTree(tree: TreeSource, dir: Key, name: string, opts?: PutOptions): Promise<TreeResult>;
  /** Writes `{baseName}.json`, or `{baseName}_{n}.json` when taken; never overwrites. Returns its key. */
  writeJsonExclusive(dir: Key, baseName: string, obj: unknown): Promise<Key>;

  /** A regular file's bytes, up to `maxBytes` (over it: a StoreRefusal naming the size). */
  read(key: Key, maxBytes: number): Promise<Buffer>;
  /** Size and sha256 of a file, or a folder's tree digest and file count, read from the store. */
  digest(key: Key, onBytes?: (done: number) => void): Promise<{ kind: 'file' | 'folder'; bytes: number; sha256: string; files?: number }>;
  /** Removes a folder and everything below it; never follows a link out of it. */
  removeTree(key: Key): Promise<void>;

  /** The run id `{dataset}/latest` names, or undefined. */
  readLatest(dataset: string): Promise<string | undefined>;
  /**
   * Points `{dataset}/latest` at `runId`. With `order` (run ids, oldest first), a store that can
   * compare and swap moves it only forward: a pointer already at a newer run stays.
   */
  writeLatest(dataset: string, runId: string, order?: (a: string, b: string) => number): Promise<void>;

  /** File counts and bytes per subfolder of a run, and the newest names of one of them. */
  runCounts(run: Key, shape: RunShape): Promise<FolderCounts>;
  /** A run was removed: drop what is cached about it. */
  forgetRun(run: Key): Promise<void>;
  /** Removes temp files that writers killed mid-write left behind; never a live writer's. */
  sweepTemps(opts?: { maxAgeMs?: number; maxDirs?: number; isAlive?: (pid: number) => boolean }): Promise<SweepReport>;
  /** Releases what the store holds open. */
  close(): Promise<void>;
}

/** A refusal the router reports as a skip reason (the message is the reason). */
export class StoreRefusal extends Error {
  override name = 'StoreRefusal';
}

export const sizeCapReason = (maxBytes: number): string => `larger than the size cap (${maxBytes} bytes)`;

/**
 * The digest of a folder: sha256 over its files' `relative-path NUL sha256 LF` lines, sorted by
 * their UTF-8 bytes, with `/` as the separator whatever the platform. `verify` recomputes it.
 */
export function treeDigest(files: Iterable<{ rel: string; sha256: string }>): string {
  const lines = [...files].map((f) => Buffer.from(`${f.rel}\0${f.sha256}\n`, 'utf8')).sort(Buffer.compare);
  const h = createHash('sha256');
  for (const l of lines) h.update(l);
  return h.digest('hex');
}

/** A key segment: one name, never a separator, `.`, `..` or NUL. */
export function validSegment(s: unknown): s is string {
  return typeof s === 'string' && s !== '' && s !== '.' && s !== '..' && !/[/\\\0]/.test(s);
}

export function checkKey(key: Key): Key {
  if (!Array.isArray(key) || !key.every(validSegment)) throw new StoreRefusal(`not a workspace key: ${JSON.stringify(key)}`);
  return key;
}
