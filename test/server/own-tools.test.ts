import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SUBDIRS } from '../../src/workspace/types.js';
import { sc, snapshot, startInMemory, tempDir } from '../helpers.js';
import { ProtocolErrorCode } from '@modelcontextprotocol/server';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('standalone tools over a real MCP client', () => {
  it('lists exactly our four tools with object output schemas and annotations', async () => {
    const h = await startInMemory();
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['compare_runs', 'ensure_workspace', 'get_workspace_info', 'route_artifacts']);
    expect(tools.find((t) => t.name === 'compare_runs')!.annotations?.readOnlyHint).toBe(true);
    for (const t of tools) {
      expect(t.outputSchema?.type).toBe('object');
      expect(t.inputSchema.type).toBe('object');
    }
    expect(tools.find((t) => t.name === 'get_workspace_info')!.annotations?.readOnlyHint).toBe(true);
  });

  it('ensure_workspace makes {root}/tips/{run} with 10 subfolders, the same run again until new_run', async () => {
    const h = await startInMemory();
    // client.callTool validates structuredContent against outputSchema: a real check of our schemas.
    const first = sc(await h.client.callTool({ name: 'ensure_workspace', arguments: { dataset: 'tips.csv' } }) as any);
    expect(first).toMatchObject({ dataset: 'tips', created: true, latest: first.run_id });
    expect(first.workspace_root).toBe(path.join(h.root, 'tips', first.run_id));
    for (const s of SUBDIRS) expect((await fs.stat(first.subdirs[s])).isDirectory()).toBe(true);
    const again = sc(await h.call('ensure_workspace', { path: '/somewhere/tips.csv' }));
    expect(again).toMatchObject({ run_id: first.run_id, created: false });
    const fresh = sc(await h.call('ensure_workspace', { dataset: 'tips', new_run: true }));
    expect(fresh.run_id).not.toBe(first.run_id);
    expect(fresh.latest).toBe(fresh.run_id);
  });

  it('route_artifacts copies a plot into plots/ and records it in a manifest', async () => {
    const h = await startInMemory();
    const src = path.join(await tempDir(), 'hist.png');
    await fs.writeFile(src, 'png-bytes');
    const out = sc(await h.client.callTool({ name: 'route_artifacts', arguments: { tool: 'plot', result: { plot_path: src }, dataset: 'tips' } }) as any);
    expect(out.skipped).toEqual([]);
    expect(out.routed).toHaveLength(1);
    const e = out.routed[0];
    expect(e).toMatchObject({ tool: 'plot', type: 'plot', src, mode: 'copy', bytes: 9, sha256: sha('png-bytes') });
    expect(path.dirname(e.dst)).toBe(path.join(h.root, 'tips', out.run_id, 'plots'));
    expect(await fs.readFile(e.dst, 'utf8')).toBe('png-bytes');
    expect(await fs.readFile(src, 'utf8')).toBe('png-bytes');
    const manifest = JSON.parse(await fs.readFile(out.manifest, 'utf8'));
    expect(path.basename(out.manifest)).toMatch(/^manifest_\d{8}_\d{6}_\d{3}(_\d+)?\.json$/);
    expect(manifest).toMatchObject({ schema: 1, dataset: 'tips', run_id: out.run_id, tool: 'plot', skipped: [] });
    expect(manifest.entries).toEqual(out.routed);
  });

  it('route_artifacts accepts JSON text, explicit paths with types, and reports skips with reasons', async () => {
    const h = await startInMemory();
    const dir = await tempDir();
    const model = path.join(dir, 'model.pkl');
    const notes = path.join(dir, 'notes.bin');
    await fs.writeFile(model, 'm');
    await fs.writeFile(notes, 'n');
    const out = sc(
      await h.call('route_artifacts', {
        result: JSON.stringify({ model_path: model, report_path: '/etc/passwd' }),
        paths: [{ path: notes, type: 'metrics', label: 'scores' }],
      }),
    );
    expect(out.routed.map((e: any) => [path.basename(path.dirname(e.dst)), path.basename(e.dst), e.label])).toEqual(
      expect.arrayContaining([
        ['models', 'model.pkl', 'model_path'],
        ['metrics', 'notes.bin', 'scores'],
      ]),
    );
    expect(out.skipped).toEqual([{ src: '/etc/passwd', reason: expect.stringMatching(/outside allowed source roots/) }]);
  });

  it('a routing failure is a result the agent can act on; bad arguments are protocol errors', async () => {
    const h = await startInMemory();
    const empty = await h.call('route_artifacts', {});
    expect(empty.isError).toBe(true);
    expect(JSON.stringify(empty.content)).toMatch(/nothing to route/);
    const notJson = await h.call('route_artifacts', { result: 'not json' });
    expect(notJson.isError).toBe(true);
    await expect(h.call('ensure_workspace', { dataset: 5 })).rejects.toMatchObject({ code: ProtocolErrorCode.InvalidParams });
    await expect(h.call('ensure_workspace', { datset: 'x' })).rejects.toThrow(/unknown argument/);
    await expect(h.call('route_artifacts', { mode: 'teleport' })).rejects.toMatchObject({ code: ProtocolErrorCode.InvalidParams });
    await expect(h.call('no_such_tool')).rejects.toMatchObject({ code: ProtocolErrorCode.InvalidParams });
  });

  it('get_workspace_info describes the current workspace, read-only', async () => {
    const h = await startInMemory();
    const none = sc(await h.client.callTool({ name: 'get_workspace_info', arguments: {} }) as any);
    expect(none).toMatchObject({ active: false, workspaces_root: h.root, dataset: null, mode: 'copy' });
    const before = await snapshot(h.root);
    await expect(h.call('get_workspace_info', { dataset: 'iris' })).resolves.toMatchObject({ isError: true });
    expect(await snapshot(h.root)).toEqual(before);

    const ws = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    const src = path.join(await tempDir(), 'a.png');
    await fs.writeFile(src, 'x'.repeat(100));
    sc(await h.call('route_artifacts', { result: { plot_paths: [src] } }));
    const info = sc(await h.client.callTool({ name: 'get_workspace_info', arguments: {} }) as any);
    expect(info).toMatchObject({ active: true, dataset: 'tips', run_id: ws.run_id, workspace_root: ws.workspace_root, latest: ws.run_id, runs: [ws.run_id] });
    expect(info.counts.plots).toBe(1);
    expect(info.counts.manifests).toBe(1);
    expect(info.bytes).toBeGreaterThanOrEqual(100);
    expect(info.recent).toHaveLength(1);
    const other = sc(await h.call('get_workspace_info', { dataset: 'tips', run_id: ws.run_id }));
    expect(other.run_id).toBe(ws.run_id);
    await expect(h.call('get_workspace_info', { dataset: 'tips', run_id: '../../x' })).resolves.toMatchObject({ isError: true });
  });

  it('move mode with source = destination keeps the file', async () => {
    const h = await startInMemory({ flags: { mode: 'move' } });
    const ws = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    const inside = path.join(ws.subdirs.plots, 'p.png');
    await fs.writeFile(inside, 'keep');
    const out = sc(await h.call('route_artifacts', { paths: [inside] }));
    expect(out.routed).toEqual([]);
    expect(out.skipped).toEqual([{ src: inside, reason: expect.stringMatching(/already in workspace/) }]);
    expect(await fs.readFile(inside, 'utf8')).toBe('keep');
  });

  it('uses the low-level request path too (no client-side validation)', async () => {
    const h = await startInMemory();
    const res = await h.client.request({ method: 'tools/call', params: { name: 'ensure_workspace', arguments: {} } });
    expect(sc(res as any).dataset).toBe('default');
  });
});

