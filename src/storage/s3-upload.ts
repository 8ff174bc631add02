// One artifact's bytes into S3, read once: each chunk read from the source goes through SHA-256
// and into the upload. Up to one part size, a single PUT (the digest known before it is sent, so
// it goes into the object's metadata); above it, a multipart upload whose parts are sent in
// parallel, `queue` at a time, so memory stays about (queue + 1) × part size whatever the file's
// size. Nothing is visible under the final key until the upload completes; a failure aborts it.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { sizeCapReason, StoreRefusal } from './store.js';

export interface UploadTarget {
  bucket: string;
  key: string;
  /** The name claim's token: the object carries it, so a write of ours is told from another's. */
  token?: string;
}

/** A failed upload: `settled` when nothing of it can still appear under the key (its name may be given back). */
export class UploadFailure extends StoreRefusal {
  constructor(
    message: string,
    readonly settled: boolean,
  ) {
    super(message);
  }
}

const fail = (e: StoreRefusal, settled: boolean): UploadFailure => {
  const out = new UploadFailure(e.message, settled);
  (out as { cause?: unknown }).cause = (e as { cause?: unknown }).cause ?? e;
  return out;
};

/** A definite refusal (4xx but timeout and throttling): the request did nothing. */
const definite = (e: unknown): boolean => {
  const s = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429;
};

/** CopyObject's limit: larger objects keep their digest in the manifest only. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;

export type UploadSource = { fh: FileHandle; size: number } | { stream: Readable };

export interface UploadOptions {
  partBytes: number;
  queue: number;
  maxBytes: number;
  onBytes?: (done: number) => void;
  /** Records who is uploading (for the sweep); returns how to drop that record. */
  lease(uploadId: string): Promise<() => Promise<void>>;
  reason(e: unknown): StoreRefusal;
  /**
   * Asked once the digest is known, before anything becomes visible: a name that already holds
   * these bytes (then nothing is stored and the upload is aborted), or undefined to go on.
   */
  beforeComplete?(d: { bytes: number; sha256: string }): Promise<string | undefined>;
}

export interface Uploaded {
  bytes: number;
  sha256: string;
  /** The bytes were already stored under this name; nothing new was written. */
  same?: string;
  /** False when another writer's object was found under the key (a conditional write lost): nothing of ours is there. */
  landed?: boolean;
  parts: number;
}

/** Metadata on every object: the digest and size, as the manifest records them. */
export const metadataOf = (d: { bytes: number; sha256: string }): Record<string, string> => ({ sha256: d.sha256, bytes: String(d.bytes) });

/** Fills `buf` from the source; the count read (less than its length only at the end). */
type Reader = (buf: Buffer) => Promise<number>;

function readerOf(src: UploadSource): Reader {
  if ('fh' in src) {
    let pos = 0;
    return async (buf) => {
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await src.fh.read(buf, got, buf.length - got, pos);
        if (bytesRead === 0) break;
        got += bytesRead;
        pos += bytesRead;
      }
      return got;
    };
  }
  const it = src.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | Uint8Array | string>;
  let rest: Buffer | undefined;
  let done = false;
  return async (buf) => {
    let got = 0;
    while (got < buf.length) {
      if (!rest || rest.length === 0) {
        if (done) break;
        const r = await it.next();
        if (r.done) {
          done = true;
          break;
        }
        rest = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      }
      const n = Math.min(rest.length, buf.length - got);
      rest.copy(buf, got, 0, n);
      rest = rest.subarray(n);
      got += n;
    }
    return got;
  };
}

export async function uploadHashed(client: S3Client, target: UploadTarget, src: UploadSource, o: UploadOptions): Promise<Uploaded> {
  try {
    return await upload(client, target, src, o);
  } finally {
    // A producer writing into a stream we stopped reading must not wait forever.
    if ('stream' in src && !src.stream.readableEnded) src.stream.destroy();
  }
}

/** Reads fill buffers; a failure of the source is said as such, not as an S3 failure. */
function sourceRead(read: Reader): Reader {
  return async (buf) => {
    try {
      return await read(buf);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UploadFailure(`reading the source failed (${code ?? (e as Error).message})`, true);
    }
  };
}

