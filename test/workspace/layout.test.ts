import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspaces } from '../../src/workspace/layout.js';
import { WorkspaceSession } from '../../src/workspace/session.js';
import { SUBDIRS } from '../../src/workspace/types.js';
import { onCleanup } from '../helpers.js';

async function tmpRoot(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'aw-layout-'));
  onCleanup(() => fs.rm(d, { recursive: true, force: true }));
  return d;
}
const fixed = (d: Date) => ({ now: () => d });

/** Opened workspaces whose root descriptor is closed after the test. */
async function openWorkspaces(...args: Parameters<typeof Workspaces.open>): Promise<Workspaces> {
  const ws = await Workspaces.open(...args);
  onCleanup(() => ws.store.close());
  return ws;
}

describe('Workspaces', () => {
  it('creates a run with the 10 subfolders and a relative latest symlink', async () => {
    const ws = await openWorkspaces(await tmpRoot(), fixed(new Date(2025, 9, 17, 22, 30, 45)));
    const run = await ws.createRun('tips');
    expect(run.runId).toBe('20251017_223045');
    for (const s of SUBDIRS) expect((await fs.stat(run.subdirs[s])).isDirectory()).toBe(true);
    expect(await fs.readlink(path.join(ws.root, 'tips', 'latest'))).toBe('20251017_223045');
    expect(await ws.latest('tips')).toBe('20251017_223045');
  });

  it('a second run in the same second gets _2, _3 and latest follows', async () => {
    const ws = await openWorkspaces(await tmpRoot(), fixed(new Date(2025, 9, 17, 22, 30, 45)));
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await ws.createRun('tips')).runId);
    expect(ids).toEqual(['20251017_223045', '20251017_223045_2', '20251017_223045_3']);
    expect(await ws.latest('tips')).toBe('20251017_223045_3');
    expect(await ws.listRuns('tips')).toEqual(ids);
  });

  it('concurrent creations never share a run, and latest names the newest', async () => {
    const ws = await openWorkspaces(await tmpRoot(), fixed(new Date(2025, 0, 1, 0, 0, 0)));
    const runs = await Promise.all(Array.from({ length: 20 }, () => ws.createRun('tips')));
    expect(new Set(runs.map((r) => r.runId)).size).toBe(20);
    expect(await ws.latest('tips')).toBe('20250101_000000_20');
  });

  it('refuses a dataset folder replaced by a symlink out of the root', async () => {
    const root = await tmpRoot();
    const outside = await tmpRoot();
    const ws = await openWorkspaces(root);
    await fs.symlink(outside, path.join(ws.root, 'tips'));
    await expect(ws.createRun('tips')).rejects.toThrow(/not a plain folder/);
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it('rejects bad slugs and run ids', async () => {
    const ws = await openWorkspaces(await tmpRoot());
    await expect(ws.createRun('../x')).rejects.toThrow(/not a dataset slug/);
    await expect(ws.openRun('tips', '../../etc')).rejects.toThrow(/not a run id/);
    await expect(ws.openRun('tips', '20250101_000000')).rejects.toThrow(/no run/);
  });
});

describe('latest pointer', () => {
  it('is swapped atomically and read back; latest.txt is accepted too; anything else is no run', async () => {
    const ws = await openWorkspaces(await tmpRoot());
    await ws.store.ensureFolder(['a']);
    await ws.store.writeLatest('a', '20250101_000000');
    await ws.store.writeLatest('a', '20250101_000001');
    expect(await fs.readlink(path.join(ws.root, 'a', 'latest'))).toBe('20250101_000001');
    expect(await ws.latest('a')).toBe('20250101_000001');
    expect((await fs.readdir(path.join(ws.root, 'a'))).filter((n) => n.startsWith('.latest-'))).toEqual([]);
    await fs.mkdir(path.join(ws.root, 'b'));
    await fs.writeFile(path.join(ws.root, 'b', 'latest.txt'), '20250101_000009\n');
    expect(await ws.latest('b')).toBe('20250101_000009');
    await fs.writeFile(path.join(ws.root, 'b', 'latest.txt'), '../../etc\n');
    expect(await ws.latest('b')).toBeUndefined();
    await expect(ws.store.writeLatest('a', '../x')).rejects.toThrow(/not a run id/);
  });
});

