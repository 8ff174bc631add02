// Where artifact bytes are kept. Routing and manifests talk to this interface only, so a second
// backend (an S3-compatible object store is planned) can replace the local file system.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** 10 GiB: the default size cap of one artifact (a file, or a folder's total). */
export const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;

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
  /** Told the running total of bytes stored so far (a long copy's progress). */
  onBytes?: (done: number) => void;
}

export interface PutResult {
  /** Absolute path (or key) where the bytes are now. */
  dst: string;
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

export type ByteSource = Buffer | Readable | Iterable<Buffer> | AsyncIterable<Buffer | Uint8Array>;

export interface ArtifactStore {
  /** The default size cap per artifact, in bytes. */
  readonly maxBytes: number;
  putFile(src: string | Buffer, destDir: string, name: string, opts?: PutOptions): Promise<PutResult>;
  putBytes(data: ByteSource, destDir: string, name: string, opts?: Pick<PutOptions, 'maxBytes'>): Promise<PutResult>;
  putTree(tree: TreeSource, destDir: string, name: string, opts?: PutOptions): Promise<TreeResult>;
  /** Writes `{baseName}.json`, or `{baseName}_{n}.json` when taken; never overwrites. Returns the path. */
  writeJsonExclusive(dir: string, baseName: string, obj: unknown): Promise<string>;
  /** Removes temp files older than `olderThanMs` left by crashed writers; returns how many. */
  sweepTemp(dir: string, olderThanMs?: number): Promise<number>;
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
