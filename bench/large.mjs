#!/usr/bin/env node
// `node bench/large.mjs` (part of `npm run bench`): routing one large artifact in copy mode, against
// the direct tools on the same file system in the same run.
//
// - A plain file system (the temp folder): our copy (read once, hashed while copied, fsynced)
//   against `cp`, and against `cp` + `sync FILE` (our copy is fsynced before it gets its name).
// - A file system with reflinks (XFS reflink=1; BENCH_XFS_DIR, or a loop mount made here when run
//   as root with mkfs.xfs installed): our copy is a clone, so routing costs one hashing read;
//   compared with `sha256sum`, and the space it used is measured.
// - Peak RSS (VmHWM) of a process that routes a LARGE_RSS_GIB file, and of one that writes a 50 MB
//   inline image block, against the same process doing nothing.
//
// Timings alternate subject and baseline and report medians, on warm caches (the file was just
// written, as a tool's output would be). Env: LARGE_GIB (default 1), LARGE_RSS_GIB (default 2),
// LARGE_REPS (default 3), BENCH_TMP (plain fs folder), BENCH_XFS_DIR, BENCH_OUT_LARGE.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const GIB = 1024 ** 3;
const SIZE = Math.floor(Number(process.env.LARGE_GIB || 1) * GIB);
const RSS_SIZE = Math.floor(Number(process.env.LARGE_RSS_GIB || 2) * GIB);
const REPS = Number(process.env.LARGE_REPS || 3);
const OUT = process.env.BENCH_OUT_LARGE || path.join(ROOT, 'bench/results/large.md');
const SELF = fileURLToPath(import.meta.url);

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = (rel) => import(pathToFileURL(path.join(DIST, rel)).href);

