// The startup sweep of temps left by killed writers: the pure decision, the bounded walk, and the
// rule that matters most, that a live writer's temp is never removed (its copy still completes).
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { LocalStore } from '../../src/storage/local.js';
import { tempName } from '../../src/storage/local-io.js';
import { MAX_TEMP_AGE_MS, staleReason, tempPid } from '../../src/storage/local-sweep.js';
import { startTempSweep } from '../../src/workspace/sweep.js';
import { onCleanup, tempDir } from '../helpers.js';
import { waitFor } from '../proxy/harness.js';
import { deadPid, tempsUnder } from './support.js';

const HOUR = 60 * 60_000;

async function storeAt(root: string): Promise<LocalStore> {
  const s = await LocalStore.open(root);
  onCleanup(() => s.close());
  return s;
}
const sweepTemps = async (root: string, opts?: { maxDirs?: number }) => (await storeAt(root)).sweepTemps(opts);

describe('temp names and the sweep decision', () => {
  it('temp names carry the writer pid', () => {
    expect(tempName()).toMatch(new RegExp(`^\\.aw-tmp-${process.pid}-[0-9a-f]{16}$`));
    expect(tempPid(tempName(4242))).toBe(4242);
    expect(tempPid('.aw-tmp-0123456789abcdef')).toBeUndefined(); // the old, pid-less form
    expect(tempPid('.aw-tmp-12-')).toBeUndefined();
    expect(tempPid('.aw-tmp-99999999999-ab')).toBeUndefined(); // not a pid
    expect(tempPid('model.aw-tmp-12-ab')).toBeUndefined();
  });

  it('removes a dead writer\'s temp, or any temp older than a day; keeps live and young ones', () => {
    const now = Date.now();
    const alive = (pid: number) => pid === 111;
    expect(staleReason('.aw-tmp-222-ab', now, now, alive)).toBe('writer 222 is gone');
    expect(staleReason('.aw-tmp-111-ab', now - 23 * HOUR, now, alive)).toBeNull();
    expect(staleReason('.aw-tmp-111-ab', now - 25 * HOUR, now, alive)).toBe('older than the age limit');
    expect(staleReason('.aw-tmp-0123456789abcdef', now - HOUR, now, alive)).toBeNull();
    expect(staleReason('.aw-tmp-0123456789abcdef', now - MAX_TEMP_AGE_MS - 1, now, alive)).toBe('older than the age limit');
    expect(staleReason('.latest-abc', now - 25 * HOUR, now, alive)).toBe('older than the age limit');
    expect(staleReason('.latest-abc', now, now, alive)).toBeNull();
    // Our own process is alive whatever the probe says.
    expect(staleReason(`.aw-tmp-${process.pid}-ab`, now, now, () => false)).toBeNull();
    expect(staleReason('plot.png', 0, now, () => false)).toBeNull();
  });
});

describe('sweepTemps', () => {
  it('removes dead writers\' files and folders at every level of a run, keeps the rest', async () => {
    const root = await tempDir();
    const run = path.join(root, 'tips', '20250101_000000');
    await fs.mkdir(path.join(run, 'plots'), { recursive: true });
    await fs.mkdir(path.join(run, 'manifests'), { recursive: true });
    const dead = await deadPid();
    const old = new Date(Date.now() - 25 * HOUR);
    const files = {
      deadFile: path.join(run, 'plots', tempName(dead)),
      deadDir: path.join(run, 'plots', tempName(dead)),
      deadManifest: path.join(run, 'manifests', tempName(dead)),
      oldPidless: path.join(run, 'plots', '.aw-tmp-0123456789abcdef'),
      young: path.join(run, 'plots', '.aw-tmp-fedcba9876543210'),
      live: path.join(run, 'plots', tempName()),
      artifact: path.join(run, 'plots', 'hist.png'),
    };
    for (const [k, p] of Object.entries(files)) {
      if (k === 'deadDir') {
        await fs.mkdir(p);
        await fs.writeFile(path.join(p, 'member.bin'), 'half');
      } else await fs.writeFile(p, k);
    }
    await fs.utimes(files.oldPidless, old, old);
    // A symlink named like a temp, pointing outside: only the link may go, never its target.
    const outside = await tempDir();
    await fs.writeFile(path.join(outside, 'precious.txt'), 'keep');
    const planted = path.join(run, 'plots', tempName(dead));
    await fs.symlink(outside, planted);

    const r = await sweepTemps(root);
    expect(r.removed.sort()).toEqual([files.deadFile, files.deadDir, files.deadManifest, files.oldPidless, planted].sort());
    expect(r.kept).toBe(2);
    expect(r.errors).toBe(0);
    expect(await tempsUnder(root)).toEqual([files.live, files.young].sort());
    expect(await fs.readFile(files.artifact, 'utf8')).toBe('artifact');
    expect(await fs.readFile(path.join(outside, 'precious.txt'), 'utf8')).toBe('keep');
  });

  it('never enters symlinked folders and stops at its folder bound', async () => {
    const root = await tempDir();
    const outside = await tempDir();
    const dead = await deadPid();
    await fs.writeFile(path.join(outside, tempName(dead)), 'not ours');
    await fs.symlink(outside, path.join(root, 'linked'));
    for (let i = 0; i < 5; i++) await fs.mkdir(path.join(root, `ds${i}`, 'run'), { recursive: true });
    await fs.writeFile(path.join(root, 'ds0', 'run', tempName(dead)), 'x');
    expect((await sweepTemps(root)).removed).toHaveLength(1);
    expect(await fs.readdir(outside)).toHaveLength(1);
    const bounded = await sweepTemps(root, { maxDirs: 3 });
    expect(bounded).toMatchObject({ dirs: 3, truncated: true });
  });

  it('a live writer\'s temp survives a sweep mid-copy, and its copy completes', async () => {
    const dest = await tempDir();
    const store = await storeAt(dest);
    const source = new PassThrough();
    const put = store.putBytes(source, [], 'model.bin');
    source.write(Buffer.alloc(64 * 1024, 1));
    const [temp] = await waitFor(async () => ((await tempsUnder(dest)).length ? tempsUnder(dest) : undefined), 5000, 'the temp file');
    expect(path.basename(temp!)).toMatch(new RegExp(`^\\.aw-tmp-${process.pid}-`));
    // The sweep as serve starts it, with a probe that calls every other pid dead.
    const r = await startTempSweep(store, silentLogger, { isAlive: () => false });
    expect(r?.removed).toEqual([]);
    expect(r?.kept).toBe(1);
    source.end(Buffer.alloc(64 * 1024, 2));
    const res = await put;
    expect(res.bytes).toBe(128 * 1024);
    expect((await fs.stat(path.join(dest, 'model.bin'))).size).toBe(128 * 1024);
    expect(await tempsUnder(dest)).toEqual([]);
  });
});
