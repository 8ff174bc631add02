// The S3 suite's engine: the one `scripts/s3-engine.sh start` runs (its AWS_* variables in the
// environment). Each test gets a bucket of its own. Without an engine the suite is skipped, unless
// REQUIRE_S3 is set (CI): then a missing engine fails.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, AbortMultipartUploadCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { makeClient } from '../../src/storage/s3-client.js';
import { onCleanup } from '../helpers.js';

export const haveEngine = !!process.env.AWS_ENDPOINT_URL_S3;
if (!haveEngine && process.env.REQUIRE_S3) throw new Error('REQUIRE_S3 is set but no S3 engine runs (AWS_ENDPOINT_URL_S3 is unset): start one with scripts/s3-engine.sh');

let shared: S3Client | undefined;
export function client(): S3Client {
  shared ??= makeClient({ maxAttempts: 2 });
  return shared;
}

/** A new, empty bucket, emptied and removed after the test. */
export async function newBucket(): Promise<string> {
  const name = `aw-${randomBytes(6).toString('hex')}`;
  await client().send(new CreateBucketCommand({ Bucket: name }));
  onCleanup(() => dropBucket(name));
  return name;
}

export async function listAll(bucket: string, prefix = ''): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const r = await client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(r.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0 })));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function uploadsOf(bucket: string): Promise<{ key: string; id: string }[]> {
  const r = await client().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (r.Uploads ?? []).map((u) => ({ key: u.Key!, id: u.UploadId! }));
}

async function dropBucket(bucket: string): Promise<void> {
  try {
    for (const u of await uploadsOf(bucket)) await client().send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.id }));
    const all = await listAll(bucket);
    for (let i = 0; i < all.length; i += 1000) await client().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: all.slice(i, i + 1000).map((o) => ({ Key: o.key })), Quiet: true } }));
    await client().send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch {
    // A bucket left behind is removed with the engine.
  }
}