/** A file of incompressible bytes (16 MiB of random data, repeated), written and closed. */
function makeFile(file, size) {
  const block = randomFillSync(Buffer.allocUnsafe(16 * 1024 * 1024));
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < size; off += block.length) {
      block.writeUInt32LE(off / block.length, 0); // no two blocks alike: nothing to dedupe
      fs.writeSync(fd, block, 0, Math.min(block.length, size - off));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function run(cmd, args) {
  const t = process.hrtime.bigint();
  execFileSync(cmd, args, { stdio: 'ignore' });
  return ms(t);
}

function usedBytes(dir) {
  const s = fs.statfsSync(dir);
  return (s.blocks - s.bfree) * s.bsize;
}

/** Our copy of `src` into the store's `out` folder (copy mode, fsynced); the time and what it used. */
async function ours(store, src, dir) {
  const before = usedBytes(dir);
  const t = process.hrtime.bigint();
  const res = await store.putFile(src, ['out'], path.basename(src), { mode: 'copy' });
  const time = ms(t);
  const used = usedBytes(dir) - before;
  fs.rmSync(res.dst);
  return { time, used, sha256: res.sha256 };
}

/** SHA-256 of the file in this process, 2 MiB reads: the hashing our copy cannot avoid. */
async function nodeSha(src) {
  const t = process.hrtime.bigint();
  const h = createHash('sha256');
  const fh = await fs.promises.open(src);
  const b = Buffer.allocUnsafe(2 * 1024 * 1024);
  for (let pos = 0; ; ) {
    const { bytesRead } = await fh.read(b, 0, b.length, pos);
    if (!bytesRead) break;
    h.update(b.subarray(0, bytesRead));
    pos += bytesRead;
  }
  await fh.close();
  h.digest('hex');
  return ms(t);
}

async function compare(label, dir, baselines) {
  const { LocalStore } = await load('storage/local.js');
  const dst = path.join(dir, 'out-root');
  const store = await LocalStore.open(dst);
  await store.ensureFolder(['out']);
  const src = path.join(dir, 'artifact.bin');
  makeFile(src, SIZE);
  try {
    const base = Object.fromEntries(baselines.map(([name]) => [name, []]));
    const mine = [];
    let used = 0;
    let sha = '';
    for (let i = 0; i < REPS; i++) {
      // Each measurement starts with no dirty pages of an earlier one still being written back.
      for (const [name, fn] of baselines) {
        execFileSync('sync');
        base[name].push(await fn(src, path.join(dst, 'cp.bin')));
      }
      execFileSync('sync');
      const o = await ours(store, src, dst);
      mine.push(o.time);
      used = Math.max(used, o.used);
      sha = o.sha256;
    }
    const want = execFileSync('sha256sum', [src], { encoding: 'utf8' }).split(' ')[0];
    if (sha !== want) throw new Error(`${label}: stored sha256 ${sha} is not the file's ${want}`);
    return { label, ours: median(mine), used, base: Object.fromEntries(Object.entries(base).map(([k, v]) => [k, median(v)])) };
  } finally {
    await store.close();
    fs.rmSync(src, { force: true });
    fs.rmSync(dst, { recursive: true, force: true });
  }
}

const cp = (src, dst) => {
  const t = run('cp', [src, dst]);
  fs.rmSync(dst);
  return t;
};
const cpSync = (src, dst) => {
  const t = run('sh', ['-c', 'cp "$1" "$2" && sync "$2"', 'sh', src, dst]);
  fs.rmSync(dst);
  return t;
};
const sha256sum = (src) => run('sha256sum', [src]);
// The floor for a durable copy: the same bytes written and fsynced by dd.
const ddFsync = (src, dst) => {
  const t = run('dd', [`if=${src}`, `of=${dst}`, 'bs=2M', 'conv=fsync', 'status=none']);
  fs.rmSync(dst);
  return t;
};

/** A loop-mounted XFS with reflink=1, when we are root and mkfs.xfs is there; undefined otherwise. */
function xfsMount(tmp) {
  if (process.env.BENCH_XFS_DIR) return { dir: process.env.BENCH_XFS_DIR, cleanup: () => {} };
  if (process.getuid?.() !== 0) return { why: 'not root (set BENCH_XFS_DIR to an XFS reflink=1 folder)' };
  if (spawnSync('mkfs.xfs', ['-V']).status !== 0) return { why: 'mkfs.xfs not installed (apt-get install xfsprogs)' };
  const img = path.join(tmp, 'xfs.img');
  const mnt = path.join(tmp, 'xfs');
  fs.mkdirSync(mnt);
  fs.closeSync(fs.openSync(img, 'w'));
  fs.truncateSync(img, SIZE * 3 + GIB);
  execFileSync('mkfs.xfs', ['-q', '-m', 'reflink=1', img]);
  const mounted = spawnSync('mount', ['-o', 'loop', img, mnt], { encoding: 'utf8' });
  if (mounted.status !== 0) return { why: `loop mount failed: ${mounted.stderr.trim()}` };
  return {
    dir: mnt,
    cleanup: () => {
      spawnSync('umount', [mnt]);
      fs.rmSync(img, { force: true });
    },
  };
}

/** Child mode: route one file or one inline block, then report peak RSS (VmHWM) in MB. */
async function child(kind, arg, dir) {
  const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
  const { Workspaces } = await load('workspace/layout.js');
  const { routeCandidates } = await load('routing/router.js');
  const { createSourcePolicy } = await load('routing/policy.js');
  const ws = await Workspaces.open(dir);
  const store = ws.store;
  const run = await ws.createRun('big');
  const policy = await createSourcePolicy({ roots: [path.dirname(arg), dir], homeDir: os.homedir() });
  let candidate;
  if (kind === 'inline') {
    // The block as a tool result carries it: base64 text in a string.
    candidate = { kind: 'inline', blockType: 'image', data: randomFillSync(Buffer.allocUnsafe(Number(arg))).toString('base64'), encoding: 'base64', mime: 'image/png', label: 'image' };
  } else candidate = { kind: 'path', path: arg, type: 'model', label: 'model_path' };
  const before = hwm();
  if (kind !== 'idle') {
    const out = await routeCandidates({ tool: 'bench', candidates: [candidate], inputs: [], mode: 'copy', run }, { store, policy });
    if (out.routed.length !== 1) throw new Error(`not routed: ${JSON.stringify(out.skipped)}`);
  }
  process.stdout.write(JSON.stringify({ before, peak: hwm() }));
}

function rss(kind, arg, dir) {
  const out = execFileSync(process.execPath, [SELF, '--child', kind, arg, dir], { encoding: 'utf8' });
  return JSON.parse(out);
}

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function main() {
  if (!fs.existsSync(path.join(DIST, 'cli.js'))) throw new Error('build first: npm run build');
  const tmp = fs.mkdtempSync(path.join(process.env.BENCH_TMP || os.tmpdir(), 'aw-large-'));
  const cleanups = [() => fs.rmSync(tmp, { recursive: true, force: true })];
  const gib = `${SIZE / GIB} GiB`;
  const rows = [];
  try {
    const plain = await compare('plain', tmp, [['cp', cp], ['cp + sync', cpSync], ['dd conv=fsync', ddFsync], ['Node SHA-256', nodeSha], ['sha256sum', sha256sum]]);
    rows.push([`${gib}, copy mode, ${fsType(tmp)} (no reflink)`, `${f(plain.ours)} ms`, `Node SHA-256 alone ${f(plain.base['Node SHA-256'])} ms`, `${(plain.ours / plain.base['Node SHA-256']).toFixed(2)}×`]);
    rows.push(['', '', `dd conv=fsync (durable copy floor) ${f(plain.base['dd conv=fsync'])} ms`, `${(plain.ours / plain.base['dd conv=fsync']).toFixed(2)}×`]);
    rows.push(['', '', `cp ${f(plain.base.cp)} ms`, `${(plain.ours / plain.base.cp).toFixed(2)}×`]);
    rows.push(['', '', `cp + sync ${f(plain.base['cp + sync'])} ms`, `${(plain.ours / plain.base['cp + sync']).toFixed(2)}×`]);
    rows.push(['', '', `sha256sum ${f(plain.base.sha256sum)} ms`, `${(plain.ours / plain.base.sha256sum).toFixed(2)}×`]);
    const xfs = xfsMount(tmp);
    if (xfs.dir) {
      cleanups.unshift(xfs.cleanup);
      const x = await compare('xfs', xfs.dir, [['sha256sum', sha256sum], ['cp', cp]]);
      rows.push([`${gib}, copy mode, XFS reflink=1 (clone)`, `${f(x.ours)} ms`, `sha256sum ${f(x.base.sha256sum)} ms`, `${(x.ours / x.base.sha256sum).toFixed(2)}×`]);
      rows.push(['', `extra space ${f(x.used / 1024 ** 2, 1)} MB`, `cp (reflink=auto) ${f(x.base.cp)} ms`, '']);
    } else {
      process.stderr.write(`reflink rows skipped: ${xfs.why}\n`);
      rows.push(['XFS reflink=1 (clone)', 'skipped', xfs.why, '']);
    }
    const idle = rss('idle', path.join(tmp, 'none'), path.join(tmp, 'r0'));
    const src = path.join(tmp, 'big.bin');
    makeFile(src, RSS_SIZE);
    const big = rss('file', src, path.join(tmp, 'r1'));
    fs.rmSync(path.join(tmp, 'r1'), { recursive: true, force: true });
    fs.rmSync(src, { force: true });
    const inline = rss('inline', String(50 * 1024 ** 2), path.join(tmp, 'r2'));
    rows.push([`peak RSS, routing a ${RSS_SIZE / GIB} GiB file`, `${f(big.peak)} MB`, `idle process ${f(idle.peak)} MB`, `+${f(big.peak - idle.peak)} MB`]);
    rows.push(['peak RSS, a 50 MB inline image block', `${f(inline.peak)} MB`, `with the block's base64 in memory ${f(inline.before)} MB`, `+${f(inline.peak - inline.before)} MB`]);
  } finally {
    for (const c of cleanups) c();
  }
  const head = ['large artifact', 'ours', 'baseline (same run, same file system)', 'ratio / delta'];
  const md = [
    `Large-file benchmark ${new Date().toISOString()} — node ${process.version}, ${os.cpus().length} cores, median of ${REPS}, warm page cache`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, md);
}

function fsType(dir) {
  const r = spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'local fs';
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], process.argv[5]).catch((e) => {
    process.stderr.write(`${e?.stack || e}\n`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`large bench failed: ${e?.stack || e}\n`);
      process.exit(1);
    },
  );
}
