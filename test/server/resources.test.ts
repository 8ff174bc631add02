// Workspace files as resources: paging, reads, and containment against hostile URIs.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkspaceResources, listPage } from '../../src/server/resources.js';
import { LocalStore } from '../../src/storage/local.js';
import { onCleanup, tempDir } from '../helpers.js';

async function storeAt(root: string): Promise<LocalStore> {
  const s = await LocalStore.open(root);
  onCleanup(() => s.close());
  return s;
}

async function tree(files: Record<string, string>) {
  const root = await tempDir();
  for (const [rel, body] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), body);
  }
  return root;
}

describe('listing', () => {
  it('pages through every file exactly once, in a stable order, skipping temp files and symlinks', async () => {
    const files: Record<string, string> = {};
    for (let r = 0; r < 3; r++) for (let i = 0; i < 7; i++) files[`tips/2025010${r}_000000/plots/p${i}.png`] = `x${r}${i}`;
    files['tips/20250100_000000/plots/.aw-tmp-deadbeef'] = 'partial';
    const root = await tree(files);
    await fs.symlink('20250102_000000', path.join(root, 'tips', 'latest'));
    const src = new WorkspaceResources(await storeAt(root), undefined, 4);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await src.listResources(cursor);
      seen.push(...page.resources.map((r) => r.name));
      for (const r of page.resources) expect(r.uri).toBe(pathToFileURL(path.join(root, r.name)).href);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(Object.keys(files).filter((k) => !k.includes('.aw-tmp-')).sort());
    expect(pages).toBe(6);
  });

  it('lists nothing from an empty root; rejects a forged cursor', async () => {
    const root = await tree({});
    const src = new WorkspaceResources(await storeAt(root));
    expect(await src.listResources(undefined)).toEqual({ resources: [] });
    await expect(src.listResources(Buffer.from('../../etc').toString('base64url'))).rejects.toThrow(/invalid cursor/);
    expect((await listPage(await storeAt(root), undefined, 10)).files).toEqual([]);
  });
});

describe('reading', () => {
  it('reads text as text and binary as base64, with a MIME type', async () => {
    const root = await tree({ 'tips/r/metrics/m.json': '{"acc":0.9}', 'tips/r/plots/p.png': '\x89PNG\r\n' });
    const src = new WorkspaceResources(await storeAt(root));
    const j = pathToFileURL(path.join(root, 'tips/r/metrics/m.json')).href;
    expect(await src.readResource(j)).toEqual({ contents: [{ uri: j, mimeType: 'application/json', text: '{"acc":0.9}' }] });
    const p = pathToFileURL(path.join(root, 'tips/r/plots/p.png')).href;
    const res = await src.readResource(p)!;
    expect(res.contents[0]).toMatchObject({ mimeType: 'image/png', blob: Buffer.from('\x89PNG\r\n').toString('base64') });
  });

  it.each([
    ['file:///etc/passwd', 'not ours'],
    ['https://example.com/x', 'not ours'],
    ['file://remotehost/etc/passwd', 'not ours'],
    ['{root}/../../../etc/passwd', 'not ours'],
    ['{root}/%2e%2e/%2e%2e/etc/passwd', 'not ours'],
    ['{root}/tips/..%2f..%2f..%2fetc%2fpasswd', 'not ours'],
    ['{root}/tips/r/escape', /a symlink/],
    ['{root}/tips/r/dirlink/passwd', /not a plain folder/],
    ['{root}/tips/latest/escape', /a symlink/],
    ['{root}/tips/latest/dirlink/passwd', /not a plain folder/],
    ['{root}/tips/latest/plots/p.png', 'x'],
    ['{root}/tips/r/missing.png', /no such file/],
    ['{root}/tips/r', /not a regular file/],
    ['{root}/tips/r/fifo', /not a regular file|cannot be opened/],
    ['{root}/tips/r/plots%00.png', 'not ours'],
  ])('%s → %s', async (tpl, want) => {
    const root = await tree({ 'tips/20250101_000000/plots/p.png': 'x' });
    const outside = await tree({ passwd: 'secret' });
    await fs.symlink('20250101_000000', path.join(root, 'tips/latest'));
    await fs.rename(path.join(root, 'tips/20250101_000000'), path.join(root, 'tips/r'));
    await fs.rm(path.join(root, 'tips/latest'));
    await fs.symlink('r', path.join(root, 'tips/latest'));
    await fs.symlink(path.join(outside, 'passwd'), path.join(root, 'tips/r/escape'));
    await fs.symlink(outside, path.join(root, 'tips/r/dirlink'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(root, 'tips/r/fifo')]);
    const src = new WorkspaceResources(await storeAt(root));
    const uri = tpl.startsWith('{root}') ? `${pathToFileURL(root).href}${tpl.slice('{root}'.length)}` : tpl;
    const p = src.readResource(uri);
    if (want === 'not ours') expect(p).toBeUndefined();
    else if (typeof want === 'string') expect((await p)?.contents[0]).toMatchObject({ blob: Buffer.from(want).toString('base64') });
    else await expect(p).rejects.toThrow(want);
  });
});

describe('workspace resources through a real client', () => {
  it('lists and reads routed files by the URIs route_artifacts reports; announces new artifacts', async () => {
    const { startInMemory, sc } = await import('../helpers.js');
    const h = await startInMemory();
    const changed: unknown[] = [];
    const updated: string[] = [];
    h.client.setNotificationHandler('notifications/resources/list_changed', (n) => void changed.push(n));
    h.client.setNotificationHandler('notifications/resources/updated', (n) => void updated.push(n.params.uri));
    const ws = sc(await h.call('ensure_workspace', { dataset: 'tips' }));
    const plotsUri = pathToFileURL(ws.subdirs.plots).href;
    await h.client.subscribeResource({ uri: plotsUri });
    const src = path.join(await tempDir(), 'hist.png');
    await fs.writeFile(src, 'png!');
    const out = sc(await h.call('route_artifacts', { paths: [src] }));
    const uri = pathToFileURL(out.routed[0].dst).href;
    const { resources } = await h.client.listResources();
    expect(resources.map((r) => r.uri)).toContain(uri);
    const read = await h.client.readResource({ uri });
    expect(read.contents[0]).toMatchObject({ uri, mimeType: 'image/png', blob: Buffer.from('png!').toString('base64') });
    await expect.poll(() => changed.length).toBeGreaterThan(0);
    await expect.poll(() => updated).toEqual([plotsUri]);
    await expect(h.client.readResource({ uri: 'file:///etc/passwd' })).rejects.toThrow(/Resource not found/);
    // A subscription nobody can keep is refused, not silently accepted.
    for (const uri of ['file:///etc/passwd', 'https://example.com/x', 'nope://a']) {
      await expect(h.client.subscribeResource({ uri })).rejects.toMatchObject({ code: -32602, data: { uri } });
    }
  });
});