describe('tool schemas', () => {
  it('are portable: a nullable field is anyOf, never a type array (hosts that take one type, Inspector --strict)', async () => {
    const h = await startInMemory();
    const { tools } = await h.client.listTools();
    const arrays: string[] = [];
    const walk = (n: unknown, at: string): void => {
      if (Array.isArray(n)) return n.forEach((x, i) => walk(x, `${at}[${i}]`));
      if (n === null || typeof n !== 'object') return;
      for (const [k, v] of Object.entries(n)) {
        if (k === 'type' && Array.isArray(v)) arrays.push(at);
        walk(v, `${at}.${k}`);
      }
    };
    for (const t of tools) walk({ input: t.inputSchema, output: t.outputSchema }, t.name);
    expect(arrays).toEqual([]);
    const info = tools.find((t) => t.name === 'get_workspace_info')!.outputSchema as { properties: Record<string, unknown> };
    expect(info.properties.dataset).toEqual({ anyOf: [{ type: 'string' }, { type: 'null' }] });
  });
});

describe('get_workspace_info over bad manifests', () => {
  it('answers with only well-formed entries, so schema-checking clients accept it', async () => {
    const h = await startInMemory();
    const ws = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    const src = path.join(await tempDir(), 'x.png');
    await fs.writeFile(src, 'png');
    const out = sc(await h.call('route_artifacts', { paths: [src] }));
    const good = JSON.parse(await fs.readFile(out.manifest, 'utf8'));
    await fs.writeFile(path.join(ws.subdirs.manifests, 'manifest_20990101_000000_000.json'), JSON.stringify({ ...good, entries: [null, 7, { ...good.entries[0], bytes: 'many' }, good.entries[0]] }));
    await fs.writeFile(path.join(ws.subdirs.manifests, 'manifest_20990101_000000_001.json'), '{"schema":1,"ent');
    // callTool validates structuredContent against the advertised outputSchema.
    const info = await h.client.callTool({ name: 'get_workspace_info', arguments: {} });
    expect(info.isError).toBeFalsy();
    expect((info.structuredContent as { recent: unknown[] }).recent).toEqual([good.entries[0], good.entries[0]]);
  });
});

