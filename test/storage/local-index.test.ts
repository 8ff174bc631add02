// The counts index must agree with a full walk whatever writers do around it: files added,
// removed, nested, folders swapped for symlinks, mtimes set back, and writers racing readers.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun } from '../../src/server/info.js';
import { Folder } from '../../src/storage/local-folder.js';
import { RunIndex } from '../../src/storage/local-index.js';
import { Workspaces } from '../../src/workspace/layout.js';
import { buildManifest, readManifestFiles, recentEntries, writeManifest } from '../../src/workspace/manifest.js';
import { newestManifestNames, SUBDIRS, type RunTarget } from '../../src/workspace/types.js';
import { onCleanup, tempDir } from '../helpers.js';

/** Files and bytes below a folder, by a plain walk that never follows a symlink. */
async function countFiles(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const n of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, n.name);
      if (n.isDirectory()) stack.push(p);
      else if (n.isFile()) {
        files++;
        bytes += (await fs.lstat(p).catch(() => undefined))?.size ?? 0;
      }
    }
  }
  return { files, bytes };
}

const SHAPE = { subfolders: SUBDIRS, newest: { folder: 'manifests', order: (n: string[]) => newestManifestNames(n, Number.POSITIVE_INFINITY) } };

/** The index's counts of a run, the run folder entered by descriptor as the store does. */
async function countsOf(index: RunIndex, run: RunTarget) {
  const f = await Folder.open(run.runDir);
  try {
    return await index.counts(f, run.runDir, SHAPE);
  } finally {
    await f.close();
  }
}

/** A persisted-index folder `{base}/cache`, as the store names its own. */
async function cacheDir(): Promise<{ path: string; dir: { root: Folder; name: string } }> {
  const base = await tempDir('aw-index-cache-');
  const root = await Folder.open(base);
  onCleanup(() => root.close());
  return { path: path.join(base, 'cache'), dir: { root, name: 'cache' } };
}

/** What the index must equal: a plain recursive walk of every subfolder. */
async function truth(run: RunTarget): Promise<{ counts: Record<string, number>; bytes: number }> {
  const counts: Record<string, number> = {};
  let bytes = 0;
  for (const s of SUBDIRS) {
    const c = await countFiles(run.subdirs[s]);
    counts[s] = c.files;
    bytes += c.bytes;
  }
  return { counts, bytes };
}

async function newRun(): Promise<{ ws: Workspaces; run: RunTarget }> {
  const ws = await Workspaces.open(path.join(await tempDir('aw-index-'), 'ws'), undefined, { index: { persist: false } });
  onCleanup(() => ws.store.close());
  return { ws, run: await ws.createRun('tips') };
}

// A clock 10 s ahead makes every folder and file look settled, so records are trusted and only
// the stat checks stand between a change and a stale answer.
const later = () => Date.now() + 10_000;

describe('RunIndex', () => {
  it('detects files added, removed and nested, and folders swapped for symlinks', async () => {
    const { run } = await newRun();
    const index = new RunIndex({ dir: null, now: later });
    const check = async () => expect(await countsOf(index, run)).toMatchObject(await truth(run));
    await fs.writeFile(path.join(run.subdirs.plots, 'a.png'), 'a'.repeat(10));
    await check();
    await fs.writeFile(path.join(run.subdirs.plots, 'b.png'), 'b'.repeat(20));
    await check();
    await fs.rm(path.join(run.subdirs.plots, 'a.png'));
    await check();
    await fs.mkdir(path.join(run.subdirs.models, 'm', 'deep'), { recursive: true });
    await fs.writeFile(path.join(run.subdirs.models, 'm', 'deep', 'w.bin'), 'w'.repeat(7));
    await check();
    await fs.writeFile(path.join(run.subdirs.models, 'm', 'deep', 'v.bin'), 'v');
    await check();
    await fs.rm(path.join(run.subdirs.models, 'm'), { recursive: true });
    await check();
    // A subfolder replaced by a symlink to a full folder must not count what it points at.
    const outside = await tempDir();
    await fs.writeFile(path.join(outside, 'x'), 'x');
    await fs.rm(run.subdirs.logs, { recursive: true });
    await fs.symlink(outside, run.subdirs.logs);
    expect((await countsOf(index, run)).counts.logs).toBe(0);
  });

  it('a change that keeps the folder mtime (set back with utimes) is caught by ctime', async () => {
    const { run } = await newRun();
    const index = new RunIndex({ dir: null, now: later });
    await countsOf(index, run);
    const st = await fs.stat(run.subdirs.data);
    await fs.writeFile(path.join(run.subdirs.data, 'sneaky.csv'), 'x,y\n');
    await fs.utimes(run.subdirs.data, st.atime, st.mtime);
    expect((await countsOf(index, run)).counts.data).toBe(1);
  });

  it('a folder changed within the racy window is re-read on every call, even with its mtime unchanged', async () => {
    const { run } = await newRun();
    const index = new RunIndex({ dir: null });
    await fs.writeFile(path.join(run.subdirs.reports, 'r.html'), '<p>');
    expect((await countsOf(index, run)).counts.reports).toBe(1);
    // A file still growing right after it was listed: its size is re-read, not cached.
    await fs.appendFile(path.join(run.subdirs.reports, 'r.html'), 'more text');
    expect(await countsOf(index, run)).toMatchObject(await truth(run));
  });

  it('stays exact while writers race readers (store writes, manifests, plain writes)', async () => {
    const { ws, run } = await newRun();
    // The real clock: folders written within the same timestamp tick as a scan are racy, so a
    // change that lands in that tick is re-read rather than hidden behind an unchanged mtime.
    const index = new RunIndex({ dir: null });
    const { store } = ws;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 40; i++) {
        if (i % 3 === 0) await fs.writeFile(path.join(run.subdirs.logs, `w${w}_${i}.log`), 'l'.repeat(i));
        else await store.putBytes(Buffer.from(`artifact ${w} ${i}`), [...run.key, 'plots'], `p${w}_${i}.png`);
        if (i % 10 === 0) await writeManifest(store, run, buildManifest(run, 't', new Date(), [], []), new Date());
      }
    });
    const readers = (async () => {
      for (let i = 0; i < 30; i++) await countsOf(index, run);
    })();
    await Promise.all([...writers, readers]);
    expect(await countsOf(index, run)).toMatchObject(await truth(run));
  });

  it('a persisted index is used by a fresh instance, rebuilt where stale, and ignored when malformed', async () => {
    const { run } = await newRun();
    const { path: dirPath, dir } = await cacheDir();
    await fs.writeFile(path.join(run.subdirs.plots, 'a.png'), 'aaa');
    await countsOf(new RunIndex({ dir, persistMinFiles: 0, now: later }), run);
    const [file] = await fs.readdir(dirPath);
    expect(file).toMatch(/^[0-9a-f]{32}\.json$/);
    // Another process adds a file: the next process's fresh instance must see it.
    await fs.writeFile(path.join(run.subdirs.plots, 'b.png'), 'bbbb');
    expect(await countsOf(new RunIndex({ dir, persistMinFiles: 0, now: later }), run)).toMatchObject(await truth(run));
    await fs.writeFile(path.join(dirPath, file!), '{"v":1,"runDir":"x","dirs":{"plots":{"files":"lots"}}}');
    expect(await countsOf(new RunIndex({ dir, persistMinFiles: 0, now: later }), run)).toMatchObject(await truth(run));
    await fs.writeFile(path.join(dirPath, file!), 'not json');
    expect(await countsOf(new RunIndex({ dir, persistMinFiles: 0, now: later }), run)).toMatchObject(await truth(run));
  });

  it('counts keep SUBDIRS order', async () => {
    const { run } = await newRun();
    expect(Object.keys((await countsOf(new RunIndex({ dir: null }), run)).counts)).toEqual([...SUBDIRS]);
  });
});

