// The routing hook through the whole proxy: allowlisted results are filed into the workspace and
// gain links and _meta; everything else is forwarded untouched; routing never breaks a call.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CallToolResult, ResourceLink } from '@modelcontextprotocol/server';
import { snapshot, tempDir } from '../helpers.js';
import { fixtureEntry, startDirect, startProxy, waitFor, EVERYTHING } from './harness.js';

const META = 'artifact-workspace/routed';

describe('routing hook', () => {
  it('routes a path, an image block and an embedded resource; links after the tool\'s own blocks; tells the host', async () => {
    const out = await tempDir('aw-fixture-out-');
    const h = await startProxy({ routing: { tools: ['@default', 'fil*'] }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }) } });
    const res = await h.call('files', { csv_path: path.join(out, 'uploaded_1700000000_tips.csv') });
    expect(res.isError).toBeFalsy();
    const own = res.content.slice(0, 3);
    expect(own.map((b) => b.type)).toEqual(['text', 'image', 'resource']);
    const links = res.content.slice(3) as ResourceLink[];
    expect(links).toHaveLength(3);
    const meta = res._meta?.[META] as { entries: { dst: string; mode: string; src: string }[]; skipped: unknown[]; manifest: string };
    expect(meta.entries).toHaveLength(3);
    const runDir = path.dirname(path.dirname(meta.entries[0]!.dst));
    expect(path.relative(h.ctx.workspaces.root, runDir)).toMatch(/^tips[\\/]\d{8}_\d{6}(_\d+)?$/);
    const subdirs = links.map((l) => path.basename(path.dirname(fileURLToPath(l.uri)))).sort();
    expect(subdirs).toEqual(['plots', 'plots', 'reports']);
    for (const l of links) {
      const p = fileURLToPath(l.uri);
      expect(fs.existsSync(p)).toBe(true);
      expect(l.name).toBe(path.basename(p));
    }
    expect(links.find((l) => l.name.endsWith('.md'))?.mimeType).toBe('text/markdown');
    expect(meta.entries.filter((e) => e.mode === 'write').map((e) => e.src).sort()).toEqual(['inline:image', 'inline:resource']);
    expect(fs.existsSync(meta.manifest)).toBe(true);
    await waitFor(() => h.logs.length, 3000, 'the routed log message');
    expect(h.logs).toContainEqual({ level: 'info', logger: 'artifact-workspace', data: `routed 3 files to tips/${path.basename(runDir)}` });
  });

  it('a tool off the allowlist is forwarded untouched and nothing is written', async () => {
    const out = await tempDir('aw-fixture-out-');
    const env = { FIXTURE_OUT: out };
    const h = await startProxy({ routing: { tools: ['@default'] }, mcpServers: { ds: fixtureEntry(env) } });
    const direct = await startDirect({ ...fixtureEntry(env), env });
    await h.client.listTools();
    const before = await snapshot(h.ctx.workspaces.root);
    const res = await h.call('files');
    expect(res._meta).toBeUndefined();
    expect(res.content).toHaveLength(3);
    const d = await direct.call('files');
    expect(res.content.slice(1)).toEqual(d.content.slice(1));
    expect(await snapshot(h.ctx.workspaces.root)).toEqual(before);
  });

  it.each([
    ['a plot_path', (f: string) => ({ plot_path: f })],
    ['an artifacts list', (f: string) => ({ artifacts: [{ path: f, type: 'plot', label: 'p' }] })],
    ['paths nested deep', (f: string) => ({ a: { b: { c: { model_path: f, plot_paths: [f] } } } })],
    ['a file:// URI', (f: string) => ({ report_path: pathToFileURL(f).href })],
    ['JSON text naming a path', (f: string) => ({ text: JSON.stringify({ plot_path: f }) })],
  ])('off the allowlist, a result naming a real file through %s is the direct result, and nothing is written', async (_shape, args) => {
    const base = await tempDir('aw-offlist-');
    const png = path.join(base, 'made.png');
    fs.writeFileSync(png, 'a real plot');
    const RAW = fileURLToPath(new URL('../fixtures/raw-server.mjs', import.meta.url));
    const entry = { command: process.execPath, args: [RAW], cwd: base };
    // `mirror` is off the list; `echo` keeps routing live.
    const h = await startProxy({ routing: { sourceRoots: [base], tools: ['echo'] }, mcpServers: { raw: entry } });
    const direct = await startDirect(entry);
    await h.client.listTools();
    const before = await snapshot(h.ctx.workspaces.root);
    const a = args(png);
    expect(await h.call('mirror', a)).toEqual(await direct.call('mirror', a));
    expect(await snapshot(h.ctx.workspaces.root)).toEqual(before);
    expect(fs.readFileSync(png, 'utf8')).toBe('a real plot');
  });

  it('an isError result is not routed', async () => {
    const h = await startProxy({ routing: { tools: ['fail'] }, mcpServers: { ds: fixtureEntry() } });
    expect(await h.call('fail')).toEqual({ isError: true, content: [{ type: 'text', text: 'fixture: this tool failed on purpose' }] });
  });

  it('a routing failure leaves the result intact and is reported in _meta and on stderr', async () => {
    const out = await tempDir('aw-fixture-out-');
    const h = await startProxy({ routing: { tools: ['files'] }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }) } });
    h.ctx.routing.route = async () => {
      throw new Error('disk on fire');
    };
    const res = await h.call('files');
    expect(res.content).toHaveLength(3);
    expect(res._meta?.[META]).toEqual({ entries: [], skipped: [{ src: '(routing)', reason: 'routing failed: disk on fire' }], manifest: null });
    expect(h.stderr.join('')).toMatch(/files: routing failed: disk on fire/);
  });

  it('a dataset named in any call\'s arguments becomes the session\'s current workspace', async () => {
    const h = await startProxy({ routing: { tools: [] }, mcpServers: { ds: fixtureEntry() } });
    await h.call('echo', { text: 'x', csv_path: '/data/uploaded_1712345678_Sales 2024.csv' } as Record<string, unknown>).catch(() => undefined);
    const info = await h.call('get_workspace_info');
    expect(info.structuredContent).toMatchObject({ dataset: 'sales_2024' });
  });

  it('a call that names its run in _meta["artifact-workspace/workspace"] files there, over any dataset hint or current run', async () => {
    const out = await tempDir('aw-fixture-out-');
    const h = await startProxy({ routing: { tools: ['files'] }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }) } });
    const a = (await h.call('ensure_workspace', { dataset: 'tips' })).structuredContent as { workspace: string; workspace_root: string };
    await h.call('ensure_workspace', { dataset: 'iris' });
    const res = (await h.client.request(
      { method: 'tools/call', params: { name: 'files', arguments: { csv_path: '/d/penguins.csv' }, _meta: { 'artifact-workspace/workspace': a.workspace } } }
    )) as CallToolResult;
    const meta = res._meta?.[META] as { entries: { dst: string }[] };
    expect(meta.entries).toHaveLength(3);
    for (const e of meta.entries) expect(e.dst.startsWith(a.workspace_root + path.sep)).toBe(true);
    expect((await h.call('get_workspace_info')).structuredContent).toMatchObject({ workspace: a.workspace });
  });

  it('a bad handle in _meta is refused before the tool runs; off the allowlist the handle is not read', async () => {
    const out = await tempDir('aw-fixture-out-');
    const h = await startProxy({ routing: { tools: ['files'] }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }) } });
    for (const handle of ['tips/20991231_235959', '../x', 42]) {
      const before = await snapshot(h.ctx.workspaces.root);
      await expect(
        h.client.request({ method: 'tools/call', params: { name: 'files', arguments: {}, _meta: { 'artifact-workspace/workspace': handle } } }),
      ).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('_meta["artifact-workspace/workspace"]') });
      expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
      expect(await snapshot(h.ctx.workspaces.root)).toEqual(before);
    }
    const echo = await h.client.request({ method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: { 'artifact-workspace/workspace': '../x' } } });
    expect(echo.isError).toBeFalsy();
  });
});