describe('a run folder swapped for a symlink after the session opened it', () => {
  it.each(['dataset', 'run', 'subfolder'])('refuses to write through a %s symlink', async (which) => {
    const h = await startInMemory();
    const ws = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    const elsewhere = await tempDir();
    const target = which === 'dataset' ? path.dirname(ws.workspace_root) : which === 'run' ? ws.workspace_root : ws.subdirs.plots;
    await fs.rename(target, path.join(elsewhere, 'moved'));
    await fs.symlink(path.join(elsewhere, 'moved'), target);
    const src = path.join(await tempDir(), 'x.png');
    await fs.writeFile(src, 'png');
    const before = await snapshot(elsewhere);
    const out = sc(await h.call('route_artifacts', { paths: [src] }));
    expect(out.routed).toEqual([]);
    expect(out.skipped[0].reason).toMatch(/is not a plain folder \(a symlink or a file stands there\)/);
    expect(await snapshot(elsewhere)).toEqual(before);
  });
});

describe('progress on long copies', () => {
  it('route_artifacts reports copy progress to a caller that sent a progress token', async () => {
    const h = await startInMemory();
    const big = path.join(await tempDir(), 'model.bin');
    await fs.writeFile(big, Buffer.alloc(48 * 1024 * 1024, 7));
    const seen: { progress: number; message?: string }[] = [];
    const res = await h.client.request(
      { method: 'tools/call', params: { name: 'route_artifacts', arguments: { paths: [{ path: big, type: 'model' }] } } },
      { onprogress: (p) => seen.push(p) },
    );
    expect(sc(res as any).routed[0].bytes).toBe(48 * 1024 * 1024);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen[0]!.message).toMatch(/^copying model\.bin \(\d+(\.\d)? of 48 MiB\)$/);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
  });
});

