#!/usr/bin/env node
// `node bench/scale.mjs` (part of `npm run bench`): how the read paths grow with a workspace.
//
// A generator writes realistic workspaces straight to disk (manifests and small artifact files,
// as the router would leave them), then every operation is timed the way a user meets it:
// our tools through a real MCP client (InMemoryTransport, one process), and the `info` command
// both in-process and as a CLI process (with `node dist/cli.js --version` as its baseline).
//
// Two growth axes, each in its own root so they do not disturb each other:
//   entries: one dataset of RUNS_FIXED runs whose measured run holds 1k, 10k, 100k entries;
//   runs:    100, 1k, 10k runs of a dataset whose measured run holds 1k entries.
// Old runs hold one manifest with two artifacts each (a session that routed a little).
//
// Env: SCALE_MAX_ENTRIES (default 100000), SCALE_MAX_RUNS (default 10000), SCALE_REPS (timed
//      calls per cell, default 9), BENCH_OUT_SCALE (markdown file, default bench/results/scale.md).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const CLI = path.join(DIST, 'cli.js');
const MAX_ENTRIES = Number(process.env.SCALE_MAX_ENTRIES || 100_000);
const MAX_RUNS = Number(process.env.SCALE_MAX_RUNS || 10_000);
const REPS = Number(process.env.SCALE_REPS || 9);
const OUT = process.env.BENCH_OUT_SCALE || path.join(ROOT, 'bench/results/scale.md');
const SUBDIRS = ['uploads', 'data', 'models', 'reports', 'plots', 'metrics', 'indexes', 'logs', 'tmp', 'manifests'];
const KINDS = [
  ['plot', 'plots', 'png', 'image/png'],
  ['report', 'reports', 'html', 'text/html'],
  ['metrics', 'metrics', 'json', 'application/json'],
  ['model', 'models', 'pkl', 'application/octet-stream'],
  ['data', 'data', 'csv', 'text/csv'],
];
const ENTRIES_PER_MANIFEST = 5;

const pad = (n, w = 2) => String(n).padStart(w, '0');
const runStamp = (d) => `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}_${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;

/**
 * Writes one run as the router leaves it: `entries` small files across the type folders and one
 * manifest per ENTRIES_PER_MANIFEST entries, named and shaped as src/workspace/manifest.ts writes them.
 */
export function generateRun(root, dataset, runId, entries, at) {
  const runDir = path.join(root, dataset, runId);
  for (const s of SUBDIRS) fs.mkdirSync(path.join(runDir, s), { recursive: true });
  let t = at.getTime();
  for (let i = 0; i < entries; i += ENTRIES_PER_MANIFEST) {
    const when = new Date(t++);
    const list = [];
    for (let j = i; j < Math.min(entries, i + ENTRIES_PER_MANIFEST); j++) {
      const [type, sub, ext, mime] = KINDS[j % KINDS.length];
      const body = `artifact ${j} of ${runId}\n`.repeat(4);
      const dst = path.join(runDir, sub, `artifact_${j}.${ext}`);
      fs.writeFileSync(dst, body);
      list.push({ tool: 'train', type, label: `${type}_path`, src: `/tmp/artifact_${j}.${ext}`, dst, mode: 'copy', bytes: body.length, sha256: '0'.repeat(64), mime, ts: when.toISOString() });
    }
    const manifest = { schema: 1, dataset, run_id: runId, tool: 'train', ts: when.toISOString(), entries: list, skipped: [] };
    fs.writeFileSync(path.join(runDir, 'manifests', `manifest_${runStamp(when)}_${pad(when.getMilliseconds(), 3)}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return runDir;
}

/** A dataset of `runs` runs, one per second from a fixed date; `big` maps a run index to its entry count. */
export function generateDataset(root, dataset, runs, big = new Map(), oldEntries = 2) {
  const base = new Date(2025, 0, 1, 0, 0, 0).getTime();
  const ids = [];
  for (let r = 0; r < runs; r++) {
    const at = new Date(base + r * 1000);
    const id = runStamp(at);
    generateRun(root, dataset, id, big.get(r) ?? oldEntries, at);
    ids.push(id);
  }
  fs.symlinkSync(ids[ids.length - 1], path.join(root, dataset, 'latest'));
  return ids;
}

