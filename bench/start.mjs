#!/usr/bin/env node
// `node bench/start.mjs` (part of `npm run bench`): how fast things start, each against its floor
// in the same run, in alternating pairs, medians.
// - The CLI: `--version` and `info` (on a demo workspace) against a bare `node -e 0`.
// - Proxy mode: the time from spawning `serve` to the first tools/list answer that has the
//   downstream's tools, against the same for server-everything spawned alone and spawned behind
//   the byte relays (bench/relay.c, bench/relay.mjs). The Node relay is the floor for a proxy
//   written in Node: it starts Node, then the server, and adds nothing else; the goal is judged
//   against it (a Node process cannot spawn a server before Node itself has started).
// Env: START_REPS (default 9), BENCH_OUT_START.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist/cli.js');
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const REPS = Number(process.env.START_REPS || 9);
const OUT = process.env.BENCH_OUT_START || path.join(ROOT, 'bench/results/start.md');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function timed(args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return ms(t0);
}

/** Spawn to the first tools/list answer naming `echo`. */
/**
 * Spawn to the first tools/list answer naming `echo`. For our proxy (`connected`: the log line it
 * writes when the downstream's own tools/list has come back) also how long after that line the
 * answer came: what the proxy adds once the server has answered it.
 */
async function firstList(args, cwd, relay, connected) {
  const t0 = process.hrtime.bigint();
  const client = new Client({ name: 'bench', version: '1' });
  const [command, a] = relay ? [relay, [process.execPath, ...args]] : [process.execPath, args];
  const transport = new StdioClientTransport({ command, args: a, stderr: connected ? 'pipe' : 'ignore', cwd });
  let seen;
  let err = '';
  transport.stderr?.on('data', (d) => {
    err += d;
    if (seen === undefined && err.includes(connected)) seen = ms(t0);
  });
  await client.connect(transport);
  for (;;) {
    const { tools } = await client.listTools();
    if (tools.some((t) => t.name === 'echo')) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  const t = ms(t0);
  await client.close();
  return connected ? { t, lag: seen === undefined ? NaN : t - seen } : t;
}

async function main() {
  if (!fs.existsSync(CLI)) throw new Error('build first: npm run build');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-start-'));
  try {
    const demo = spawnSync(process.execPath, [CLI, 'demo', '--dir', tmp], { stdio: 'ignore' });
    if (demo.status !== 0) throw new Error('demo failed');
    const cfg = path.join(tmp, 'proxy.json');
    fs.writeFileSync(cfg, JSON.stringify({ workspace: { root: path.join(tmp, 'ws') }, mcpServers: { ev: { command: process.execPath, args: [EVERYTHING, 'stdio'] } } }));
    const relayC = path.join(tmp, 'relay-c');
    const hasC = spawnSync('cc', ['-O2', '-o', relayC, path.join(ROOT, 'bench/relay.c')], { stdio: 'ignore' }).status === 0;
    const x = { bare: [], version: [], info: [], direct: [], proxy: [], lag: [], relayNode: [], relayC: [] };
    for (let i = 0; i < REPS; i++) {
      x.bare.push(timed(['-e', '0'], tmp));
      x.version.push(timed([CLI, '--version'], tmp));
      x.bare.push(timed(['-e', '0'], tmp));
      x.info.push(timed([CLI, 'info'], tmp));
      x.direct.push(await firstList([EVERYTHING, 'stdio'], tmp));
      const p = await firstList([CLI, 'serve', '--config', cfg], tmp, undefined, 'server "ev" connected');
      x.proxy.push(p.t);
      x.lag.push(p.lag);
      x.relayNode.push(await firstList([path.join(ROOT, 'bench/relay.mjs'), process.execPath, EVERYTHING, 'stdio'], tmp));
      if (hasC) x.relayC.push(await firstList([EVERYTHING, 'stdio'], tmp, relayC));
    }
    const bare = median(x.bare);
    const [v, inf, d, p, rn] = [median(x.version), median(x.info), median(x.direct), median(x.proxy), median(x.relayNode)];
    const rc = hasC ? median(x.relayC) : undefined;
    const lag = median(x.lag);
    const md = [
      `Start-up ${new Date().toISOString()} — node ${process.version}, ${os.cpus().length} cores, medians of ${REPS} alternating runs`,
      '',
      '| what | time | floor (same run) | ratio / added | goal | |',
      '| --- | --- | --- | --- | --- | --- |',
      `| \`--version\` | ${v.toFixed(0)} ms | \`node -e 0\` ${bare.toFixed(0)} ms | ${(v / bare).toFixed(2)}× | ≤ 2.0× | ${v / bare <= 2 ? 'met' : '**not met**'} |`,
      `| \`info\` (demo workspace, its config) | ${inf.toFixed(0)} ms | \`node -e 0\` ${bare.toFixed(0)} ms | ${(inf / bare).toFixed(2)}× | ≤ 2.0× | ${inf / bare <= 2 ? 'met' : '**not met**'} |`,
      `| first tools/list: server-everything alone | ${d.toFixed(0)} ms | | | | |`,
      ...(rc !== undefined ? [`| first tools/list: behind the C byte relay | ${rc.toFixed(0)} ms | alone ${d.toFixed(0)} ms | +${(rc - d).toFixed(0)} ms | | floor |`] : []),
      `| first tools/list: behind the Node byte relay | ${rn.toFixed(0)} ms | alone ${d.toFixed(0)} ms | +${(rn - d).toFixed(0)} ms | | floor |`,
      `| first tools/list with the downstream's tools, proxy mode | ${p.toFixed(0)} ms | Node relay ${rn.toFixed(0)} ms | +${(p - rn).toFixed(0)} ms (alone +${(p - d).toFixed(0)}) | ≤ +50 ms | ${p - rn <= 50 ? 'met' : '**not met**'} |`,
      `| … of which after the downstream's own answer to the proxy | ${lag.toFixed(1)} ms | | | ≤ 50 ms | ${lag <= 50 ? 'met' : '**not met**'} |`,
      '',
    ].join('\n');
    process.stdout.write(md);
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, md);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`start bench failed: ${e?.stack || e}\n`);
    process.exit(1);
  },
);