describe('workspace handles in our tools', () => {
  it('ensure_workspace returns a handle; route_artifacts and get_workspace_info file into and describe the run it names', async () => {
    const h = await startInMemory();
    const a = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    expect(a.workspace).toBe(`tips/${a.run_id}`);
    const b = sc(await h.call('ensure_workspace', { dataset: 'tips', new_run: true }));
    expect(b.run_id).not.toBe(a.run_id);
    const src = path.join(await tempDir(), 'hist.png');
    await fs.writeFile(src, 'png');
    // The session's current run is b; the handle names a.
    const out = sc(await h.call('route_artifacts', { paths: [src], type: 'plot', workspace: a.workspace }));
    expect(out).toMatchObject({ dataset: 'tips', run_id: a.run_id, workspace: a.workspace });
    expect(path.dirname(out.routed[0].dst)).toBe(a.subdirs.plots);
    const info = sc(await h.call('get_workspace_info', { workspace: a.workspace }));
    expect(info).toMatchObject({ active: true, run_id: a.run_id, workspace: a.workspace, counts: { plots: 1 } });
    // Using a handle makes its run current for the session (the 2025 convenience).
    expect(sc(await h.call('get_workspace_info')).workspace).toBe(a.workspace);
    // ensure_workspace with a handle resumes that run.
    expect(sc(await h.call('ensure_workspace', { workspace: b.workspace }))).toMatchObject({ run_id: b.run_id, workspace: b.workspace, created: false });
    expect(sc(await h.call('get_workspace_info')).workspace).toBe(b.workspace);
  });

  // A bad handle is an isError result with its reason, and nothing is written or moved.
  const bad: [string, string, Record<string, unknown>, RegExp][] = [
    ['route_artifacts', 'malformed', { workspace: '../../etc' }, /not a workspace handle/],
    ['route_artifacts', 'a run that does not exist', { workspace: 'tips/20991231_235959' }, /no run 20991231_235959 for dataset tips/],
    ['route_artifacts', 'a dataset that disagrees', { workspace: 'tips/20991231_235959', dataset: 'iris' }, /run of "tips", but `dataset` names "iris"/],
    ['route_artifacts', 'the latest pointer', { workspace: 'tips/latest' }, /run id/],
    ['get_workspace_info', 'a handle and a run id', { workspace: 'tips/20991231_235959', run_id: '20991231_235959' }, /not both/],
    ['get_workspace_info', 'a run that does not exist', { workspace: 'iris/20991231_235959' }, /no run/],
    ['ensure_workspace', 'a handle and new_run', { workspace: 'tips/20991231_235959', new_run: true }, /pass one of them/],
    ['ensure_workspace', 'a run that does not exist', { workspace: 'tips/20991231_235959' }, /no run/],
  ];
  it.each(bad)('%s refuses %s and changes nothing', async (tool, _what, args, why) => {
    const h = await startInMemory();
    const made = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    const src = path.join(await tempDir(), 'hist.png');
    await fs.writeFile(src, 'png');
    const before = await snapshot(h.root);
    const res = await h.call(tool, { ...args, ...(tool === 'route_artifacts' && { paths: [src], mode: 'move' }) });
    expect(res.isError).toBe(true);
    expect((res.content[0] as { text: string }).text).toMatch(why);
    expect(await snapshot(h.root)).toEqual(before);
    expect(await fs.readFile(src, 'utf8')).toBe('png');
    expect(sc(await h.call('get_workspace_info')).workspace).toBe(made.workspace);
  });

  it('a handle longer than the schema allows is a protocol error (invalid params)', async () => {
    const h = await startInMemory();
    await expect(h.call('get_workspace_info', { workspace: `${'a'.repeat(200)}/20991231_235959` })).rejects.toMatchObject({ code: ProtocolErrorCode.InvalidParams });
  });
});

