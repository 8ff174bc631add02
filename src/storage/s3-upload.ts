// One artifact's bytes into S3, read once: each chunk read from the source goes through SHA-256
// and into the upload. Up to one part size, a single PUT (the digest known before it is sent, so
// it goes into the object's metadata); above it, a multipart upload whose parts are sent in
// parallel, `queue` at a time, so memory stays about (queue + 1) × part size whatever the file's
// size. Nothing is visible under the final key until the upload completes; a failure aborts it.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { sizeCapReason, StoreRefusal } from './store.js';

export interface UploadTarget {
  bucket: string;
  key: string;
}

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
  const read = readerOf(src);
  const hash = createHash('sha256');
  const part = Math.max(o.partBytes, 'size' in src ? Math.ceil(src.size / 9000) : 0);
  // The first part decides: a source that ends within it is one PUT.
  const first = Buffer.allocUnsafe(part + 1);
  const n0 = await read(first);
  if (n0 > o.maxBytes) throw new StoreRefusal(sizeCapReason(o.maxBytes));
  if (n0 <= part) {
    const body = first.subarray(0, n0);
    hash.update(body);
    const d = { bytes: n0, sha256: hash.digest('hex') };
    const same = await o.beforeComplete?.(d);
    if (same !== undefined) return { ...d, same, parts: 0 };
    try {
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: body, ContentLength: n0, Metadata: metadataOf(d) }));
    } catch (e) {
      throw o.reason(e);
    }
    o.onBytes?.(n0);
    return { ...d, parts: 1 };
  }
  let uploadId: string;
  try {
    uploadId = (await client.send(new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: target.key }))).UploadId!;
  } catch (e) {
    throw o.reason(e);
  }
  let release: (() => Promise<void>) | undefined;
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failed: unknown;
  let sent = 0;
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
      if (total > o.maxBytes) throw new StoreRefusal(sizeCapReason(o.maxBytes));
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
      await abort(client, target, uploadId);
      return { ...d, same, parts: parts.length };
    }
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(new CompleteMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    // The digest is known only now: it joins the object's metadata by a copy onto itself (the
    // engine copies the metadata, not the bytes). Without it the object is still whole and in the
    // manifest; only the same-content check of a later writer of this name misses it.
    await client
      .send(new CopyObjectCommand({ Bucket: target.bucket, Key: target.key, CopySource: `${target.bucket}/${encodeURIComponent(target.key).replace(/%2F/g, '/')}`, MetadataDirective: 'REPLACE', Metadata: metadataOf(d) }))
      .catch(() => undefined);
    return { ...d, parts: parts.length };
  } catch (e) {
    await Promise.allSettled(inFlight);
    await abort(client, target, uploadId);
    throw e instanceof StoreRefusal ? e : o.reason(e);
  } finally {
    await release?.().catch(() => undefined);
  }
}

async function abort(client: S3Client, target: UploadTarget, uploadId: string): Promise<void> {
  await client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId })).catch(() => undefined);
}
