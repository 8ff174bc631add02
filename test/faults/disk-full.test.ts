// Disk full mid-copy: the workspaces root sits on a small tmpfs and an artifact larger than the
// free space is routed. The call still answers (no isError, the tool's own result intact through
// the proxy), the skip says ENOSPC in the result and the manifest, no half file is visible under
// any name, and routing works again once space returns.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup, sc, startInMemory, tempDir } from '../helpers.js';
import { fixtureEntry, startProxy } from '../proxy/harness.js';
import { bigFile, freeBytes, mountTmpfs, NO_TMPFS, tempsUnder, warnSkip } from './support.js';

const MiB = 1024 * 1024;
warnSkip('disk-full tests', NO_TMPFS);

/** Fills the file system of `dir` to the last byte; removed after the test or by `free()`. */
async function fill(dir: string): Promise<{ free(): Promise<void> }> {
  const p = path.join(dir, 'filler');
  onCleanup(() => fs.rm(p, { force: true }));
  const fh = await fs.open(p, 'w');
  const chunk = Buffer.alloc(64 * 1024, 7);
  // Write until the file system refuses: the refusal is the point, anything else fails the test.
  await expect(
    (async () => {
      for (;;) await fh.write(chunk);
    })(),
  ).rejects.toMatchObject({ code: 'ENOSPC' });
  await fh.close();
  return { free: () => fs.rm(p) };
}

describe.skipIf(NO_TMPFS !== undefined)('disk full mid-copy', () => {
  it('route_artifacts: ENOSPC is a skip in the result and the manifest, no half file, and routing recovers', async () => {
    const mnt = await mountTmpfs(4 * MiB);
    const src = await tempDir();
    const big = await bigFile(src, 'model.bin', 8 * MiB);
    const small = await bigFile(src, 'metrics.csv', 64 * 1024);
    const h = await startInMemory({ flags: { root: path.join(mnt, 'ws') } });
    const ws = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    const before = await freeBytes(mnt);
    expect(before).toBeLessThan(8 * MiB);

    const t0 = Date.now();
    const full = await h.call('route_artifacts', { paths: [big, small] });
    const elapsed = Date.now() - t0;
    const out = sc(full);
    expect(out.skipped).toEqual([{ src: big, reason: expect.stringMatching(/ENOSPC/) }]);
    // The small file in the same event still went in: one failure does not sink the event.
    expect(out.routed.map((e: any) => path.basename(e.dst))).toEqual(['metrics.csv']);
    const manifest = JSON.parse(await fs.readFile(out.manifest, 'utf8'));
    expect(manifest.skipped).toEqual(out.skipped);
    expect(await fs.readdir(path.join(ws.workspace_root, 'models'))).toEqual([]);
    expect(await tempsUnder(mnt)).toEqual([]);
    // The half-written temp was removed, so its space came back.
    expect(await freeBytes(mnt)).toBeGreaterThan(before - 256 * 1024);
    console.info(`[disk-full] 8 MiB into ${(before / MiB).toFixed(1)} MiB free: answered in ${elapsed} ms`);

    // Full to the last byte: even the manifest cannot be written; the call still answers.
    const filler = await fill(mnt);
    const again = sc(await h.call('route_artifacts', { paths: [small], type: 'report' }));
    expect(again.routed).toEqual([]);
    expect(again.skipped).toEqual([{ src: small, reason: expect.stringMatching(/ENOSPC/) }]);
    expect(again.manifest).toBeNull();
    expect(await fs.readdir(path.join(ws.workspace_root, 'reports'))).toEqual([]);
    expect(await tempsUnder(mnt)).toEqual([]);

    // Space returns: the same file routes, and is whole.
    await filler.free();
    const ok = sc(await h.call('route_artifacts', { paths: [small], type: 'report' }));
    expect(ok.skipped).toEqual([]);
    expect(ok.routed).toHaveLength(1);
    expect(ok.routed[0].dst).toBe(path.join(ws.workspace_root, 'reports', 'metrics.csv'));
    expect(await fs.readFile(ok.routed[0].dst)).toEqual(await fs.readFile(small));
    expect(JSON.parse(await fs.readFile(ok.manifest, 'utf8')).entries).toHaveLength(1);
    const info = sc(await h.call('get_workspace_info'));
    expect(info.counts).toMatchObject({ models: 0, reports: 1, data: 1, manifests: 2 });
  });

  it('through the proxy: the downstream result comes back intact, the ENOSPC skip in _meta', async () => {
    const mnt = await mountTmpfs(4 * MiB);
    const src = await tempDir();
    const big = await bigFile(src, 'model.bin', 8 * MiB);
    const small = await bigFile(src, 'plot.png', 32 * 1024);
    const h = await startProxy({
      workspace: { root: path.join(mnt, 'ws') },
      routing: { tools: ['@default', 'echo'] },
      mcpServers: { ds: fixtureEntry() },
    });
    await h.client.listTools();
    const text = JSON.stringify({ status: 'ok', model_path: big });
    const res = await h.call('echo', { text });
    expect(res.isError).toBeFalsy();
    expect(res.content).toEqual([{ type: 'text', text }]);
    expect(res.structuredContent).toEqual({ echoed: text });
    expect(res._meta?.['fixture/echo']).toBe(true);
    const meta = res._meta?.['artifact-workspace/routed'] as any;
    expect(meta.entries).toEqual([]);
    expect(meta.skipped).toEqual([{ src: big, reason: expect.stringMatching(/ENOSPC/) }]);
    expect(JSON.parse(await fs.readFile(meta.manifest, 'utf8')).skipped).toEqual(meta.skipped);
    expect(await tempsUnder(mnt)).toEqual([]);
    expect(h.stderr.join('')).toMatch(/ENOSPC/);

    // The next allowlisted call routes normally.
    const next = await h.call('echo', { text: JSON.stringify({ plot_path: small }) });
    const m2 = next._meta?.['artifact-workspace/routed'] as any;
    expect(m2.skipped).toEqual([]);
    expect(m2.entries).toHaveLength(1);
    expect(next.content.at(-1)).toMatchObject({ type: 'resource_link', name: 'plot.png' });
    expect((await fs.stat(m2.entries[0].dst)).size).toBe(32 * 1024);
    // The big file is in no folder under any name.
    const runDir = path.dirname(path.dirname(m2.entries[0].dst));
    expect(await fs.readdir(path.join(runDir, 'models'))).toEqual([]);
  });
});