describe('server-everything as a downstream', () => {
  const entry = { command: process.execPath, args: [EVERYTHING, 'stdio'] };

  it.skipIf(!fs.existsSync(EVERYTHING))('its image and embedded resource land in the workspace; echo is byte-for-byte the direct result', async () => {
    const h = await startProxy({ routing: { tools: ['get-tiny-image', 'get-resource-reference'] }, mcpServers: { everything: entry } });
    const direct = await startDirect(entry);
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-tiny-image', 'get-resource-reference']));

    const img = await h.call('get-tiny-image');
    const imgMeta = img._meta?.[META] as { entries: { dst: string }[] };
    const block = img.content.find((b) => b.type === 'image');
    expect(block?.type === 'image' && fs.readFileSync(imgMeta.entries[0]!.dst).equals(Buffer.from(block.data, 'base64'))).toBe(true);
    expect(path.basename(path.dirname(imgMeta.entries[0]!.dst))).toBe('plots');

    const ref = await h.call('get-resource-reference', { resourceType: 'Text', resourceId: 1 });
    const refMeta = ref._meta?.[META] as { entries: { dst: string }[] };
    const embedded = ref.content.find((b) => b.type === 'resource');
    expect(embedded?.type === 'resource' && 'text' in embedded.resource && fs.readFileSync(refMeta.entries[0]!.dst, 'utf8') === embedded.resource.text).toBe(true);

    const args = { message: 'héllo ✓ {"json": [1,2]}' };
    expect(JSON.stringify(await h.call('echo', args))).toBe(JSON.stringify(await direct.call('echo', args)));
  });
});
