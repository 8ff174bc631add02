// Folders swapped for symlinks while we work: the races an attacker who can write in an allowed
// source folder, or inside the workspaces, can run against routing, reads, verify and prune. A
// second process swaps a folder for a symlink and back in a tight loop for a bounded time while
// this one works; nothing outside the root may be read, written or removed, whatever the timing.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSourcePolicy } from '../../src/routing/policy.js';
import { routeCandidates } from '../../src/routing/router.js';
import { WorkspaceResources } from '../../src/server/resources.js';
import { Workspaces } from '../../src/workspace/layout.js';
import { CLI, onCleanup, snapshot, tempDir } from '../helpers.js';

/** How long each race runs. */
const RACE_MS = 2500;

/**
 * Swaps `target` (a folder) for a symlink to `to` and back, as fast as it can, in another process,
 * until the test ends; the real folder is back in place afterwards.
 */
async function swapper(target: string, to: string): Promise<void> {
  const script = `
    const fs = require('node:fs');
    const [t, to] = process.argv.slice(1);
    let stop = false;
    process.on('SIGTERM', () => (stop = true));
    // Bursts of swaps between turns of the event loop, so the stop signal is heard.
    const burst = () => {
      for (let k = 0; k < 200; k++) {
        try { fs.renameSync(t, t + '.p'); fs.symlinkSync(to, t); fs.unlinkSync(t); fs.renameSync(t + '.p', t); } catch {}
      }
      if (!stop) return setImmediate(burst);
      try { fs.unlinkSync(t); } catch {}
      try { fs.renameSync(t + '.p', t); } catch {}
      process.exit(0);
    };
    burst();`;
  const child = spawn(process.execPath, ['-e', script, target, to], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    // A swapper that does not stop within a second is killed outright (never left spinning).
    const hard = setTimeout(() => child.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(hard);
  });
  await new Promise((r) => setTimeout(r, 50));
}

/** Runs `fn` over and over until the race time is up; returns how many times it ran. */
async function during(fn: (i: number) => Promise<void>): Promise<number> {
  const until = Date.now() + RACE_MS;
  let i = 0;
  while (Date.now() < until) await fn(i++);
  return i;
}

async function setup() {
  const base = await tempDir('aw-race-');
  const home = path.join(base, 'home');
  const secret = path.join(home, '.ssh');
  await fs.mkdir(secret, { recursive: true });
  const ws = await Workspaces.open(path.join(base, 'ws'));
  onCleanup(() => ws.store.close());
  const src = path.join(base, 'src');
  await fs.mkdir(src);
  const policy = await createSourcePolicy({ roots: [src, ws.root], homeDir: home });
  return { base, home, secret, ws, src, policy };
}

/** Every stored file's bytes under `dir`, as text. */
async function storedTexts(dir: string): Promise<string[]> {
  return [...(await snapshot(dir)).keys()].length ? Promise.all([...(await filesUnder(dir))].map((f) => fs.readFile(f, 'latin1'))) : [];
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await fs.readdir(dir, { withFileTypes: true, recursive: true })) if (d.isFile()) out.push(path.join(d.parentPath, d.name));
  return out;
}

