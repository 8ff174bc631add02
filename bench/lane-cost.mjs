#!/usr/bin/env node
// `node bench/lane-cost.mjs` (after `npm run build`): what the lane's own code costs per
// pass-through call, without pipes, processes or streams: the real Lane, LaneWire and
// CallPipeline of dist/, a host request line in, the server's answer line handed straight back,
// the host's answer pieces out. bench/run.mjs measures the whole proxy against its floors on a
// noisy shared machine; this isolates the part the proxy's code decides, in one process. The
// machine's speed still moves ±15% between runs: to compare two builds, give both (a copy of an
// older dist/, then dist/): their rounds are interleaved in one process and compared.
// Usage: node bench/lane-cost.mjs [DIST_DIR …] (default dist/).
// Env: LANE_N (calls per round, default 100000), LANE_ROUNDS (default 5).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';

const dirs = process.argv.length > 2 ? process.argv.slice(2) : [new URL('../dist/', import.meta.url).pathname];
async function load(dir) {
  const at = (p) => pathToFileURL(path.join(path.resolve(dir), p)).href;
  return { dir, ...(await import(at('proxy/lane.js'))), ...(await import(at('proxy/lane-wire.js'))), ...(await import(at('proxy/call.js'))), ...(await import(at('log.js'))) };
}
const builds = await Promise.all(dirs.map(load));

const N = Number(process.env.LANE_N || 100_000);
const ROUNDS = Number(process.env.LANE_ROUNDS || 5);

/** One lane wired to a fake server that answers each request at once, and a host sink. */
function rig({ Lane, LaneWire, CallPipeline, silentLogger }, modern) {
  let seq = 0;
  let pending;
  let done;
  // As the stdio transports do: a write that went out at once returns nothing (builds before
  // the lane's synchronous answers expected a promise, and cannot be compared with this rig).
  const wire = new LaneWire(() => {
    const id = `aw~${++seq}`;
    pending = Buffer.from(`{"result":{"content":[{"type":"text","text":"Echo: hello"}]},"jsonrpc":"2.0","id":"${id}"}`);
    return undefined;
  });
  const link = { wire, timeoutMs: 60_000, begin: () => () => {}, succeeded: () => {}, gone: (why) => new Error(why) };
  const target = { server: 'ev', tool: 'echo', exposed: 'echo', routes: false, timeoutMs: 60_000 };
  const pipeline = new CallPipeline({ route: async () => ({ kind: 'pass' }), mode: 'copy', datasetArgs: ['dataset', 'dataset_name', 'csv_path'], log: silentLogger });
  const lane = new Lane({ target: (name) => (name === 'echo' ? { link, target } : undefined), pipeline, server: {}, host: {}, session: {}, log: silentLogger, modern });
  const sink = { send: async () => {}, answer: async () => done(), answerRaw: () => void done() };
  const envelope = modern ? ',"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"b","version":"1"}' : '';
  return async (i) => {
    const line = Buffer.from(`{"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"},"_meta":{"progressToken":${i}${envelope}}},"jsonrpc":"2.0","id":${i}}`);
    const answered = new Promise((r) => (done = r));
    if (lane.callRaw(line, sink) === undefined) throw new Error('the lane did not take the call');
    // The write is batched to the end of the turn in the proxy; the answer comes a turn later.
    await Promise.resolve();
    if (!wire.take(pending)) throw new Error('the wire did not take the answer');
    await answered;
  };
}

let gcMs = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (const modern of [false, true]) {
  const calls = builds.map((b) => rig(b, modern));
  for (const call of calls) for (let i = 0; i < 20_000; i++) await call(i); // warm-up: optimised code
  const per = calls.map(() => []);
  const gc = calls.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < calls.length; k++) {
      gcMs = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) await calls[k](i);
      per[k].push(Number(process.hrtime.bigint() - t0) / N / 1000);
      await new Promise((res) => setImmediate(res)); // let the gc entries arrive
      gc[k].push((gcMs * 1000) / N);
    }
  }
  builds.forEach((b, k) => rows.push([modern ? '2026-07-28 host' : '2025-11-25 host', b.dir, med(per[k]), med(gc[k])]));
}
console.log(`Lane cost ${new Date().toISOString()} — node ${process.version}, medians of ${ROUNDS} rounds of ${N} calls`);
console.log('| host | build | µs per call | of which GC µs |');
console.log('| --- | --- | --- | --- |');
for (const [h, dir, us, g] of rows) console.log(`| ${h} | ${path.relative(process.cwd(), dir) || '.'} | ${us.toFixed(2)} | ${g.toFixed(2)} |`);
