// Both protocol revisions on both fronts, through the built CLI: a 2025-11-25 host (initialize,
// sessions) and a 2026-07-28 host (no initialize, no sessions, a `_meta` envelope on every
// request), with real SDK 2.x clients. Workspaces are named by handle at 2026-07-28, and without
// one a dataset's artifacts go to its latest run; that holds across processes, so two HTTP
// fronts behind a round-robin balancer serve one 2026 client over one workspaces root.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CallToolResultSchema } from '@modelcontextprotocol/core';
import { CLI, onCleanup, sc, tempDir } from '../helpers.js';
import { fixtureEntry } from '../proxy/harness.js';
import { startHttpCli } from './http-session.js';

type Era = 'legacy' | 'modern';
const VERSION: Record<Era, string> = { legacy: '2025-11-25', modern: '2026-07-28' };
const META = 'artifact-workspace/routed';
const HANDLE = 'artifact-workspace/workspace';

function client(era: Era): Client {
  const c = new Client({ name: 'revisions-test', version: '1.0.0' }, { versionNegotiation: { mode: era === 'modern' ? { pin: '2026-07-28' } : 'legacy' } });
  onCleanup(() => c.close());
  return c;
}

async function base(proxied: boolean) {
  const dir = await tempDir('aw-rev-');
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const config = path.join(dir, 'mcp.config.json');
  const root = path.join(dir, 'ws');
  fs.writeFileSync(config, JSON.stringify({ workspace: { root }, ...(proxied && { routing: { tools: ['files'] }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }) } }) }));
  return { dir, out, config, root };
}

async function overStdio(era: Era, b: { dir: string; config: string }): Promise<Client> {
  const c = client(era);
  await c.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', b.config], cwd: b.dir, stderr: 'pipe' }));
  return c;
}

async function overHttp(era: Era, url: string): Promise<Client> {
  const c = client(era);
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}

const call = (c: Client, name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>) =>
  c.request({ method: 'tools/call', params: { name, arguments: args, ...(meta && { _meta: meta }) } }, CallToolResultSchema) as Promise<CallToolResult>;

const routedDsts = (res: CallToolResult) => (res._meta?.[META] as { entries: { dst: string }[] }).entries.map((e) => e.dst);

describe.each(['stdio', 'http'] as const)('standalone over %s', (front) => {
  it.each(['legacy', 'modern'] as const)('a %s host: our tools, handles and resources', async (era) => {
    const b = await base(false);
    const connect = async () => (front === 'stdio' ? overStdio(era, b) : overHttp(era, (await startHttpCli(b.config, b.dir)).url));
    const c = await connect();
    expect(c.getNegotiatedProtocolVersion()).toBe(VERSION[era]);
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(['compare_runs', 'ensure_workspace', 'get_workspace_info', 'route_artifacts']);
    const ws = sc(await call(c, 'ensure_workspace', { dataset: 'tips' }));
    expect(ws.workspace).toBe(`tips/${ws.run_id}`);
    const src = path.join(b.dir, 'hist.png');
    fs.writeFileSync(src, 'png');
    const routed = sc(await call(c, 'route_artifacts', { paths: [src], type: 'plot', workspace: ws.workspace }));
    expect(routed.workspace).toBe(ws.workspace);
    const dst = routed.routed[0].dst as string;
    expect(path.dirname(dst)).toBe(ws.subdirs.plots);
    const info = sc(await call(c, 'get_workspace_info', { workspace: ws.workspace }));
    expect(info).toMatchObject({ active: true, workspace: ws.workspace, counts: { plots: 1 } });
    // The same dataset again: a 2025 session keeps its run; a 2026 host, which has no session, gets
    // the dataset's latest run, which is the same one.
    expect(sc(await call(c, 'ensure_workspace', { dataset: 'tips' })).workspace).toBe(ws.workspace);
    const { resources } = await c.listResources();
    const link = resources.find((r) => r.uri.endsWith('/plots/hist.png'));
    expect(link).toBeDefined();
    const read = await c.readResource({ uri: link!.uri });
    expect(read.contents[0]).toMatchObject({ uri: link!.uri });
  });
});

