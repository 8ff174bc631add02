// The routing hook on its own, with the real routing service of a real workspace: what it passes,
// what it routes, what the host is told, and how a failure stays inside the result.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { silentLogger } from '../../src/log.js';
import { ROUTED_META_KEY, datasetHint, routeResult, type HookCall } from '../../src/proxy/route-hook.js';
import { startInMemory, tempDir } from '../helpers.js';

async function setup() {
  const h = await startInMemory();
  const src = await tempDir('aw-hook-src-');
  const run = (await h.ctx.workspaces.createRun('tips'));
  const deps = { route: h.ctx.routing.route, mode: 'copy' as const, log: silentLogger };
  const call = (result: CallToolResult, extra: Partial<HookCall> = {}) => routeResult({ tool: 'plot', args: {}, result, run: async () => run, baseDir: src, ...extra }, deps);
  return { h, src, run, call };
}

describe('routeResult', () => {
  it('passes an isError result and a result with nothing to route, untouched', async () => {
    const { src, call } = await setup();
    const png = path.join(src, 'p.png');
    await fs.writeFile(png, 'png');
    expect(await call({ isError: true, content: [{ type: 'text', text: JSON.stringify({ plot_path: png }) }] })).toEqual({ kind: 'pass', why: 'the tool reported an error' });
    expect(await call({ content: [{ type: 'text', text: 'no paths here' }] })).toEqual({ kind: 'pass', why: 'no artifacts in the result' });
  });

  it('routes what the result names, appends one link per file after the tool\'s own blocks, and keeps the rest', async () => {
    const { src, run, call } = await setup();
    const png = path.join(src, 'p.png');
    await fs.writeFile(png, 'png');
    const result: CallToolResult = { content: [{ type: 'text', text: 'done' }], structuredContent: { plot_path: png }, _meta: { 'other/key': 1 } };
    const out = await call(result);
    expect(out.kind).toBe('routed');
    if (out.kind !== 'routed') return;
    expect(out.result.content).toEqual([{ type: 'text', text: 'done' }, { type: 'resource_link', uri: expect.stringMatching(/^file:\/\/.*\/plots\/p\.png$/), name: 'p.png', mimeType: 'image/png' }]);
    expect(out.result.structuredContent).toEqual({ plot_path: png });
    expect(out.result._meta).toMatchObject({ 'other/key': 1, [ROUTED_META_KEY]: { entries: [{ dst: path.join(run.subdirs.plots, 'p.png') }], skipped: [], manifest: expect.stringMatching(/manifest_/) } });
    expect(out.message).toBe(`routed 1 file to tips/${run.runId}`);
    expect(result.content).toHaveLength(1);
  });

  it('never routes a path the call received as an argument, unless the result lists it as an artifact', async () => {
    const { src, call } = await setup();
    const csv = path.join(src, 'in.csv');
    await fs.writeFile(csv, 'a,b');
    // Nothing but the input: nothing happened, so the result is passed as it came.
    expect(await call({ content: [], structuredContent: { data_path: csv } }, { args: { csv_path: csv } })).toEqual({ kind: 'pass', why: "nothing but the call's inputs in the result" });
    const explicit = await call({ content: [], structuredContent: { artifacts: [{ path: csv, type: 'data' }] } }, { args: { csv_path: csv } });
    expect(explicit.kind === 'routed' && explicit.meta.entries).toHaveLength(1);
  });

  it('a run that cannot be had is a routing failure inside the result: no links, the reason in _meta', async () => {
    const { src, call } = await setup();
    const png = path.join(src, 'p.png');
    await fs.writeFile(png, 'png');
    const out = await call({ content: [], structuredContent: { plot_path: png } }, { run: async () => Promise.reject(new Error('dataset folder is a file')) });
    expect(out).toMatchObject({ kind: 'routed', meta: { entries: [], skipped: [{ src: '(routing)', reason: 'routing failed: dataset folder is a file' }], manifest: null } });
    expect(out.kind === 'routed' && out.result.content).toEqual([]);
    expect(out.kind === 'routed' && out.message).toBeUndefined();
  });
});

describe('datasetHint', () => {
  const keys = ['csv_path', 'dataset', 'path'];
  it.each([
    [{ csv_path: '/d/tips.csv' }, '/d/tips.csv'],
    [{ dataset: 'iris', csv_path: '/d/tips.csv' }, '/d/tips.csv'],
    [{ dataset: '  ', path: 'x.csv' }, 'x.csv'],
    [{ csv_path: 7, dataset: 'iris' }, 'iris'],
    [{ other: 'x' }, undefined],
    [undefined, undefined],
    [Object.create({ dataset: 'inherited' }), undefined],
  ])('%j → %j', (args, want) => {
    expect(datasetHint(args as Record<string, unknown> | undefined, keys)).toBe(want);
  });
});