describe('races against folders swapped for symlinks', () => {
  it('routing a file whose folder is swapped for a link to ~/.ssh never stores the secret', async () => {
    const { secret, ws, src, policy } = await setup();
    await fs.writeFile(path.join(secret, 'model.pt'), 'SECRET KEY MATERIAL');
    await fs.mkdir(path.join(src, 'd'));
    await fs.writeFile(path.join(src, 'd', 'model.pt'), 'a model');
    await swapper(path.join(src, 'd'), secret);
    const run = await ws.createRun('tips');
    const tries = await during(() => routeCandidates({ tool: 't', candidates: [{ kind: 'path', path: path.join(src, 'd', 'model.pt'), label: 'model_path', explicit: false }], inputs: [], mode: 'copy', run }, { store: ws.store, policy }).then(() => undefined));
    const texts = await storedTexts(run.runDir);
    expect(texts.some((t) => t.includes('SECRET'))).toBe(false);
    expect(tries).toBeGreaterThan(10);
  });

  it('routing a folder artifact whose sub-folder is swapped for a link to ~/.ssh never stores the secret', async () => {
    const { secret, ws, src, policy } = await setup();
    await fs.writeFile(path.join(secret, 'w.bin'), 'SECRET KEY MATERIAL');
    await fs.mkdir(path.join(src, 'model', 'sub'), { recursive: true });
    await fs.writeFile(path.join(src, 'model', 'sub', 'w.bin'), 'weights');
    await swapper(path.join(src, 'model', 'sub'), secret);
    const run = await ws.createRun('tips');
    await during(() => routeCandidates({ tool: 't', candidates: [{ kind: 'path', path: path.join(src, 'model'), label: 'model_path', explicit: false }], inputs: [], mode: 'copy', run }, { store: ws.store, policy }).then(() => undefined));
    expect((await storedTexts(run.runDir)).some((t) => t.includes('SECRET'))).toBe(false);
  });

  it('a run\'s plots/ swapped for a link out of the root receives no artifact and no temp', async () => {
    const { base, ws, src, policy } = await setup();
    const outside = path.join(base, 'outside');
    await fs.mkdir(outside);
    const run = await ws.createRun('tips');
    await swapper(run.subdirs.plots, outside);
    let i = 0;
    await during(async () => {
      const f = path.join(src, `p${i++}.png`);
      await fs.writeFile(f, `plot ${i}`);
      await routeCandidates({ tool: 't', candidates: [{ kind: 'path', path: f, label: 'plot_path', explicit: false }], inputs: [], mode: 'copy', run }, { store: ws.store, policy });
    });
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it('resources/read never returns a file from outside the root while a folder inside is swapped', async () => {
    const { base, ws } = await setup();
    const outside = path.join(base, 'outside');
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'p.png'), 'OUTSIDE');
    const run = await ws.createRun('tips');
    await fs.writeFile(path.join(run.subdirs.plots, 'p.png'), 'inside');
    const res = new WorkspaceResources(ws.store);
    const uri = ws.store.uri([...run.key, 'plots', 'p.png']);
    await swapper(run.subdirs.plots, outside);
    const seen = new Map<string, number>();
    await during(async () => {
      const r = await res.readResource(uri)!.then(
        (x) => Buffer.from((x.contents[0] as { blob: string }).blob, 'base64').toString(),
        (e: Error) => `refused: ${e.message.replace(/\/\S+/g, '…')}`,
      );
      seen.set(r, (seen.get(r) ?? 0) + 1);
    });
    expect(seen.has('OUTSIDE')).toBe(false);
    expect(seen.get('inside')).toBeGreaterThan(0);
  });

  it('prune removes nothing outside the root while the dataset folder is swapped for a link', async () => {
    const { base, ws } = await setup();
    const outside = path.join(base, 'outside');
    for (const r of ['20240101_000000', '20240101_000001', '20240101_000002']) {
      await fs.mkdir(path.join(outside, r, 'plots'), { recursive: true });
      await fs.writeFile(path.join(outside, r, 'plots', 'keep.png'), 'precious');
    }
    for (let i = 0; i < 3; i++) await ws.createRun('tips');
    const before = await snapshot(outside);
    await swapper(path.join(ws.root, 'tips'), outside);
    await during(async () => {
      spawnSync(process.execPath, [CLI, 'prune', '--keep', '0', '--root', ws.root], { encoding: 'utf8' });
    });
    expect(await snapshot(outside)).toEqual(before);
  });
});

describe('verify through a symlinked folder inside a run', () => {
  it('reports the link as drift and never hashes what it points at', async () => {
    const { base, ws, src, policy } = await setup();
    await fs.mkdir(path.join(src, 'clf'));
    await fs.writeFile(path.join(src, 'clf', 'w.bin'), 'weights');
    const run = await ws.createRun('tips');
    const out = await routeCandidates({ tool: 't', candidates: [{ kind: 'path', path: path.join(src, 'clf'), label: 'model_path', type: 'model', explicit: false }], inputs: [], mode: 'copy', run }, { store: ws.store, policy });
    expect(out.routed).toHaveLength(1);
    // The same bytes, outside the root, and the stored folder swapped for a link to them.
    const outside = path.join(base, 'outside');
    await fs.cp(out.routed[0]!.dst, outside, { recursive: true });
    await fs.rm(out.routed[0]!.dst, { recursive: true });
    await fs.symlink(outside, out.routed[0]!.dst);
    const v = spawnSync(process.execPath, [CLI, 'verify', '--root', ws.root, '--json'], { encoding: 'utf8' });
    expect(v.status).toBe(1);
    expect(JSON.parse(v.stdout).problems).toEqual([{ dst: out.routed[0]!.dst, problem: 'drifted', detail: expect.stringMatching(/no longer a regular file or folder/) }]);
  });
});