describe.each(['stdio', 'http'] as const)('proxy over %s, a 2025 downstream', (front) => {
  it.each(['legacy', 'modern'] as const)('a %s host: downstream tools, routing by handle and into latest', async (era) => {
    const b = await base(true);
    const url = front === 'http' ? (await startHttpCli(b.config, b.dir)).url : undefined;
    const c = url ? await overHttp(era, url) : await overStdio(era, b);
    expect(c.getNegotiatedProtocolVersion()).toBe(VERSION[era]);
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['ensure_workspace', 'echo', 'files']));
    expect((await call(c, 'echo', { text: 'héllo' })).content).toEqual([{ type: 'text', text: 'héllo' }]);
    // Named by handle: into that run, whatever else is current.
    const a = sc(await call(c, 'ensure_workspace', { dataset: 'tips' }));
    await call(c, 'ensure_workspace', { dataset: 'iris', new_run: true });
    const named = await call(c, 'files', {}, { [HANDLE]: a.workspace });
    expect(routedDsts(named)).toHaveLength(3);
    for (const d of routedDsts(named)) expect(d.startsWith(a.workspace_root + path.sep)).toBe(true);
    // A dataset hint and no handle: a 2026 host gets that dataset's latest run, call after call.
    if (era === 'modern') {
      const first = routedDsts(await call(c, 'files', { csv_path: '/data/penguins.csv' }));
      const second = routedDsts(await call(c, 'files', { csv_path: '/data/penguins.csv' }));
      const runOf = (d: string) => path.relative(b.root, d).split(path.sep).slice(0, 2).join('/');
      expect(new Set([...first, ...second].map(runOf)).size).toBe(1);
      expect(runOf(first[0]!)).toMatch(/^penguins\/\d{8}_\d{6}(_\d+)?$/);
    }
    // A bad handle changes nothing, at either revision.
    const before = fs.readdirSync(b.out).length;
    await expect(call(c, 'files', {}, { [HANDLE]: 'tips/20991231_235959' })).rejects.toMatchObject({ code: -32602 });
    expect(fs.readdirSync(b.out)).toHaveLength(before);
  });
});

/** A plain round-robin HTTP balancer: each request goes to the next backend, bodies and streams as they are. */
async function roundRobin(backends: string[]): Promise<string> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', backends[next++ % backends.length]);
    const up = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`;
}

describe('several stateless HTTP fronts over one root', () => {
  it('two processes behind a round-robin balancer serve a 2026 client call after call, into one run', async () => {
    const b = await base(true);
    const [one, two] = await Promise.all([startHttpCli(b.config, b.dir), startHttpCli(b.config, b.dir)]);
    const c = await overHttp('modern', await roundRobin([one.url, two.url]));
    const a = sc(await call(c, 'ensure_workspace', { dataset: 'tips' }));
    const dsts: string[] = [];
    for (let i = 0; i < 6; i++) {
      // Alternately by handle and by dataset hint alone (latest): both land in the one run.
      const res = i % 2 ? await call(c, 'files', { csv_path: '/data/tips.csv' }) : await call(c, 'files', {}, { [HANDLE]: a.workspace });
      dsts.push(...routedDsts(res));
      const src = path.join(b.dir, `p${i}.png`);
      fs.writeFileSync(src, `png ${i}`);
      dsts.push(...sc(await call(c, 'route_artifacts', { paths: [src], workspace: a.workspace })).routed.map((e: { dst: string }) => e.dst));
    }
    expect(dsts).toHaveLength(6 * 4);
    for (const d of dsts) expect(d.startsWith(a.workspace_root + path.sep), d).toBe(true);
    // The fixture's embedded report has the same bytes every time: stored once, then deduplicated.
    expect(new Set(dsts).size).toBe(6 * 4 - 5);
    // Both processes answered; each call's manifest is there, read back by either one.
    expect(one.stderr()).not.toMatch(/error/i);
    const info = sc(await call(c, 'get_workspace_info', { workspace: a.workspace }));
    expect(info.runs).toEqual([a.run_id]);
    expect(info.counts.manifests).toBe(12);
    expect(fs.readdirSync(path.join(b.root, 'tips')).filter((n) => n !== 'latest')).toEqual([a.run_id]);
  });
});

describe('a 2026-07-28 host over HTTP is one request at a time', () => {
  it('its requests do not each tell the servers that roots changed (no roots/list storm)', async () => {
    const b = await base(true);
    const front = await startHttpCli(b.config, b.dir);
    const c = new Client({ name: 'revisions-test', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    c.setRequestHandler('roots/list', async () => ({ roots: [{ uri: `file://${b.dir}`, name: 'base' }] }));
    onCleanup(() => c.close());
    await c.connect(new StreamableHTTPClientTransport(new URL(front.url)));
    for (let i = 0; i < 5; i++) expect((await call(c, 'echo', { text: `n${i}` })).content).toEqual([{ type: 'text', text: `n${i}` }]);
    await new Promise((r) => setTimeout(r, 300));
    // The fixture asks for the roots each time it hears they changed, and says so on stderr.
    expect(front.stderr()).not.toMatch(/fixture roots \(list_changed\)/);
  });
});
