import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { detectArtifacts } from '../../src/routing/detect.js';
import { createSourcePolicy, type SourcePolicy } from '../../src/routing/policy.js';
import { routeCandidates, type RouteRequest } from '../../src/routing/router.js';
import type { Candidate } from '../../src/routing/types.js';
import { LocalStore } from '../../src/storage/local.js';
import { isoLocal } from '../../src/time.js';
import { Workspaces } from '../../src/workspace/layout.js';
import { readManifestFiles } from '../../src/workspace/manifest.js';
import { SUBDIRS, type Manifest, type RunTarget } from '../../src/workspace/types.js';
import { onCleanup } from '../helpers.js';

const sha = (b: string) => createHash('sha256').update(b).digest('hex');
const AT = new Date(2025, 9, 17, 22, 31, 45, 120);
const clock = { now: () => AT };

let tmp: string;
let run: RunTarget;
let policy: SourcePolicy;
let store: LocalStore;
beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'aw-router-')));
  onCleanup(() => fs.rm(tmp, { recursive: true, force: true }));
  store = await LocalStore.open(path.join(tmp, 'ws'));
  onCleanup(() => store.close());
  run = new Workspaces(store).target('tips', '20251017_223045');
  await Promise.all(SUBDIRS.map((s) => store.ensureFolder([...run.key, s])));
  await fs.mkdir(path.join(tmp, 'src'));
  policy = await createSourcePolicy({ roots: [path.join(tmp, 'src'), path.join(tmp, 'ws')], homeDir: path.join(tmp, 'home') });
});

const file = async (name: string, data = name) => {
  const p = path.join(tmp, 'src', name);
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, data);
  return p;
};
const route = (req: Partial<RouteRequest>) =>
  routeCandidates({ tool: 'plot', candidates: [], inputs: [], mode: 'copy', run, ...req }, { store, policy, clock });
const manifests = async (): Promise<Manifest[]> => (await readManifestFiles(store, run)).flatMap((m) => (m.manifest ? [m.manifest] : []));
const pathC = (p: string, extra: Partial<Extract<Candidate, { kind: 'path' }>> = {}): Candidate => ({ kind: 'path', path: p, label: 'plot_paths', explicit: false, ...extra });

