// Concurrent load on one workspaces root. Four server processes (the built CLI) each make 50
// routing calls at once on one dataset: every process gets its own run, and in each run 50
// different files that share one name all survive (plot.png, plot_1.png, …), shared bytes are
// stored once, every manifest entry matches a file on disk. Then 50 Streamable HTTP sessions at
// once: each sees only its own current workspace.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { resolveSettings } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createContext } from '../../src/server/context.js';
import { sessionServer } from '../../src/serve.js';
import { startHttpFront } from '../../src/transports/http.js';
import { compareRunIds } from '../../src/workspace/slug.js';
import { onCleanup, sc, tempDir } from '../helpers.js';
import { CLI, manifestsUnder, startCli, tempsUnder } from './support.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const PROCS = 4;
const CALLS = 50;

describe('concurrent load on one root', () => {
  it(`${PROCS} processes × ${CALLS} concurrent routing calls on one dataset: unique runs, nothing lost or overwritten`, { timeout: 60_000 }, async () => {
    const cwd = await tempDir();
    const root = path.join(cwd, 'ws');
    const src = await tempDir();
    const shared = path.join(src, 'shared.csv');
    await fs.writeFile(shared, 'a,b\n1,2\n');
    // Per process and call, a file named plot.png with bytes no other file has.
    const files = await Promise.all(
      Array.from({ length: PROCS }, (_, p) =>
        Promise.all(
          Array.from({ length: CALLS }, async (_, c) => {
            const dir = path.join(src, `p${p}`, `c${c}`);
            await fs.mkdir(dir, { recursive: true });
            const file = path.join(dir, 'plot.png');
            await fs.writeFile(file, `process ${p} call ${c} ${'#'.repeat(c * 97)}`);
            return file;
          }),
        ),
      ),
    );
    const servers = await Promise.all(Array.from({ length: PROCS }, () => startCli({ WORKSPACES_ROOT: root }, cwd)));
    const t0 = Date.now();
    const results = await Promise.all(
      servers.map((s, p) =>
        Promise.all(files[p]!.map(async (f) => sc(await s.call('route_artifacts', { dataset: 'tips', paths: [f, shared] })))),
      ),
    );
    const elapsed = Date.now() - t0;

    const runs = results.map((r) => r.map((o) => o.run_id as string));
    for (const r of runs) expect(new Set(r).size).toBe(1); // a process keeps its run
    const runIds = runs.map((r) => r[0]!);
    expect(new Set(runIds).size).toBe(PROCS);
    for (let p = 0; p < PROCS; p++) {
      const runDir = path.join(root, 'tips', runIds[p]!);
      const out = results[p]!;
      expect(out.flatMap((o) => o.skipped)).toEqual([]);
      const plots = out.map((o) => o.routed.find((e: any) => e.src.endsWith('plot.png')));
      // Every source's bytes are in exactly one file of the run, under its own name.
      const want = await Promise.all(files[p]!.map(async (f) => sha(await fs.readFile(f))));
      expect(plots.map((e: any) => e.sha256)).toEqual(want);
      expect(new Set(plots.map((e: any) => e.dst)).size).toBe(CALLS);
      const onDisk = (await fs.readdir(path.join(runDir, 'plots'))).sort();
      expect(onDisk).toEqual(['plot.png', ...Array.from({ length: CALLS - 1 }, (_, i) => `plot_${i + 1}.png`)].sort());
      const diskShas = await Promise.all(onDisk.map(async (n) => sha(await fs.readFile(path.join(runDir, 'plots', n)))));
      expect(diskShas.sort()).toEqual([...want].sort());
      // The shared bytes are stored once; 49 calls found them there.
      expect(await fs.readdir(path.join(runDir, 'data'))).toEqual(['shared.csv']);
      expect(out.filter((o) => o.routed.some((e: any) => e.src === shared && e.deduplicated)).length).toBe(CALLS - 1);
    }
    const manifests = await manifestsUnder(root);
    expect(manifests).toHaveLength(PROCS * CALLS);
    expect(new Set(manifests.map((m) => m.file)).size).toBe(PROCS * CALLS);
    for (const { json } of manifests) {
      expect(json.entries).toHaveLength(2);
      for (const e of json.entries) expect(sha(await fs.readFile(e.dst))).toBe(e.sha256);
    }
    expect(await tempsUnder(root)).toEqual([]);
    const latest = await fs.readlink(path.join(root, 'tips', 'latest'));
    expect(latest).toBe([...runIds].sort(compareRunIds).at(-1));
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--root', root], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    console.info(`[concurrency] ${PROCS} processes × ${CALLS} calls (${PROCS * CALLS * 2} artifacts) routed in ${elapsed} ms; runs ${runIds.join(', ')}`);
  });

  it('50 concurrent Streamable HTTP sessions each see only their own current workspace', { timeout: 60_000 }, async () => {
    const base = await tempDir();
    const ctx = await createContext(resolveSettings({ env: {}, flags: { root: path.join(base, 'ws') }, cwd: base }), silentLogger);
    onCleanup(() => ctx.workspaces.store.close());
    const front = await startHttpFront({ host: '127.0.0.1', port: 0, log: silentLogger, createSession: () => ({ server: sessionServer(ctx, undefined).server }) });
    onCleanup(() => front.close());
    const SESSIONS = 50;
    const t0 = Date.now();
    const clients = await Promise.all(
      Array.from({ length: SESSIONS }, async () => {
        const c = new Client({ name: 'load', version: '1.0.0' });
        onCleanup(() => c.close());
        await c.connect(new StreamableHTTPClientTransport(new URL(front.url)));
        return c;
      }),
    );
    expect(front.sessionCount()).toBe(SESSIONS);
    const call = async (c: Client, name: string, args: Record<string, unknown> = {}) => sc((await c.callTool({ name, arguments: args })) as any);
    // Ten datasets, five sessions on each: sessions on one dataset still get runs of their own.
    const mine = await Promise.all(
      clients.map(async (c, i) => {
        const ws = await call(c, 'ensure_workspace', { dataset: `ds${i % 10}` });
        const file = path.join(base, `s${i}.csv`);
        await fs.writeFile(file, `session ${i}\n`);
        const routed = await call(c, 'route_artifacts', { paths: [file] });
        return { ws, file, routed };
      }),
    );
    const infos = await Promise.all(clients.map((c) => call(c, 'get_workspace_info')));
    const elapsed = Date.now() - t0;
    expect(new Set(mine.map((m) => m.ws.workspace_root)).size).toBe(SESSIONS);
    infos.forEach((info, i) => {
      const { ws, file, routed } = mine[i]!;
      expect(info).toMatchObject({ active: true, dataset: `ds${i % 10}`, run_id: ws.run_id, workspace_root: ws.workspace_root });
      expect(routed.run_id).toBe(ws.run_id);
      expect(routed.routed.map((e: any) => e.dst)).toEqual([path.join(ws.workspace_root, 'data', `s${i}.csv`)]);
      expect(info.recent.map((e: any) => e.src)).toEqual([file]);
      expect(info.counts.data).toBe(1);
    });
    console.info(`[concurrency] ${SESSIONS} HTTP sessions: connect, ensure, route, info in ${elapsed} ms`);
  });
});
