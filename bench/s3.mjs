#!/usr/bin/env node
// `npm run bench:s3`: one large artifact into an S3-compatible engine (the radosgw of
// scripts/s3-engine.sh, started by scripts/with-s3-engine.sh, or the one AWS_ENDPOINT_URL_S3
// names), through our store (S3Store.putFile: name claimed, every byte hashed, multipart, the
// digest into the object's metadata) against a plain multipart upload of the same file with the
// same part size and parallelism and no hashing, in the same run. Each upload runs in a process
// of its own (its peak RSS is that process's maxRSS); rounds alternate subject and baseline, and
// medians are reported. Env: S3_BENCH_GIB (default 1), S3_BENCH_REPS (default 3), BENCH_TMP,
// BENCH_OUT_S3.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const GIB = 1024 ** 3;
const SIZE = Math.floor(Number(process.env.S3_BENCH_GIB || 1) * GIB);
const REPS = Number(process.env.S3_BENCH_REPS || 3);
const OUT = process.env.BENCH_OUT_S3 || path.join(ROOT, 'bench/results/s3.md');
const SELF = fileURLToPath(import.meta.url);
const PART = 8 * 1024 * 1024;
const QUEUE = 4;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = (rel) => import(pathToFileURL(path.join(DIST, rel)).href);

/** One upload in this process; prints {ms, maxRssMiB} as JSON. */
async function child(kind, file, bucket, key) {
  const { makeClient } = await load('storage/s3-client.js');
  const s3 = await import('@aws-sdk/client-s3');
  const t0 = process.hrtime.bigint();
  if (kind === 'plain') {
    const client = makeClient();
    const { UploadId } = await client.send(new s3.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const fh = await fs.promises.open(file, 'r');
    const size = (await fh.stat()).size;
    const parts = [];
    const inFlight = new Set();
    for (let n = 1, pos = 0; pos < size; n++, pos += PART) {
      while (inFlight.size >= QUEUE) await Promise.race(inFlight);
      const buf = Buffer.allocUnsafe(Math.min(PART, size - pos));
      await fh.read(buf, 0, buf.length, pos);
      const p = client
        .send(new s3.UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: buf, ContentLength: buf.length }))
        .then((r) => parts.push({ PartNumber: n, ETag: r.ETag }))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    await fh.close();
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await client.send(new s3.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    client.destroy();
  } else {
    const { S3Store } = await load('storage/s3.js');
    const store = await S3Store.open(`s3://${bucket}/ws`, { partBytes: PART, queue: QUEUE });
    await store.putFile(file, key.split('/'), 'model.bin');
    await store.close();
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

async function main() {
  if (!process.env.AWS_ENDPOINT_URL_S3) {
    // `npm run bench` on a machine without Ceph: the other benchmarks still run.
    process.stderr.write('bench/s3.mjs: skipped, no S3 engine (scripts/s3-engine.sh install adds Ceph; or set AWS_ENDPOINT_URL_S3)\n');
    return;
  }
  const s3 = await import('@aws-sdk/client-s3');
  const { makeClient } = await load('storage/s3-client.js');
  const client = makeClient();
  const bucket = `bench-${process.pid}`;
  await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
  const dir = fs.mkdtempSync(path.join(process.env.BENCH_TMP || os.tmpdir(), 'aw-s3-bench-'));
  const file = path.join(dir, 'model.bin');
  const block = randomFillSync(Buffer.allocUnsafe(16 * 1024 * 1024));
  const fd = fs.openSync(file, 'w');
  for (let done = 0; done < SIZE; done += block.length) fs.writeSync(fd, block, 0, Math.min(block.length, SIZE - done));
  fs.closeSync(fd);
  const rows = { plain: [], ours: [] };
  const drop = async () => {
    // Free the engine's memory between rounds (memstore keeps objects in RAM).
    let token;
    do {
      const r = await client.send(new s3.ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      if (r.Contents?.length) await client.send(new s3.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: r.Contents.map((o) => ({ Key: o.Key })), Quiet: true } }));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    // The test engine's memstore frees deleted data only after radosgw's garbage collection: run
    // it now, or a few rounds fill the store (it then stalls every write).
    if (process.env.S3_ENGINE_DIR) spawnSync('radosgw-admin', ['-c', path.join(process.env.S3_ENGINE_DIR, 'ceph.conf'), 'gc', 'process', '--include-all'], { stdio: 'ignore', timeout: 60_000 });
  };
  try {
    for (let i = 0; i < REPS; i++) {
      for (const kind of i % 2 ? ['ours', 'plain'] : ['plain', 'ours']) {
        const key = kind === 'plain' ? `plain/${i}/model.bin` : `tips/2026113${i}_000000/models`;
        const r = spawnSync(process.execPath, [SELF, 'child', kind, file, bucket, key], { encoding: 'utf8', env: process.env, maxBuffer: 1 << 20 });
        if (r.status !== 0) throw new Error(`${kind}: ${r.stderr}`);
        rows[kind].push(JSON.parse(r.stdout));
        await drop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await drop().catch(() => undefined);
    await client.send(new s3.DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    client.destroy();
  }
  const p = median(rows.plain.map((r) => r.ms));
  const o = median(rows.ours.map((r) => r.ms));
  const gib = SIZE / GIB;
  const lines = [
    `# S3 upload, ${gib} GiB (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}, ${REPS} rounds, medians)`,
    '',
    `Engine: ${process.env.AWS_ENDPOINT_URL_S3} (one-node Ceph radosgw, memstore OSD, on this machine). Part ${PART / 1024 ** 2} MiB, ${QUEUE} parts in flight, both.`,
    '',
    '| upload | time | vs plain | MiB/s | peak RSS |',
    '| --- | --- | --- | --- | --- |',
    `| plain multipart (SDK, no hashing) | ${p.toFixed(0)} ms | 1.00× | ${((SIZE / 1024 ** 2) / (p / 1000)).toFixed(0)} | ${median(rows.plain.map((r) => r.maxRssMiB)).toFixed(0)} MiB |`,
    `| our store (claim, SHA-256 of every byte, multipart, metadata) | ${o.toFixed(0)} ms | ${(o / p).toFixed(2)}× | ${((SIZE / 1024 ** 2) / (o / 1000)).toFixed(0)} | ${median(rows.ours.map((r) => r.maxRssMiB)).toFixed(0)} MiB |`,
    '',
    `Rounds (ms): plain ${rows.plain.map((r) => r.ms.toFixed(0)).join(', ')}; ours ${rows.ours.map((r) => r.ms.toFixed(0)).join(', ')}.`,
    '',
  ];
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, lines.join('\n'));
  process.stdout.write(lines.join('\n'));
}

if (process.argv[2] === 'child') await child(...process.argv.slice(3));
else await main();