async function upload(client: S3Client, target: UploadTarget, src: UploadSource, o: UploadOptions): Promise<Uploaded> {
  const read = sourceRead(readerOf(src));
  const hash = createHash('sha256');
  const part = Math.max(o.partBytes, 'size' in src ? Math.ceil(src.size / 9000) : 0);
  // The first part decides: a source that ends within it is one PUT.
  const first = Buffer.allocUnsafe(part + 1);
  const n0 = await read(first);
  if (n0 > o.maxBytes) throw new UploadFailure(sizeCapReason(o.maxBytes), true);
  if (n0 <= part) {
    const body = first.subarray(0, n0);
    hash.update(body);
    const d = { bytes: n0, sha256: hash.digest('hex') };
    const same = await o.beforeComplete?.(d);
    if (same !== undefined) return { ...d, same, parts: 0 };
    const token = target.token;
    try {
      // Conditional: whatever happened to the claim, an object already there is never replaced.
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: body, ContentLength: n0, Metadata: { ...metadataOf(d), ...(token && { token }) }, ...(token && { IfNoneMatch: '*' }) }));
    } catch (e) {
      if (token && isLost(e)) return { ...d, parts: 1, landed: (await tokenAt(client, target)) === token };
      throw fail(o.reason(e), definite(e));
    }
    o.onBytes?.(n0);
    return { ...d, parts: 1 };
  }
  let uploadId: string;
  try {
    uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: target.key }))).UploadId!;
  } catch (e) {
    // An upload that may have been created but is unknown to us is invisible; the sweep has no lease for it.
    throw fail(o.reason(e), true);
  }
  let release: (() => Promise<void>) | undefined;
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failed: unknown;
  let sent = 0;
  let completing = false;
  try {
    release = await o.lease(uploadId);
    let total = 0;
    let number = 0;
    const send = (body: Buffer) => {
      const PartNumber = ++number;
      const p = client
        .send(new UploadPartCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId, PartNumber, Body: body, ContentLength: body.length }))
        .then((r) => {
          parts.push({ PartNumber, ETag: r.ETag });
          sent += body.length;
          o.onBytes?.(sent);
        })
        .catch((e: unknown) => {
          failed ??= e;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    // The first buffer holds part + 1 bytes: the first part, and the first byte of the next.
    let carry = first.subarray(part, n0);
    const p1 = first.subarray(0, part);
    hash.update(p1);
    total = part;
    send(p1);
    for (;;) {
      while (inFlight.size >= o.queue) await Promise.race(inFlight);
      if (failed) throw failed;
      const buf = Buffer.allocUnsafe(part);
      carry.copy(buf, 0);
      const got = carry.length + (await read(buf.subarray(carry.length)));
      carry = Buffer.alloc(0);
      if (got === 0) break;
      total += got;
      if (total > o.maxBytes) throw new UploadFailure(sizeCapReason(o.maxBytes), true);
      const body = buf.subarray(0, got);
      hash.update(body);
      send(body);
      if (got < part) break;
    }
    await Promise.all(inFlight);
    if (failed) throw failed;
    const d = { bytes: total, sha256: hash.digest('hex') };
    const same = await o.beforeComplete?.(d);
    if (same !== undefined) {
      if (!(await abort(client, target, uploadId))) release = undefined;
      return { ...d, same, parts: parts.length };
    }
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    completing = true;
    try {
      // Conditional where the engine supports it (AWS, MinIO); elsewhere the name claim alone
      // keeps other writers off this key.
      await client.send(new CompleteMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: '*' }));
    } catch (e) {
      if (isLost(e)) {
        await abort(client, target, uploadId);
        return { ...d, parts: parts.length, landed: false };
      }
      throw e;
    }
    // The digest is known only now: it joins the object's metadata by a copy onto itself (the
    // engine copies the metadata, not the bytes). Without it the object is still whole and in the
    // manifest; only the same-content check of a later writer of this name misses it.
    if (d.bytes <= MAX_COPY_BYTES) {
      await client
        .send(new CopyObjectCommand({ Bucket: target.bucket, Key: target.key, CopySource: `${target.bucket}/${encodeURIComponent(target.key).replace(/%2F/g, '/')}`, MetadataDirective: 'REPLACE', Metadata: { ...metadataOf(d), ...(target.token && { token: target.token }) } }))
        .catch(() => undefined);
    }
    return { ...d, parts: parts.length };
  } catch (e) {
    await Promise.allSettled(inFlight);
    // Aborted before completion was asked for: nothing can appear, the name may be given back.
    // An abort that failed keeps its lease, so the sweep finds the upload later.
    const aborted = await abort(client, target, uploadId);
    if (!aborted) release = undefined;
    const r = e instanceof StoreRefusal ? e : o.reason(e);
    throw fail(r, aborted && !completing);
  } finally {
    await release?.().catch(() => undefined);
  }
}

/** A conditional write that lost (412, or 409 ConditionalRequestConflict). */
const isLost = (e: unknown): boolean => {
  const s = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return s === 412 || (s === 409 && (e as Error).name === 'ConditionalRequestConflict');
};

async function tokenAt(client: S3Client, target: UploadTarget): Promise<string | undefined> {
  const h = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key })).catch(() => undefined);
  return h?.Metadata?.token;
}

/** True when the upload is known to be gone. */
async function abort(client: S3Client, target: UploadTarget, uploadId: string): Promise<boolean> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }));
    return true;
  } catch (e) {
    return (e as Error).name === 'NoSuchUpload';
  }
}
