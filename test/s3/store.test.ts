// The S3 store against a real engine (Ceph radosgw, scripts/s3-engine.sh): the same layout as a
// local root, key for key; names and run ids claimed by conditional creates; latest moved only
// forward; multipart for large files with nothing visible before it completes; reasons per fault.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3Store } from '../../src/storage/s3.js';
import { StoreRefusal } from '../../src/storage/store.js';
import { compareRunIds } from '../../src/workspace/slug.js';
import { Workspaces } from '../../src/workspace/layout.js';
import { onCleanup, tempDir } from '../helpers.js';
import { client, haveEngine, listAll, newBucket, uploadsOf } from './engine.js';
import { startFaultProxy } from './fault-proxy.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 ** 2;

async function open(bucket: string): Promise<S3Store> {
  const s = await S3Store.open(`s3://${bucket}/ws`, { partBytes: 5 * MiB });
  onCleanup(() => s.close());
  return s;
}

async function file(dir: string, name: string, body: Buffer | string): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, body);
  return p;
}

describe.skipIf(!haveEngine)('the S3 store on a real engine', () => {
  it('keeps the local layout key for key: runs, subfolders, files, manifests, latest', async () => {
    const bucket = await newBucket();
    const ws = new Workspaces(await open(bucket));
    const run = await ws.createRun('tips');
    expect(run.runDir).toBe(`s3://${bucket}/ws/tips/${run.runId}`);
    expect(run.subdirs.plots).toBe(`s3://${bucket}/ws/tips/${run.runId}/plots`);
    const dir = await tempDir();
    const png = await file(dir, 'hist.png', 'png-bytes');
    const put = await ws.store.putFile(png, [...run.key, 'plots'], 'hist.png');
    expect(put).toMatchObject({ dst: `s3://${bucket}/ws/tips/${run.runId}/plots/hist.png`, bytes: 9, sha256: sha('png-bytes'), deduplicated: false });
    const head = await client().send(new HeadObjectCommand({ Bucket: bucket, Key: `ws/tips/${run.runId}/plots/hist.png` }));
    expect(head.Metadata).toMatchObject({ sha256: sha('png-bytes'), bytes: '9' });
    // The same bytes again are that file; other bytes under the name get the next variant.
    expect(await ws.store.putFile(png, [...run.key, 'plots'], 'hist.png')).toMatchObject({ key: [...run.key, 'plots', 'hist.png'], deduplicated: true });
    const other = await file(dir, 'other.png', 'other');
    expect((await ws.store.putFile(other, [...run.key, 'plots'], 'hist.png')).key.at(-1)).toBe('hist_1.png');
    const m = await ws.store.writeJsonExclusive([...run.key, 'manifests'], 'manifest_x', { a: 1 });
    const m2 = await ws.store.writeJsonExclusive([...run.key, 'manifests'], 'manifest_x', { a: 2 });
    expect([m.at(-1), m2.at(-1)]).toEqual(['manifest_x.json', 'manifest_x_1.json']);
    expect(JSON.parse((await ws.store.read(m, 1000)).toString())).toEqual({ a: 1 });
    expect(await ws.latest('tips')).toBe(run.runId);
    expect(await ws.listDatasets()).toEqual(['tips']);
    expect(await ws.listRuns('tips')).toEqual([run.runId]);
    const counts = await ws.counts(run);
    expect(counts.counts).toMatchObject({ plots: 2, manifests: 2, models: 0 });
    expect((await ws.store.list([...run.key, 'plots'])).map((e) => e.name).sort()).toEqual(['hist.png', 'hist_1.png']);
    // No bookkeeping shows: claims live under the hidden .artifact-workspace prefix.
    expect((await ws.store.list([])).map((e) => e.name)).toEqual(['tips']);
    expect(await ws.store.digest(put.key)).toMatchObject({ kind: 'file', sha256: sha('png-bytes') });
    expect(ws.store.keyOf(put.dst)).toEqual(put.key);
    expect(ws.store.keyOf(`s3://${bucket}/ws/.artifact-workspace/claims/x`)).toBeUndefined();
    expect(ws.store.keyOf(`s3://${bucket}/other/tips`)).toBeUndefined();
  });

  it('claims run ids by conditional create: racing runs of one dataset get distinct ids, latest the newest', async () => {
    const bucket = await newBucket();
    const stores = await Promise.all(Array.from({ length: 4 }, () => open(bucket)));
    const runs = await Promise.all(stores.map((s) => new Workspaces(s).createRun('tips')));
    expect(new Set(runs.map((r) => r.runId)).size).toBe(4);
    const newest = runs.map((r) => r.runId).sort(compareRunIds).at(-1);
    expect(await new Workspaces(stores[0]!).latest('tips')).toBe(newest);
  });

  it('moves latest only forward, by compare-and-swap', async () => {
    const bucket = await newBucket();
    const s = await open(bucket);
    const ids = ['20261130_101010', '20261130_101010_2', '20261130_101010_10', '20261130_101011', '20261129_235959'];
    await Promise.all(ids.map((id) => s.writeLatest('tips', id, compareRunIds)));
    expect(await s.readLatest('tips')).toBe('20261130_101011');
    await s.writeLatest('tips', '20261130_101010_3', compareRunIds);
    expect(await s.readLatest('tips')).toBe('20261130_101011');
  });

  it('ten racing writers of one name get ten distinct names, each with its own bytes', async () => {
    const bucket = await newBucket();
    const stores = await Promise.all(Array.from({ length: 10 }, () => open(bucket)));
    await stores[0]!.ensureFolder(['tips', '20261130_101010', 'plots']);
    const dir = await tempDir();
    const srcs = await Promise.all(stores.map((_, i) => file(dir, `p${i}.png`, `plot ${i}`)));
    const got = await Promise.all(stores.map((s, i) => s.putFile(srcs[i]!, ['tips', '20261130_101010', 'plots'], 'plot.png')));
    const names = got.map((r) => r.key.at(-1));
    expect(new Set(names).size).toBe(10);
    for (const [i, r] of got.entries()) {
      const body = await client().send(new GetObjectCommand({ Bucket: bucket, Key: `ws/${r.key.join('/')}` }));
      expect(await body.Body!.transformToString()).toBe(`plot ${i}`);
    }
  });

  it('streams a large file as multipart, hashed once; nothing is visible until it completes', async () => {
    const bucket = await newBucket();
    const s = await open(bucket);
    const dir = await tempDir();
    const big = randomBytes(23 * MiB);
    const src = await file(dir, 'model.bin', big);
    const seen: number[] = [];
    const r = await s.putFile(src, ['tips', '20261130_101010', 'models'], 'model.bin', { onBytes: (n) => seen.push(n) });
    expect(r).toMatchObject({ bytes: big.length, sha256: sha(big), deduplicated: false });
    expect(seen.at(-1)).toBe(big.length);
    const head = await client().send(new HeadObjectCommand({ Bucket: bucket, Key: 'ws/tips/20261130_101010/models/model.bin' }));
    expect(head.ContentLength).toBe(big.length);
    expect(head.Metadata?.sha256).toBe(sha(big));
    expect(await s.digest(r.key)).toMatchObject({ bytes: big.length, sha256: sha(big) });
    // Stored again: the same bytes under the name are that file, and no upload is left open.
    expect(await s.putFile(src, ['tips', '20261130_101010', 'models'], 'model.bin')).toMatchObject({ deduplicated: true, key: r.key });
    expect(await uploadsOf(bucket)).toEqual([]);
    expect((await listAll(bucket, 'ws/.artifact-workspace/uploads/')).length).toBe(0);
  });

  it('a move removes the source only once the object is stored', async () => {
    const bucket = await newBucket();
    const s = await open(bucket);
    const dir = await tempDir();
    const src = await file(dir, 'r.pdf', 'pdf');
    const r = await s.putFile(src, ['tips', '20261130_101010', 'reports'], 'r.pdf', { mode: 'move' });
    expect(r.sourceKept).toBeUndefined();
    await expect(fs.stat(src)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await s.read(r.key, 100)).toString()).toBe('pdf');
  });

  it('verify-style digests see an object altered behind the store', async () => {
    const bucket = await newBucket();
    const s = await open(bucket);
    const dir = await tempDir();
    const r = await s.putFile(await file(dir, 'm.json', '{"a":1}'), ['tips', '20261130_101010', 'metrics'], 'm.json');
    await client().send(new PutObjectCommand({ Bucket: bucket, Key: `ws/${r.key.join('/')}`, Body: '{"a":2}' }));
    expect((await s.digest(r.key)).sha256).not.toBe(r.sha256);
  });

  it('a folder artifact keeps every member, even two whose names sanitise alike', async () => {
    const bucket = await newBucket();
    const s = await open(bucket);
    const dir = await tempDir();
    const folder = path.join(dir, 'model');
    await fs.mkdir(path.join(folder, 'sub'), { recursive: true });
    const members = [['a:b', 'one'], ['a?b', 'two'], ['sub/w.bin', 'three']] as const;
    const files = [];
    for (const [rel, body] of members) {
      const p = await file(folder, rel, body);
      const st = await fs.stat(p);
      files.push({ rel: rel.split('/'), src: p, entry: p, dev: st.dev, ino: st.ino, size: st.size });
    }
    const r = await s.putTree({ root: folder, files, dirs: [{ rel: ['sub'], entry: path.join(folder, 'sub') }], bytes: 11 }, ['tips', '20261130_101010', 'models'], 'model');
    expect(r.files).toBe(3);
    const stored = await listAll(bucket, 'ws/tips/20261130_101010/models/model/');
    const bodies = await Promise.all(stored.filter((o) => !o.key.endsWith('/')).map(async (o) => (await client().send(new GetObjectCommand({ Bucket: bucket, Key: o.key }))).Body!.transformToString()));
    expect(bodies.sort()).toEqual(['one', 'three', 'two']);
    expect((await s.digest(r.key)).sha256).toBe(r.sha256);
  });

  it('the sweep leaves alone uploads that are not ours, and live writers\' ones', async () => {
    const bucket = await newBucket();
    const s = await open(bucket);
    const { UploadId } = await client().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ws/tips/20261130_101010/models/foreign.bin' }));
    const r = await s.sweepTemps({ maxAgeMs: 0 });
    expect(r.removed).toEqual([]);
    expect((await uploadsOf(bucket)).map((u) => u.id)).toEqual([UploadId]);
  });

  it('removes a run with its claims; the root itself is refused', async () => {
    const bucket = await newBucket();
    const ws = new Workspaces(await open(bucket));
    const run = await ws.createRun('tips');
    const dir = await tempDir();
    await ws.store.putFile(await file(dir, 'a.png', 'a'), [...run.key, 'plots'], 'a.png');
    await ws.store.removeTree(run.key);
    expect(await listAll(bucket, `ws/tips/${run.runId}`)).toEqual([]);
    expect(await listAll(bucket, `ws/.artifact-workspace/claims/tips/${run.runId}`)).toEqual([]);
    await expect(ws.store.removeTree([])).rejects.toThrow(StoreRefusal);
  });

  // Each fault leaves a reason a person can act on, and nothing partial visible.
  it('wrong credentials: a reason naming them', async () => {
    const bucket = await newBucket();
    const bad = S3Store.open(`s3://${bucket}/ws`, { env: { ...process.env, AWS_SECRET_ACCESS_KEY: 'wrong' } as NodeJS.ProcessEnv });
    await expect(bad).rejects.toThrow(/credentials are wrong or may not use this bucket/);
  });

  it('a missing bucket, an unreachable endpoint, a bad root: reasons, not stack traces', async () => {
    await expect(S3Store.open('s3://no-such-bucket-aw/ws')).rejects.toThrow(/bucket "no-such-bucket-aw" does not exist/);
    await expect(S3Store.open('s3://bucket/ws', { env: { ...process.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' } as NodeJS.ProcessEnv, maxAttempts: 1 })).rejects.toThrow(/cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    for (const root of ['s3://', 's3://UPPER/x', 's3://b/../x', 's3://bucket/.hidden']) await expect(S3Store.open(root, { probe: false })).rejects.toThrow(StoreRefusal);
  });

  it('throttling is retried with backoff and the write lands', async () => {
    const bucket = await newBucket();
    const proxy = await startFaultProxy(process.env.AWS_ENDPOINT_URL_S3!);
    const s = await S3Store.open(`s3://${bucket}/ws`, { env: { ...process.env, AWS_ENDPOINT_URL_S3: proxy.url } as NodeJS.ProcessEnv });
    onCleanup(() => s.close());
    proxy.fail({ when: (req) => req.method === 'PUT' && !req.url!.includes('claims'), times: 3, answer: 'slowdown' });
    const dir = await tempDir();
    const r = await s.putFile(await file(dir, 'a.png', 'a'), ['tips', '20261130_101010', 'plots'], 'a.png');
    expect(proxy.failed).toBe(3);
    expect((await s.read(r.key, 10)).toString()).toBe('a');
  });

  it('a connection lost mid-upload: a reason, the upload aborted, nothing visible, the name free again', async () => {
    const bucket = await newBucket();
    const proxy = await startFaultProxy(process.env.AWS_ENDPOINT_URL_S3!);
    const s = await S3Store.open(`s3://${bucket}/ws`, { env: { ...process.env, AWS_ENDPOINT_URL_S3: proxy.url } as NodeJS.ProcessEnv, partBytes: 5 * MiB, maxAttempts: 2 });
    onCleanup(() => s.close());
    proxy.fail({ when: (req) => req.method === 'PUT' && /partNumber=2/.test(req.url!), times: 100, answer: 'reset' });
    const dir = await tempDir();
    const src = await file(dir, 'model.bin', randomBytes(12 * MiB));
    await expect(s.putFile(src, ['tips', '20261130_101010', 'models'], 'model.bin')).rejects.toThrow(StoreRefusal);
    expect(await listAll(bucket, 'ws/tips/')).toEqual([]);
    expect(await uploadsOf(bucket)).toEqual([]);
    proxy.clear();
    expect((await s.putFile(src, ['tips', '20261130_101010', 'models'], 'model.bin')).key.at(-1)).toBe('model.bin');
  });
});