describe('WorkspaceSession', () => {
  it('one run per dataset per session until new_run; concurrent first touches share it', async () => {
    const ws = await openWorkspaces(await tmpRoot(), fixed(new Date(2025, 0, 1, 0, 0, 0)));
    const s = new WorkspaceSession(ws);
    const [a, b] = await Promise.all([s.ensure('tips.csv'), s.ensure('/x/tips.csv')]);
    expect(a.run.runId).toBe(b.run.runId);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    expect(s.current).toBe('tips');
    const again = await s.ensure('tips');
    expect(again).toMatchObject({ created: false, run: { runId: a.run.runId } });
    const fresh = await s.ensure('tips', { newRun: true });
    expect(fresh.run.runId).not.toBe(a.run.runId);
    const other = new WorkspaceSession(ws);
    expect((await other.ensure('tips')).run.runId).not.toBe(fresh.run.runId);
  });

  it('no dataset means the current one, else "default"', async () => {
    const ws = await openWorkspaces(await tmpRoot());
    const s = new WorkspaceSession(ws);
    expect((await s.ensure()).run.dataset).toBe('default');
    await s.ensure('iris');
    expect((await s.ensure()).run.dataset).toBe('iris');
  });
});

describe('WorkspaceSession kinds and handles', () => {
  it('a session makes a new run on first touch; a stateless one takes latest, or makes one if there is none', async () => {
    const ws = await openWorkspaces(await tmpRoot(), fixed(new Date(2026, 10, 30, 9, 0, 0)));
    const first = await new WorkspaceSession(ws, { stateless: true }).ensure('tips');
    expect(first).toMatchObject({ created: true, run: { runId: '20261130_090000' } });
    // Another request (another process, even) finds the same run.
    const again = await new WorkspaceSession(ws, { stateless: true }).ensure('tips.csv');
    expect(again).toMatchObject({ created: false, run: { runId: '20261130_090000' } });
    // A 2025 session keeps its own run, and latest moves to it.
    const sessionful = await new WorkspaceSession(ws).ensure('tips');
    expect(sessionful).toMatchObject({ created: true, run: { runId: '20261130_090000_2' } });
    expect((await new WorkspaceSession(ws, { stateless: true }).ensure('tips')).run.runId).toBe('20261130_090000_2');
    // new_run is a new run in either kind.
    expect((await new WorkspaceSession(ws, { stateless: true }).ensure('tips', { newRun: true })).run.runId).toBe('20261130_090000_3');
  });

  it('a stateless session whose latest names a run that is gone makes a new one', async () => {
    const ws = await openWorkspaces(await tmpRoot(), fixed(new Date(2026, 10, 30, 9, 0, 0)));
    const { run } = await new WorkspaceSession(ws).ensure('tips');
    await fs.rm(run.runDir, { recursive: true });
    const next = await new WorkspaceSession(ws, { stateless: true }).ensure('tips');
    expect(next.created).toBe(true);
    expect((await fs.stat(next.run.subdirs.plots)).isDirectory()).toBe(true);
  });

  it('adopt makes the named run the session\'s and current; a bad or missing handle changes nothing', async () => {
    const ws = await openWorkspaces(await tmpRoot(), fixed(new Date(2026, 10, 30, 9, 0, 0)));
    const s = new WorkspaceSession(ws);
    const a = (await s.ensure('tips')).run;
    const b = (await s.ensure('iris')).run;
    expect(s.current).toBe('iris');
    const adopted = await s.adopt(`tips/${a.runId}`);
    expect(adopted.runDir).toBe(a.runDir);
    expect(s.current).toBe('tips');
    expect((await s.currentRun())?.runId).toBe(a.runId);
    await expect(s.adopt('tips/20991231_235959')).rejects.toThrow(/no run 20991231_235959 for dataset tips/);
    await expect(s.adopt('../x')).rejects.toThrow(/not a workspace handle/);
    expect(s.current).toBe('tips');
    expect((await s.runFor('iris'))?.runId).toBe(b.runId);
    expect(await ws.listDatasets()).toEqual(['iris', 'tips']);
  });
});