describe('routeCandidates', () => {
  it('files a result into the right folders and writes one manifest in the SPEC schema', async () => {
    const png = await file('hist.png', 'PNG');
    const pkl = await file('m.pkl', 'MODEL');
    const det = detectArtifacts({ structuredContent: { plot_paths: [png], model_path: pkl, gpu_device: 'RTX' } });
    const out = await route({ candidates: det.candidates, gpu: det.gpu });
    expect(out.skipped).toEqual([]);
    expect(out.routed).toEqual([
      { tool: 'plot', type: 'plot', label: 'plot_paths', src: png, dst: path.join(run.subdirs.plots, 'hist.png'), mode: 'copy', bytes: 3, sha256: sha('PNG'), mime: 'image/png', ts: isoLocal(AT), gpu_used: true, gpu_device: 'RTX' },
      { tool: 'plot', type: 'model', label: 'model_path', src: pkl, dst: path.join(run.subdirs.models, 'm.pkl'), mode: 'copy', bytes: 5, sha256: sha('MODEL'), mime: 'application/octet-stream', ts: isoLocal(AT), gpu_used: true, gpu_device: 'RTX' },
    ]);
    expect(out.manifest).toBe(path.join(run.subdirs.manifests, 'manifest_20251017_223145_120.json'));
    expect(JSON.parse(await fs.readFile(out.manifest!, 'utf8'))).toEqual({
      schema: 1, dataset: 'tips', run_id: '20251017_223045', tool: 'plot', ts: isoLocal(AT), entries: out.routed, skipped: [],
    });
    expect(existsSync(png)).toBe(true);
  });

  it('writes no manifest when there was nothing to route', async () => {
    expect(await route({ candidates: [] })).toEqual({ routed: [], skipped: [], manifest: null, kept: [] });
    expect(await fs.readdir(run.subdirs.manifests)).toEqual([]);
  });

  it('two events in the same millisecond get _1, _2; readManifests orders them', async () => {
    const names: string[] = [];
    for (let i = 0; i < 12; i++) names.push(path.basename((await route({ candidates: [pathC(await file(`p${i}.png`))] })).manifest!));
    expect(names.slice(0, 3)).toEqual(['manifest_20251017_223145_120.json', 'manifest_20251017_223145_120_1.json', 'manifest_20251017_223145_120_2.json']);
    const read = await readManifestFiles(store, run);
    expect(read.map((m) => path.basename(m.file))).toEqual(names);
    expect((await manifests()).map((m) => path.basename(m.entries[0]!.src))).toEqual(names.map((_, i) => `p${i}.png`));
  });

  it('readManifestFiles reports torn, foreign and ill-typed manifests and entries, and hands on only good ones', async () => {
    await route({ candidates: [pathC(await file('a.png'))] });
    const good = JSON.parse(await fs.readFile(path.join(run.subdirs.manifests, 'manifest_20251017_223145_120.json'), 'utf8')) as Manifest;
    await fs.writeFile(path.join(run.subdirs.manifests, 'manifest_20251017_223145_121.json'), '{torn');
    await fs.writeFile(path.join(run.subdirs.manifests, 'manifest_20251017_223145_122.json'), '{"schema": 2}');
    await fs.writeFile(path.join(run.subdirs.manifests, 'manifest_20251017_223145_123.json'), JSON.stringify({ ...good, entries: [null, { ...good.entries[0], bytes: '3' }, good.entries[0]] }));
    await fs.writeFile(path.join(run.subdirs.manifests, 'notes.json'), '{}');
    const read = await readManifestFiles(store, run);
    expect(read.map((m) => [path.basename(m.file), m.manifest?.entries.length ?? null, m.problems.length])).toEqual([
      ['manifest_20251017_223145_120.json', 1, 0],
      ['manifest_20251017_223145_121.json', null, 1],
      ['manifest_20251017_223145_122.json', null, 1],
      ['manifest_20251017_223145_123.json', 1, 2],
    ]);
    expect(read[1]!.problems[0]).toMatch(/not valid JSON/);
    expect(read[3]!.problems).toEqual([expect.stringMatching(/^entries\[0\] is not a manifest entry/), expect.stringMatching(/^entries\[1\] is not a manifest entry \(bytes/)]);
    expect(await readManifestFiles(store, new Workspaces(store).target('nope', '20251017_223045'))).toEqual([]);
  });

  it('treats the call inputs as inputs, unless named explicitly', async () => {
    const csv = await file('tips.csv', 'a,b');
    expect(await route({ candidates: [pathC(csv, { label: 'data_path' })], inputs: [path.join(tmp, 'src/../src/tips.csv')] })).toEqual({ routed: [], skipped: [], manifest: null, kept: [] });
    const link = path.join(tmp, 'src/link.csv');
    await fs.symlink(csv, link);
    expect((await route({ candidates: [pathC(link)], inputs: [csv] })).routed).toEqual([]);
    const out = await route({ candidates: [pathC(csv, { explicit: true, label: 'artifacts' })], inputs: [csv] });
    expect(out.routed.map((e) => e.dst)).toEqual([path.join(run.subdirs.data, 'tips.csv')]);
  });

  it('never copies or deletes a file already in the run, in either mode', async () => {
    const inside = path.join(run.subdirs.plots, 'done.png');
    await fs.writeFile(inside, 'x');
    for (const mode of ['copy', 'move'] as const) {
      const out = await route({ candidates: [pathC(inside)], mode });
      expect(out.skipped).toEqual([{ src: inside, reason: 'already in workspace' }]);
    }
    expect(await fs.readdir(run.subdirs.plots)).toEqual(['done.png']);
  });

  it('a FIFO with a writer waiting behind it is never read: the call returns and stores nothing', async () => {
    const fifo = path.join(tmp, 'src', 'stream.csv');
    execFileSync('mkfifo', [fifo]);
    // Something is ready to write into it: a reader that opened it would get these bytes.
    const writer = spawn('sh', ['-c', `printf 'SECRET FROM THE PIPE' > '${fifo}'`]);
    onCleanup(async () => void writer.kill('SIGKILL'));
    for (const mode of ['copy', 'move'] as const) {
      const out = await route({ candidates: [pathC(fifo, { explicit: true })], mode });
      expect(out.routed).toEqual([]);
      expect(out.skipped).toHaveLength(1);
    }
    const stored = await fs.readdir(run.runDir, { recursive: true });
    for (const f of stored) {
      const full = path.join(run.runDir, String(f));
      if ((await fs.stat(full)).isFile() && !String(f).startsWith('manifests')) expect(await fs.readFile(full, 'utf8')).not.toContain('SECRET');
    }
    expect(stored.filter((f) => !String(f).startsWith('manifests') && String(f).includes('.'))).toEqual([]);
  });

  it('move of a file onto itself keeps it, whichever way it is named', async () => {
    const inside = path.join(run.subdirs.models, 'm.pkl');
    await fs.writeFile(inside, 'the only copy');
    const alias = path.join(tmp, 'src', 'alias.pkl');
    await fs.symlink(inside, alias);
    const hard = path.join(tmp, 'src', 'hard.pkl');
    await fs.link(inside, hard);
    for (const named of [inside, `${run.subdirs.models}/../models/m.pkl`, alias]) {
      const out = await route({ candidates: [pathC(named, { explicit: true })], mode: 'move' });
      expect(out.routed, named).toEqual([]);
      expect(out.skipped[0]?.reason, named).toBe('already in workspace');
    }
    // A hard link elsewhere is another name of the same file: moving it must not lose the bytes.
    const out = await route({ candidates: [pathC(hard, { explicit: true, type: 'model' })], mode: 'move' });
    expect(out.routed).toMatchObject([{ dst: path.join(run.subdirs.models, 'hard.pkl'), mode: 'move' }]);
    expect(await fs.readFile(inside, 'utf8')).toBe('the only copy');
    expect(await fs.readFile(out.routed[0]!.dst, 'utf8')).toBe('the only copy');
  });

  it('moves in move mode and records the mode; a named-twice file is routed once', async () => {
    const p = await file('r.pdf', 'PDF');
    const out = await route({ candidates: [pathC(p, { label: 'report_path' }), pathC(path.join(tmp, 'src/./r.pdf'))], mode: 'move' });
    expect(out.routed).toMatchObject([{ mode: 'move', type: 'report', dst: path.join(run.subdirs.reports, 'r.pdf') }]);
    expect(out.skipped).toEqual([]);
    expect(existsSync(p)).toBe(false);
  });

  it('writes inline bytes with mode write and src inline:<type>', async () => {
    const out = await route({
      candidates: [
        { kind: 'inline', blockType: 'image', encoding: 'base64', data: Buffer.from('IMG').toString('base64'), mime: 'image/png', label: 'image' },
        { kind: 'inline', blockType: 'resource', encoding: 'utf8', data: '# R', mime: 'text/markdown', name: 'summary.md', label: 'resource' },
      ],
    });
    expect(out.routed).toMatchObject([
      { mode: 'write', src: 'inline:image', type: 'plot', mime: 'image/png', dst: path.join(run.subdirs.plots, 'plot_image_20251017_223145_120.png'), sha256: sha('IMG'), bytes: 3 },
      { mode: 'write', src: 'inline:resource', type: 'report', mime: 'text/markdown', dst: path.join(run.subdirs.reports, 'summary.md'), sha256: sha('# R') },
    ]);
  });

  it('routes a folder artifact whole with files, bytes and the tree digest', async () => {
    await file('clf/config.json', '{}');
    await file('clf/weights.safetensors', 'W');
    const out = await route({ candidates: [pathC(path.join(tmp, 'src/clf'), { label: 'model_path', type: 'model' })] });
    expect(out.routed).toMatchObject([{ type: 'model', dst: path.join(run.subdirs.models, 'clf'), files: 2, bytes: 3, mime: 'inode/directory' }]);
  });

  it('uses the default type and honours a declared one', async () => {
    const out = await route({ candidates: [pathC(await file('x.bin')), pathC(await file('y.png'), { type: 'metrics' })], defaultType: 'index' });
    expect(out.routed.map((e) => [e.type, path.relative(run.runDir, e.dst)])).toEqual([['index', 'indexes/x.bin'], ['metrics', 'metrics/y.png']]);
  });

  it('refuses a run subfolder that was swapped for a symlink out of the run', async () => {
    await fs.rm(run.subdirs.plots, { recursive: true });
    await fs.mkdir(path.join(tmp, 'elsewhere'));
    await fs.symlink(path.join(tmp, 'elsewhere'), run.subdirs.plots);
    const out = await route({ candidates: [pathC(await file('a.png'))] });
    expect(out.skipped).toEqual([{ src: path.join(tmp, 'src/a.png'), reason: `${run.subdirs.plots} is not a plain folder (a symlink or a file stands there)` }]);
    expect(await fs.readdir(path.join(tmp, 'elsewhere'))).toEqual([]);
  });

  it('re-makes a missing manifests folder and never writes a manifest through a symlink', async () => {
    await fs.rm(run.subdirs.manifests, { recursive: true });
    expect((await route({ candidates: [pathC(await file('a.png'))] })).manifest).toMatch(/manifest_20251017_223145_120\.json$/);
    await fs.rm(run.subdirs.manifests, { recursive: true });
    await fs.mkdir(path.join(tmp, 'elsewhere'));
    await fs.symlink(path.join(tmp, 'elsewhere'), run.subdirs.manifests);
    const out = await route({ candidates: [pathC(await file('b.png'))] });
    expect(out.routed).toHaveLength(1);
    expect(out.manifest).toBeNull();
    expect(await fs.readdir(path.join(tmp, 'elsewhere'))).toEqual([]);
  });

  it('reports detection limits and never throws on a malformed request', async () => {
    const out = await route({ limits: ['max candidates 1000 reached'] });
    expect(out.skipped).toEqual([{ src: '(result)', reason: 'detection stopped: max candidates 1000 reached' }]);
    const bad = await routeCandidates({ tool: 't', candidates: 5 as never, inputs: null as never, mode: 'copy', run }, { store, policy, clock });
    expect(bad.skipped).toHaveLength(1);
    expect(bad.skipped[0]!.src).toBe('(request)');
    const noRun = await routeCandidates({ tool: 't', candidates: [pathC(await file('q.png'))], inputs: [], mode: 'copy', run: { ...run, key: ['..'] } }, { store, policy, clock });
    expect(noRun.routed).toEqual([]);
    expect(noRun.skipped[0]!.reason).toBe('not a workspace key: ["..","plots"]');
  });
});

describe('routeCandidates with keep (a tool result through the proxy, README "Chaining")', () => {
  const stored = async (runId: string, name: string, data = name) => {
    const p = path.join(tmp, 'ws', 'tips', runId, 'plots', name);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await fs.writeFile(p, data);
    return p;
  };
  const keep = (inner: Record<string, string> = {}, otherRoots: 'copy' | 'link' = 'copy') => ({ inner: new Map(Object.entries(inner).map(([s, d]) => [s, { dst: d }])), otherRoots });
  /** A run made only on demand, and whether it was. */
  const lazy = () => {
    const made = { yes: false };
    return { made, run: async () => ((made.yes = true), run) };
  };

  it('links a file already in another run where it is: no copy, no manifest, no run made', async () => {
    const other = await stored('20251017_000000', 'old.png');
    const l = lazy();
    const out = await route({ candidates: [pathC(other)], keep: keep(), run: l.run });
    expect(out).toEqual({ routed: [], skipped: [], manifest: null, kept: [{ src: other, dst: other, mime: 'image/png' }] });
    expect(l.made.yes).toBe(false);
    expect(await fs.readdir(run.subdirs.plots)).toEqual([]);
  });

  it('without keep (route_artifacts asked for it), the same file is copied into the run', async () => {
    const other = await stored('20251017_000000', 'old.png');
    const out = await route({ candidates: [pathC(other)] });
    expect(out.routed.map((e) => e.dst)).toEqual([path.join(run.subdirs.plots, 'old.png')]);
  });

  it('takes a file an inner server stored under our root from there, whatever became of its source', async () => {
    const dst = await stored('20251017_000000', 'inner.png');
    const gone = path.join(tmp, 'src', 'moved-away.png');
    const out = await route({ candidates: [pathC(gone), pathC(dst)], keep: keep({ [gone]: dst }) });
    expect(out).toMatchObject({ routed: [], skipped: [], manifest: null, kept: [{ src: gone, dst }] });
  });

  it('copies a file an inner server stored under another root from its stored copy, once', async () => {
    const theirs = await file('other-root/tips/r/plots/inner.png', 'INNER');
    const original = await file('out/inner.png', 'INNER');
    const out = await route({ candidates: [pathC(original), pathC(theirs)], keep: keep({ [original]: theirs }) });
    expect(out.routed).toEqual([expect.objectContaining({ src: theirs, dst: path.join(run.subdirs.plots, 'inner.png'), sha256: sha('INNER') })]);
    expect(out.kept).toEqual([]);
  });

  it('with otherRoots: link, leaves it to the inner server (no copy, no link of ours)', async () => {
    const theirs = await file('other-root/inner.png', 'INNER');
    const original = await file('out/inner.png', 'INNER');
    const l = lazy();
    const out = await route({ candidates: [pathC(original)], keep: keep({ [original]: theirs }, 'link'), run: l.run });
    expect(out).toEqual({ routed: [], skipped: [], manifest: null, kept: [] });
    expect(l.made.yes).toBe(false);
  });

  it('an inner server\'s copy that is not readable here (another machine) is left to it', async () => {
    const original = await file('out/inner.png', 'INNER');
    const out = await route({ candidates: [pathC(original)], keep: keep({ [original]: '/nonexistent/elsewhere/inner.png' }) });
    expect(out).toEqual({ routed: [], skipped: [], manifest: null, kept: [] });
  });

  it('a hostile claim gains nothing: the claimed copy is checked like any path', async () => {
    const original = await file('out/inner.png', 'INNER');
    const out = await route({ candidates: [pathC(original)], keep: keep({ [original]: '/etc/passwd' }) });
    expect(out.routed).toEqual([]);
    expect(out.kept).toEqual([]);
    expect(out.skipped).toEqual([{ src: '/etc/passwd', reason: expect.stringMatching(/outside|denied/) }]);
  });

  it('a symlink inside the root that leads out of it is not "already stored": its target is routed as any source', async () => {
    const outside = await file('a.png', 'A');
    const link = path.join(tmp, 'ws', 'tips', '20251017_000000', 'plots', 'link.png');
    await fs.mkdir(path.dirname(link), { recursive: true });
    await fs.symlink(outside, link);
    const out = await route({ candidates: [pathC(link)], keep: keep() });
    expect(out.kept).toEqual([]);
    expect(out.routed).toEqual([expect.objectContaining({ src: link, sha256: sha('A') })]);
  });

  it('a run that cannot be had fails the event with one reason, and files nothing', async () => {
    const png = await file('p.png');
    const out = await route({ candidates: [pathC(png)], keep: keep(), run: () => Promise.reject(new Error('no room')) });
    expect(out).toEqual({ routed: [], skipped: [{ src: '(routing)', reason: 'routing failed: no room' }], manifest: null, kept: [] });
  });
});

describe('routeCandidates: review cases', () => {
  const keep = (inner: Record<string, string> = {}) => ({ inner: new Map(Object.entries(inner).map(([s, d]) => [s, { dst: d }])), otherRoots: 'copy' as const });

  it('a cancelled event copies nothing more: every file not begun is skipped as cancelled', async () => {
    const a = await file('a.png');
    const b = await file('b.png');
    const stop = new AbortController();
    stop.abort();
    const out = await route({ candidates: [pathC(a), pathC(b)], signal: stop.signal });
    expect(out.routed).toEqual([]);
    expect(out.skipped).toEqual([{ src: a, reason: 'cancelled before it was copied' }, { src: b, reason: 'cancelled before it was copied' }]);
    expect(await fs.readdir(run.subdirs.plots)).toEqual([]);
  });

  it('move mode never moves an inner server\'s stored copy away from it', async () => {
    const theirs = await file('other-root/t/r/plots/inner.png', 'INNER');
    const original = path.join(tmp, 'src', 'out', 'gone.png');
    const out = await route({ candidates: [pathC(original)], keep: keep({ [original]: theirs }), mode: 'move' });
    expect(out.routed).toEqual([expect.objectContaining({ src: theirs, mode: 'copy' })]);
    expect(existsSync(theirs)).toBe(true);
  });

  it('the root\'s bookkeeping (index, latest) is never linked or filed as an artifact', async () => {
    await fs.writeFile(path.join(tmp, 'ws', 'tips', 'latest'), '20251017_223045');
    const latest = path.join(tmp, 'ws', 'tips', 'latest');
    const out = await route({ candidates: [pathC(latest)], keep: keep() });
    expect(out.kept).toEqual([]);
    expect(out.routed).toEqual([]);
    expect(out.skipped).toEqual([{ src: latest, reason: 'inside the workspaces root but in no run: not an artifact' }]);
  });
});