describe('recent entries', () => {
  it('equal the last entries of all manifests, across empty, torn and foreign files and > 64 manifests', async () => {
    const { ws, run } = await newRun();
    const { store } = ws;
    const at = new Date(2025, 0, 1, 12, 0, 0);
    for (let i = 0; i < 90; i++) {
      const when = new Date(at.getTime() + i);
      const entries = i % 7 === 0 ? [] : Array.from({ length: i % 3 }, (_, j) => ({ tool: 't', type: 'plot', label: `l${i}_${j}`, src: '/s', dst: `/d/${i}_${j}`, mode: 'copy' as const, bytes: 1, sha256: '0'.repeat(64), mime: 'image/png', ts: 'ts' }));
      await writeManifest(store, run, buildManifest(run, 't', when, entries, i % 7 === 0 ? [{ src: '/etc/passwd', reason: 'no' }] : []), when);
    }
    await fs.writeFile(path.join(run.subdirs.manifests, 'manifest_20991231_235959_999.json'), '{"torn":');
    await fs.writeFile(path.join(run.subdirs.manifests, 'notes.txt'), 'hello');
    const reference = (await readManifestFiles(store, run)).flatMap((m) => m.manifest?.entries ?? []).slice(-10);
    expect(reference).toHaveLength(10);
    expect(await recentEntries(store, run, 10)).toEqual(reference);
    const info = await describeRun(ws, run, { mode: 'copy' });
    expect(info.recent).toEqual(reference);
    expect({ counts: info.counts, bytes: info.bytes }).toEqual(await truth(run));
    // Only a few manifests, all empty: the newest list runs out and nothing is invented.
    const { ws: ws2, run: small } = await newRun();
    await writeManifest(ws2.store, small, buildManifest(small, 't', at, [], [{ src: 'x', reason: 'y' }]), at);
    expect(await recentEntries(ws2.store, small, 10)).toEqual([]);
  });

  it('runs lists the newest 20 run ids newest first, ignoring files and foreign names', async () => {
    const { ws } = await newRun();
    const ds = path.join(ws.root, 'iris');
    await fs.mkdir(ds);
    for (let i = 0; i < 30; i++) await fs.mkdir(path.join(ds, `20250101_0000${String(i).padStart(2, '0')}`));
    await fs.mkdir(path.join(ds, '20250101_000029_2'));
    await fs.mkdir(path.join(ds, '20250101_000029_10'));
    await fs.writeFile(path.join(ds, '20991231_235959'), 'a file, not a run');
    await fs.mkdir(path.join(ds, 'notarun'));
    const all = (await ws.listRuns('iris')).reverse();
    expect(await ws.recentRuns('iris', 20)).toEqual(all.slice(0, 20));
    expect(all.slice(0, 3)).toEqual(['20250101_000029_10', '20250101_000029_2', '20250101_000029']);
    expect(all).not.toContain('20991231_235959');
  });
});
