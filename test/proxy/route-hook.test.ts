// The routing hook on its own, with the real routing service of a real workspace: what it passes,
// what it routes, what the host is told, and how a failure stays inside the result.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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

describe('routeResult in a chain (README "Chaining")', () => {
  /** A file another run of the same root already holds. */
  async function storedElsewhere(h: Awaited<ReturnType<typeof setup>>['h']) {
    const other = await h.ctx.workspaces.createRun('tips');
    const dst = path.join(other.subdirs.plots, 'x.png');
    await fs.writeFile(dst, 'png');
    return { other, dst, uri: pathToFileURL(dst).href };
  }

  it('an inner server on our root stored and linked it: the result passes as it came, its account kept', async () => {
    const { h, src, call } = await setup();
    const { dst, uri } = await storedElsewhere(h);
    const gone = path.join(src, 'x.png');
    const inner = { entries: [{ src: gone, dst, bytes: 3 }], skipped: [], manifest: null };
    const result: CallToolResult = { content: [{ type: 'resource_link', uri, name: 'x.png' }], structuredContent: { plot_path: gone }, _meta: { [ROUTED_META_KEY]: inner } };
    expect(await call(result)).toEqual({ kind: 'pass', why: 'its files are already stored and linked' });
  });

  it('a stored file the result names but does not link gets one link, and no manifest of ours', async () => {
    const { h, run, call } = await setup();
    const { dst, uri } = await storedElsewhere(h);
    const out = await call({ content: [{ type: 'text', text: 'done' }], structuredContent: { plot_path: dst, plot_paths: [dst] } });
    expect(out.kind).toBe('routed');
    if (out.kind !== 'routed') return;
    expect(out.result.content).toEqual([{ type: 'text', text: 'done' }, { type: 'resource_link', uri, name: 'x.png', mimeType: 'image/png' }]);
    expect(out.result._meta).toBeUndefined();
    expect(await fs.readdir(run.subdirs.plots)).toEqual([]);
    expect(await fs.readdir(run.subdirs.manifests)).toEqual([]);
  });

  it('never adds a link the result already carries', async () => {
    const { src, call } = await setup();
    const png = path.join(src, 'p.png');
    await fs.writeFile(png, 'png');
    const first = await call({ content: [], structuredContent: { plot_path: png } });
    const link = first.kind === 'routed' ? first.result.content.find((b) => b.type === 'resource_link') : undefined;
    expect(link).toBeDefined();
    // The same result again, now already carrying that link (a server in front routed it): the
    // file is stored, so nothing is filed or linked twice.
    const again = await call({ content: [link!], structuredContent: { plot_path: png } });
    const links = again.kind === 'routed' ? again.result.content.filter((b) => b.type === 'resource_link') : [link];
    expect(new Set(links.map((l) => (l as { uri: string }).uri)).size).toBe(links.length);
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
