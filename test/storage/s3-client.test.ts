// The pure parts of the S3 backend: which roots name a bucket and prefix, and which failures
// become which reasons. The engine-backed suite is test/s3/.
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { parseS3Root, s3Reason } from '../../src/storage/s3-client.js';
import { S3Store } from '../../src/storage/s3.js';
import { StoreRefusal } from '../../src/storage/store.js';

describe('parseS3Root', () => {
  it.each([
    ['s3://bucket', { bucket: 'bucket', prefix: [] }],
    ['s3://bucket/', { bucket: 'bucket', prefix: [] }],
    ['s3://team.bucket-1/ml/ws', { bucket: 'team.bucket-1', prefix: ['ml', 'ws'] }],
    ['S3://bucket//a///b/', { bucket: 'bucket', prefix: ['a', 'b'] }],
  ])('%s', (root, want) => expect(parseS3Root(root)).toEqual(want));

  // Hostile or mistaken roots: refused with a reason, never guessed at.
  it.each([
    ['s3://', /not an S3 bucket name/],
    ['s3://ab', /not an S3 bucket name/],
    ['s3://Bucket/x', /not an S3 bucket name/],
    ['s3://bucket_name/x', /not an S3 bucket name/],
    ['s3://a..b/x', /not an S3 bucket name/],
    ['s3://-bucket/x', /not an S3 bucket name/],
    ['s3://bucket/../x', /prefix segment "\.\." is not allowed/],
    ['s3://bucket/./x', /prefix segment "\." is not allowed/],
    ['s3://bucket/.artifact-workspace', /prefix segment ".artifact-workspace" is not allowed/],
    ['s3://bucket/a\\b', /is not allowed/],
    ['gs://bucket/x', /not an s3:\/\/BUCKET\/PREFIX URI/],
  ])('refuses %s', (root, why) => {
    expect(() => parseS3Root(root)).toThrow(StoreRefusal);
    expect(() => parseS3Root(root)).toThrow(why);
  });
});

describe('S3Store.keyOf: which URIs name a place below the root', () => {
  // No request is made: the store is opened without its probe.
  const open = () => S3Store.open('s3://bucket/ws', { probe: false, env: { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' } });
  it('maps a URI below the root to its key', async () => {
    expect((await open()).keyOf('s3://bucket/ws/tips/20261130_101500/plots/a.png')).toEqual(['tips', '20261130_101500', 'plots', 'a.png']);
  });
  // Hostile or foreign URIs: never a key (resources/read and the router take them from hosts and results).
  it.each([
    ['the root itself', 's3://bucket/ws'],
    ['a sibling prefix', 's3://bucket/wsx/tips/a.png'],
    ['another bucket', 's3://other/ws/tips/a.png'],
    ['a traversal', 's3://bucket/ws/tips/../../x'],
    ['a dot segment', 's3://bucket/ws/./tips'],
    ['our bookkeeping', 's3://bucket/ws/.artifact-workspace/claims/tips/a.png'],
    ['a hidden name', 's3://bucket/ws/tips/.aw-tmp-1'],
    ['an empty segment', 's3://bucket/ws/tips//a.png'],
    ['a backslash', 's3://bucket/ws/tips\\..\\x'],
    ['a NUL', 's3://bucket/ws/tips/a\u0000b'],
    ['a local path', '/tmp/ws/tips/a.png'],
    ['a file URI', 'file:///ws/tips/a.png'],
  ])('refuses %s', async (_what, uri) => {
    expect((await open()).keyOf(uri)).toBeUndefined();
  });
});

describe('opening a store on an engine that ignores conditional writes', () => {
  it('is refused: names could collide between writers', async () => {
    // A stand-in engine that accepts every PUT, conditional or not (as s3rver does).
    const objects = new Map<string, Record<string, string>>();
    const fake = {
      send: async (cmd: { constructor: { name: string }; input: { Key?: string; Metadata?: Record<string, string> } }) => {
        const kind = cmd.constructor.name;
        if (kind === 'PutObjectCommand') objects.set(cmd.input.Key!, cmd.input.Metadata ?? {});
        if (kind === 'HeadObjectCommand') return { Metadata: objects.get(cmd.input.Key!) };
        return {};
      },
      destroy: () => undefined,
    };
    await expect(S3Store.open('s3://bucket/ws', { client: fake as never })).rejects.toThrow(/ignores conditional writes \(If-None-Match: \*\)/);
  });
});

describe('s3Reason', () => {
  const svc = (name: string, status: number) => new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
  const sys = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
  it.each([
    [svc('NoSuchBucket', 404), /bucket "b" does not exist at http:\/\/s3\.local: create it/],
    [svc('SignatureDoesNotMatch', 403), /refused the credentials \(SignatureDoesNotMatch\).*AWS_SECRET_ACCESS_KEY/],
    [svc('InvalidAccessKeyId', 403), /refused the credentials/],
    [svc('AccessDenied', 403), /denied access .*policy/],
    [svc('Unknown', 403), /answered 403 .*credentials are wrong or may not use this bucket/],
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), /no S3 credentials found/],
    [svc('NoSuchUpload', 404), /upload was aborted meanwhile/],
    [svc('SlowDown', 503), /throttling or unavailable \(SlowDown\) after retries with backoff/],
    [svc('InternalError', 500), /answered 500 InternalError/],
    [sys('ECONNREFUSED'), /cannot reach the S3 endpoint http:\/\/s3\.local \(ECONNREFUSED\)/],
    [sys('ENOTFOUND'), /cannot reach the S3 endpoint/],
    [Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), /did not answer in time/],
  ])('%#: %s', (e, why) => {
    const r = s3Reason(e, { bucket: 'b', endpoint: 'http://s3.local' });
    expect(r).toBeInstanceOf(StoreRefusal);
    expect(r.message).toMatch(why);
  });
});
