import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sc, startInMemory, tempDir } from '../helpers.js';

describe('our prompts', () => {
  it('lists workspace_summary and artifact_conventions', async () => {
    const h = await startInMemory();
    const { prompts } = await h.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['workspace_summary', 'artifact_conventions']);
    const conv = await h.client.getPrompt({ name: 'artifact_conventions' });
    expect(JSON.stringify(conv.messages)).toContain('artifacts');
  });

  it('summarises a run, and completes dataset names and run ids', async () => {
    const h = await startInMemory();
    const ws = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    sc(await h.call('ensure_workspace', { dataset: 'titanic' }));
    const src = path.join(await tempDir(), 'hist.png');
    await fs.writeFile(src, 'png');
    sc(await h.call('route_artifacts', { dataset: 'tips', paths: [src] }));
    const p = await h.client.getPrompt({ name: 'workspace_summary', arguments: { dataset: 'tips' } });
    const text = (p.messages[0]!.content as { text: string }).text;
    expect(text).toContain(`run ${ws.run_id}`);
    expect(text).toContain(path.join(ws.subdirs.plots, 'hist.png'));
    const ds = await h.client.complete({ ref: { type: 'ref/prompt', name: 'workspace_summary' }, argument: { name: 'dataset', value: 't' } });
    expect(ds.completion.values).toEqual(['tips', 'titanic']);
    const runs = await h.client.complete({ ref: { type: 'ref/prompt', name: 'workspace_summary' }, argument: { name: 'run_id', value: '' }, context: { arguments: { dataset: 'tips' } } });
    expect(runs.completion.values).toEqual([ws.run_id]);
    const other = await h.client.complete({ ref: { type: 'ref/prompt', name: 'nope' }, argument: { name: 'x', value: '' } });
    expect(other.completion.values).toEqual([]);
  });

  it('bad arguments are protocol errors', async () => {
    const h = await startInMemory();
    await expect(h.client.getPrompt({ name: 'workspace_summary', arguments: {} })).rejects.toThrow(/needs a dataset/);
    await expect(h.client.getPrompt({ name: 'workspace_summary', arguments: { dataset: 'none' } })).rejects.toThrow(/no runs/);
    await expect(h.client.getPrompt({ name: 'workspace_summary', arguments: { dataset: 'tips', run_id: '../../etc' } })).rejects.toThrow();
    await expect(h.client.getPrompt({ name: 'nope' })).rejects.toThrow(/Unknown prompt/);
  });
});