describe('compare_runs', () => {
  /** Two runs of tips: a model in both (same bytes), metrics that differ, a plot only in the second. */
  async function twoRuns() {
    const h = await startInMemory();
    const dir = await tempDir();
    const file = async (name: string, body: string) => {
      const p = path.join(dir, name);
      await fs.writeFile(p, body);
      return p;
    };
    const a = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    await h.call('route_artifacts', { paths: [await file('model.pkl', 'weights'), { path: await file('metrics.json', JSON.stringify({ accuracy: 0.9, f1: { macro: 0.8 }, note: 'first' })), type: 'metrics' }] });
    await fs.rm(path.join(dir, 'metrics.json'));
    const b = sc(await h.call('ensure_workspace', { dataset: 'tips', new_run: true }));
    await h.call('route_artifacts', {
      paths: [await file('model.pkl', 'weights'), { path: await file('metrics.json', JSON.stringify({ accuracy: 0.85, recall: 0.7, note: 'second' })), type: 'metrics' }, await file('roc.png', 'png')],
    });
    return { h, a: a.run_id as string, b: b.run_id as string };
  }

  it('reports files added, removed and changed by content, and metrics with deltas (b − a)', async () => {
    const { h, a, b } = await twoRuns();
    // client.callTool checks structuredContent against the advertised outputSchema.
    const out = sc((await h.client.callTool({ name: 'compare_runs', arguments: { dataset: 'tips.csv', a, b } })) as any);
    expect(out).toMatchObject({ dataset: 'tips', a, b, added: ['plots/roc.png'], removed: [], changed: ['metrics/metrics.json'], same: 1, plots: [] });
    const byKey = Object.fromEntries(out.metrics.map((m: { key: string }) => [m.key, m]));
    expect(byKey.accuracy.delta).toBeCloseTo(-0.05, 9);
    expect(byKey['f1.macro']).toEqual({ file: 'metrics.json', key: 'f1.macro', a: 0.8 });
    expect(byKey.recall).toEqual({ file: 'metrics.json', key: 'recall', b: 0.7 });
    expect(byKey.note).toEqual({ file: 'metrics.json', key: 'note', a: 'first', b: 'second' });
    // The other way round, by handle: what was added is now removed.
    const back = sc(await h.call('compare_runs', { dataset: 'tips', a: `tips/${b}`, b: `tips/${a}` }));
    expect(back).toMatchObject({ added: [], removed: ['plots/roc.png'], changed: ['metrics/metrics.json'] });
    // A run against itself: all the same.
    expect(sc(await h.call('compare_runs', { dataset: 'tips', a, b: a }))).toMatchObject({ added: [], removed: [], changed: [], same: 2 });
  });

  // Each is an isError result with its reason; nothing is written.
  const bad: [string, (a: string, b: string) => Record<string, unknown>, RegExp][] = [
    ['a run that does not exist', (a) => ({ dataset: 'tips', a, b: '20991231_235959' }), /has no run "20991231_235959"/],
    ['a dataset without runs', (a, b) => ({ dataset: 'iris', a, b }), /dataset "iris" has no run/],
    ['a path for a run', (a) => ({ dataset: 'tips', a, b: '../../etc' }), /is a run of "\.\."|not a workspace handle|not a run id/],
    ['a run id with a traversal', (a) => ({ dataset: 'tips', a, b: '20991231_235959/../..' }), /not a workspace handle|not a run id/],
    ['the latest pointer', (a) => ({ dataset: 'tips', a, b: 'latest' }), /not a run id/],
    ['a handle of another dataset', (a, b) => ({ dataset: 'tips', a, b: `iris/${b}` }), /is a run of "iris", but `dataset` names "tips"/],
    ['a hidden name', (a) => ({ dataset: 'tips', a, b: '.manifests' }), /not a run id/],
  ];
  it.each(bad)('refuses %s and changes nothing', async (_what, args, why) => {
    const { h, a, b } = await twoRuns();
    const before = await snapshot(h.root);
    const res = await h.call('compare_runs', args(a, b));
    expect(res.isError).toBe(true);
    expect((res.content[0] as { text: string }).text).toMatch(why);
    expect(await snapshot(h.root)).toEqual(before);
  });
});