/**
 * Files written in the last 2 s are re-checked on every call until they settle (see
 * src/workspace/index.ts); a session finds a workspace after its files were written, so wait that out.
 */
const settle = () => new Promise((r) => setTimeout(r, 2_500));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function timeIt(fn, reps = REPS) {
  const t0 = process.hrtime.bigint();
  await fn();
  const first = ms(t0);
  const xs = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    await fn();
    xs.push(ms(t));
  }
  return { first, median: median(xs) };
}

async function load(rel) {
  return import(pathToFileURL(path.join(DIST, rel)).href);
}

/** An in-process server over the given root with a connected MCP client. */
async function connect(root, base) {
  const [{ Client }, { InMemoryTransport }, { resolveSettings }, { silentLogger }, { createContext }, { sessionServer }] = await Promise.all([
    import('@modelcontextprotocol/client'),
    import('@modelcontextprotocol/server'),
    load('config.js'),
    load('log.js'),
    load('server/context.js'),
    load('serve.js'),
  ]);
  const settings = resolveSettings({ env: {}, flags: { root }, cwd: base });
  const ctx = await createContext(settings, silentLogger, { dataDir: path.join(base, 'data') });
  const { server } = sessionServer(ctx, undefined);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'scale-bench', version: '1.0.0' });
  await server.connect(a);
  await client.connect(b);
  const call = async (name, args) => {
    const res = await client.callTool({ name, arguments: args });
    if (res.isError) throw new Error(`${name}: ${JSON.stringify(res.content)}`);
    return res.structuredContent;
  };
  return { client, ctx, call, close: async () => (await client.close(), await server.close(), await ctx.workspaces.store.close()) };
}

function cliMs(args, reps = 5) {
  const xs = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    execFileSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    xs.push(ms(t));
  }
  return median(xs);
}

async function measure(root, base, dataset, runId, withEnsure) {
  const { inspect } = { inspect: await load('commands/inspect.js') };
  const h = await connect(root, base);
  try {
    const r = {};
    r.info = await timeIt(() => h.call('get_workspace_info', { dataset, run_id: runId }));
    const check = await h.call('get_workspace_info', { dataset, run_id: runId });
    r.files = Object.values(check.counts).reduce((a, b) => a + b, 0);
    // One page, as a host asks for it (the SDK client's listResources() would walk every page).
    r.list = await timeIt(() => h.client.request({ method: 'resources/list', params: {} }));
    r.cmd = await timeIt(() => inspect.infoCommand(h.ctx.workspaces, `${dataset}/${runId}`, { mode: 'copy' }, () => {}));
    r.cli = cliMs(['info', `${dataset}/${runId}`, '--root', root]);
    // The cost met between writes: one artifact routed into this very run, then info again
    // (the changed folders are re-read; the others are trusted on a stat).
    const src = path.join(base, 'fresh.png');
    const target = await h.ctx.workspaces.openRun(dataset, runId);
    const afterWrite = [];
    for (let i = 0; i < REPS; i++) {
      fs.writeFileSync(src, `fresh ${i}\n`);
      const out = await h.ctx.routing.route({ tool: 'bench', candidates: [{ kind: 'path', path: src, label: 'plot_path', explicit: true }], inputs: [], mode: 'copy', run: target });
      if (out.routed.length !== 1) throw new Error(`not routed: ${JSON.stringify(out.skipped)}`);
      const t = process.hrtime.bigint();
      await h.call('get_workspace_info', { dataset, run_id: runId });
      afterWrite.push(ms(t));
    }
    r.afterWrite = { median: median(afterWrite) };
    if (withEnsure) r.ensure = await timeIt(() => h.call('ensure_workspace', { dataset, new_run: true }));
    return r;
  } finally {
    await h.close();
  }
}

const f = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const k = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));

/** "how it grows": the exponent of t ∝ n^e between the smallest and largest point. */
function growth(points) {
  const [a, b] = [points[0], points[points.length - 1]];
  if (!(a.t > 0 && b.t > 0) || a.n === b.n) return 'n/a';
  const e = Math.log(b.t / a.t) / Math.log(b.n / a.n);
  return e < 0.15 ? `flat (n^${e.toFixed(2)})` : `n^${e.toFixed(2)}`;
}

