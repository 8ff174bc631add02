// The workspace browser's data, on a real store: comparison by content, metrics flattened, names
// from URLs checked, and every value escaped before it becomes markup.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRuns, flatten, parseRunRef, runView } from '../../src/ui/model.js';
import { esc, indexPage, runPage } from '../../src/ui/pages.js';
import { Workspaces } from '../../src/workspace/layout.js';
import { onCleanup, tempDir } from '../helpers.js';

async function twoRuns() {
  const ws = await Workspaces.open(path.join(await tempDir('aw-ui-model-'), 'ws'));
  onCleanup(() => ws.store.close());
  const a = await ws.createRun('tips');
  const b = await ws.createRun('tips');
  const put = (run: typeof a, rel: string, body: string) => fs.writeFile(path.join(run.runDir, rel), body);
  await put(a, 'plots/same.png', 'PNG');
  await put(b, 'plots/same.png', 'PNG');
  await put(a, 'plots/x.png', 'old');
  await put(b, 'plots/x.png', 'new');
  await put(a, 'reports/gone.html', '<p>');
  await put(b, 'models/new.bin', 'm');
  await put(a, 'metrics/m.json', JSON.stringify({ acc: 0.5, loss: { train: 1 }, name: 'lr' }));
  await put(b, 'metrics/m.json', JSON.stringify({ acc: 0.75, loss: { train: 0.5 }, name: 'lr', extra: 3 }));
  return { ws, a, b };
}

describe('the browser model', () => {
  it('compares two runs by content, with metric deltas and the plots both have', async () => {
    const { ws, a, b } = await twoRuns();
    const c = (await compareRuns(ws, 'tips', a.runId, b.runId))!;
    expect(c).toMatchObject({ added: ['models/new.bin'], removed: ['reports/gone.html'], same: 1 });
    expect(c.changed.sort()).toEqual(['metrics/m.json', 'plots/x.png']);
    expect(c.plots.sort()).toEqual(['plots/same.png', 'plots/x.png']);
    expect(c.metrics).toEqual([
      { file: 'm.json', key: 'acc', a: 0.5, b: 0.75, delta: 0.25 },
      { file: 'm.json', key: 'loss.train', a: 1, b: 0.5, delta: -0.5 },
      { file: 'm.json', key: 'name', a: 'lr', b: 'lr' },
      { file: 'm.json', key: 'extra', b: 3 },
    ]);
    expect(await compareRuns(ws, 'tips', a.runId, '20990101_000000')).toBeUndefined();
  });

  it('lists a run\'s files with their sizes', async () => {
    const { ws, a } = await twoRuns();
    const v = (await runView(ws, 'tips', a.runId))!;
    expect(v.files.map((f) => [f.folder, f.rel.join('/'), f.size])).toEqual([
      ['plots', 'same.png', 3],
      ['plots', 'x.png', 3],
      ['reports', 'gone.html', 3],
      ['metrics', 'm.json', 42],
    ]);
  });

  it.each([
    ['tips', '20261130_101010', true],
    ['Tips', '20261130_101010', false],
    ['..', '20261130_101010', false],
    ['tips', 'latest', false],
    ['tips', '20261130_101010/../x', false],
    ['', '20261130_101010', false],
  ])('a run named %s/%s in a URL: %s', (d, r, ok) => {
    expect(parseRunRef(d, r) !== undefined).toBe(ok);
  });

  it('flattens metrics to dotted keys, bounded, and keeps only short strings', () => {
    expect(flatten({ a: { b: [1, 2] }, s: 'x'.repeat(81), t: true, n: NaN })).toEqual({ 'a.b.0': 1, 'a.b.1': 2, t: 'true' });
  });

  it('escapes every value from the workspaces before it becomes markup', () => {
    const evil = '<img src=x onerror=alert(1)>"\'&';
    expect(esc(evil)).toBe('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    const html = indexPage('/ui', [{ dataset: 'tips', runs: [{ dataset: 'tips', runId: '20261130_101010', files: 1, bytes: 1, tools: [evil], latest: false }] }]);
    expect(html).not.toContain('<img src=x');
    const page = runPage('/ui', { summary: { dataset: 'tips', runId: '20261130_101010', files: 1, bytes: 1, tools: [], latest: false }, files: [{ folder: 'plots', rel: [evil], key: ['tips', '20261130_101010', 'plots', evil], size: 1, mime: 'image/png' }], truncated: false, metrics: [], skipped: [{ src: evil, reason: evil }] }, []);
    expect(page).not.toContain('<img src=x');
    expect(page).toContain(encodeURIComponent(evil));
  });
});
