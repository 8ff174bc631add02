// The pure side of chains (README "Chaining"): recognising an inner artifact-workspace, what a
// forwarded call tells it, and what a downstream's `_meta["artifact-workspace/routed"]` is trusted
// to say (a hint: hostile shapes are dropped, never thrown on).
import { describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/server';
import { chainDataset, chainMeta, innerWorkspace, storedByInner, toInner } from '../../src/proxy/chain.js';
import { ROUTED_META_KEY } from '../../src/proxy/route-hook.js';
import { OWN_TOOL_NAMES } from '../../src/server/own-tools.js';
import { DATASET_META_KEY, ROOT_META_KEY, WORKSPACE_META_KEY } from '../../src/workspace/handle.js';
import type { RunTarget } from '../../src/workspace/types.js';

const tool = (name: string, meta?: Record<string, unknown>): Tool => ({ name, inputSchema: { type: 'object' }, ...(meta && { _meta: meta }) });
const PKG = 'artifact-workspace-mcp';

describe('innerWorkspace', () => {
  it.each([
    ['our tool with the root marker', [tool('echo'), tool('ensure_workspace', { [ROOT_META_KEY]: 'abc' })], 'other', { root: 'abc' }],
    ['the marker on any of our tools', [tool('get_workspace_info', { [ROOT_META_KEY]: 'r2' })], undefined, { root: 'r2' }],
    ['our package name, no marker (root unknown)', [tool('ensure_workspace')], PKG, {}],
    ['a server that merely has a tool named ensure_workspace', [tool('ensure_workspace'), tool('echo')], 'fixture', undefined],
    ['the marker on a tool that is not one of ours', [tool('echo', { [ROOT_META_KEY]: 'abc' })], 'x', undefined],
    ['a marker that is not a string', [tool('ensure_workspace', { [ROOT_META_KEY]: { id: 1 } })], 'x', undefined],
    ['an empty marker', [tool('ensure_workspace', { [ROOT_META_KEY]: '' })], 'x', undefined],
    ['an oversized marker', [tool('ensure_workspace', { [ROOT_META_KEY]: 'x'.repeat(129) })], 'x', undefined],
    ['no tools at all', [], undefined, undefined],
  ])('%s', (_why, tools, serverName, want) => {
    expect(innerWorkspace(tools as Tool[], OWN_TOOL_NAMES, serverName as string | undefined, PKG)).toEqual(want);
  });
});

describe('chainMeta', () => {
  const run = { dataset: 'tips', runId: '20261130_101010' } as RunTarget;
  it.each([
    ['same root, a run: the run itself', { root: 'R' }, run, 'tips', { [WORKSPACE_META_KEY]: 'tips/20261130_101010' }],
    ['same root, no run yet: the dataset', { root: 'R' }, undefined, 'iris', { [DATASET_META_KEY]: 'iris' }],
    ['another root: the run\'s dataset, never its handle', { root: 'S' }, run, 'iris', { [DATASET_META_KEY]: 'tips' }],
    ['root unknown: treated as another root', {}, run, undefined, { [DATASET_META_KEY]: 'tips' }],
    ['nothing known: nothing said', { root: 'S' }, undefined, undefined, {}],
  ])('%s', (_why, inner, r, dataset, want) => {
    expect(chainMeta(inner, 'R', r as RunTarget | undefined, dataset as string | undefined)).toEqual(want);
  });
});

describe('storedByInner', () => {
  const meta = (routed: unknown) => ({ [ROUTED_META_KEY]: routed });
  it('maps each absolute source to where it was stored, with its size', () => {
    const m = storedByInner(meta({ entries: [{ src: '/out/a.png', dst: '/ws/t/r/plots/a.png', bytes: 3 }, { src: '/out/b.svg', dst: '/ws/t/r/plots/b.svg' }], skipped: [] }), ROUTED_META_KEY);
    expect([...m]).toEqual([
      ['/out/a.png', { dst: '/ws/t/r/plots/a.png', bytes: 3 }],
      ['/out/b.svg', { dst: '/ws/t/r/plots/b.svg' }],
    ]);
  });

  it.each([
    ['no _meta', undefined],
    ['_meta not an object', 'x'],
    ['routed not an object', meta(7)],
    ['entries not a list', meta({ entries: { src: '/a', dst: '/b' } })],
    ['entries of the wrong kind', meta({ entries: [null, 1, 'x', []] })],
    ['a relative source', meta({ entries: [{ src: 'out/a.png', dst: '/ws/a.png' }] })],
    ['a relative destination', meta({ entries: [{ src: '/out/a.png', dst: '../ws/a.png' }] })],
    ['a NUL in a path', meta({ entries: [{ src: '/out/a\0.png', dst: '/ws/a.png' }] })],
    ['an inline source', meta({ entries: [{ src: 'inline:image', dst: '/ws/a.png' }] })],
    ['paths that are not strings', meta({ entries: [{ src: ['/a'], dst: { p: '/b' } }] })],
    ['an over-long path', meta({ entries: [{ src: `/${'a'.repeat(5000)}`, dst: '/ws/a.png' }] })],
  ])('ignores %s', (_why, m) => {
    expect(storedByInner(m, ROUTED_META_KEY).size).toBe(0);
  });

  it('keeps the first claim of a source, drops a bad size, and reads at most 10,000 entries', () => {
    const m = storedByInner(meta({ entries: [{ src: '/a', dst: '/first', bytes: -1 }, { src: '/a', dst: '/second' }] }), ROUTED_META_KEY);
    expect(m.get('/a')).toEqual({ dst: '/first' });
    const many = Array.from({ length: 10_005 }, (_, i) => ({ src: `/s/${i}`, dst: `/d/${i}` }));
    expect(storedByInner(meta({ entries: many }), ROUTED_META_KEY).size).toBe(10_000);
  });
});

describe('chainDataset: the dataset a proxy in front names', () => {
  it.each([
    ['a dataset name', { [DATASET_META_KEY]: 'tips' }, 'tips'],
    ['no _meta', undefined, undefined],
    ['not a string', { [DATASET_META_KEY]: 7 }, undefined],
    ['an object', { [DATASET_META_KEY]: { name: 'tips' } }, undefined],
    ['empty', { [DATASET_META_KEY]: '' }, undefined],
    ['blank', { [DATASET_META_KEY]: '   ' }, undefined],
    ['over 256 characters', { [DATASET_META_KEY]: 'x'.repeat(257) }, undefined],
  ])('%s', (_why, meta, want) => {
    expect(chainDataset(meta as Record<string, unknown> | undefined)).toBe(want);
  });

  it('a host\'s own chain keys never reach an inner server as the host wrote them', () => {
    const meta: Record<string, unknown> = { [WORKSPACE_META_KEY]: 'evil/20200101_000000', [DATASET_META_KEY]: '../x', other: 1 };
    toInner(meta, { root: 'S' }, 'R', {});
    expect(meta).toEqual({ other: 1 });
  });
});