async function main() {
  if (!fs.existsSync(CLI)) throw new Error('build first: npm run build');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-scale-'));
  process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
  // The persisted counts index lives in the per-user cache: keep this run's copies in tmp.
  process.env.XDG_CACHE_HOME = path.join(tmp, 'cache');
  const node0 = cliMs(['--version']);
  const entriesAxis = [1_000, 10_000, 100_000].filter((n) => n <= MAX_ENTRIES);
  const runsAxis = [100, 1_000, 10_000].filter((n) => n <= MAX_RUNS);
  const results = { entries: [], runs: [] };

  // Entries axis: one root, MAX_RUNS runs; the newest runs hold the big ones.
  {
    const base = path.join(tmp, 'entries');
    const root = path.join(base, 'ws');
    const t0 = process.hrtime.bigint();
    const big = new Map(entriesAxis.map((n, i) => [MAX_RUNS - entriesAxis.length + i, n]));
    const ids = generateDataset(root, 'tips', MAX_RUNS, big);
    await settle();
    process.stderr.write(`generated ${MAX_RUNS} runs + ${entriesAxis.map(k).join('/')} entries in ${(ms(t0) / 1000).toFixed(1)} s\n`);
    for (const [i, n] of entriesAxis.entries()) {
      const r = await measure(root, base, 'tips', ids[MAX_RUNS - entriesAxis.length + i], false);
      if (r.files !== n + Math.ceil(n / ENTRIES_PER_MANIFEST)) throw new Error(`counted ${r.files} files, expected ${n + n / ENTRIES_PER_MANIFEST}`);
      results.entries.push({ n, ...r });
      process.stderr.write(`entries ${k(n)}: info ${f(r.info.median)} ms (first ${f(r.info.first)})\n`);
    }
    fs.rmSync(base, { recursive: true, force: true });
  }
  // Runs axis: a fresh root per point; the newest run holds 1k entries.
  for (const n of runsAxis) {
    const base = path.join(tmp, `runs-${n}`);
    const root = path.join(base, 'ws');
    const ids = generateDataset(root, 'tips', n, new Map([[n - 1, 1000]]));
    await settle();
    const r = await measure(root, base, 'tips', ids[n - 1], true);
    results.runs.push({ n, ...r });
    process.stderr.write(`runs ${k(n)}: info ${f(r.info.median)} ms, ensure ${f(r.ensure.median)} ms, list ${f(r.list.median)} ms\n`);
    fs.rmSync(base, { recursive: true, force: true });
  }

  const ops = [
    ['get_workspace_info (MCP)', (r) => r.info],
    ['  first call after start', (r) => ({ median: r.info.first })],
    ['  right after routing one artifact', (r) => r.afterWrite],
    ['resources/list first page (MCP)', (r) => r.list],
    ['`info <dataset>/<run>` in-process', (r) => r.cmd],
    ['`info <dataset>/<run>` CLI process', (r) => ({ median: r.cli })],
    ['ensure_workspace new run (MCP)', (r) => r.ensure],
  ];
  const table = (axis, label) => {
    const pts = results[axis];
    const rows = [[`operation (ms, median of ${REPS})`, ...pts.map((p) => `${k(p.n)} ${label}`), 'growth']];
    for (const [name, get] of ops) {
      if (!pts.every((p) => get(p)?.median !== undefined)) continue;
      const ts = pts.map((p) => get(p).median);
      rows.push([name, ...ts.map(f), growth(pts.map((p, i) => ({ n: p.n, t: ts[i] })))]);
    }
    return [`| ${rows[0].join(' | ')} |`, `| ${rows[0].map(() => '---').join(' | ')} |`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n');
  };
  const md = [
    `Scale benchmark ${new Date().toISOString()} — node ${process.version}, ${os.cpus().length} cores, ${os.platform()}; CLI baseline \`node dist/cli.js --version\` ${f(node0)} ms`,
    '',
    `Entries in the described run (${k(MAX_RUNS)} runs in the dataset):`,
    '',
    table('entries', 'entries'),
    '',
    'Runs in the dataset (the described run holds 1k entries):',
    '',
    table('runs', 'runs'),
    '',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, md);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`scale bench failed: ${e?.stack || e}\n`);
      process.exit(1);
    },
  );
}
