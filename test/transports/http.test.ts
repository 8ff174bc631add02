// The Streamable HTTP front through a real SDK client, plus raw requests for the guards.
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { resolveSettings } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createAppServer, type ToolSource } from '../../src/server/app.js';
import { createContext } from '../../src/server/context.js';
import { startHttpFront, type HttpFrontOptions } from '../../src/transports/http.js';
import { ManualTimers, onCleanup, sc, tempDir } from '../helpers.js';

async function front(extra: Partial<HttpFrontOptions> = {}, sources: ToolSource[] = []) {
  const base = await tempDir();
  const ctx = await createContext(resolveSettings({ env: {}, flags: { root: path.join(base, 'ws') }, cwd: base }), silentLogger);
  onCleanup(() => ctx.workspaces.store.close());
  const f = await startHttpFront({ host: '127.0.0.1', port: 0, log: silentLogger, createSession: () => ({ server: createAppServer(ctx, { sources }).server }), ...extra });
  onCleanup(() => f.close());
  return f;
}

async function client(url: string, headers: Record<string, string> = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const c = new Client({ name: 'http-test', version: '1.0.0' });
  onCleanup(() => c.close());
  await c.connect(transport);
  return { c, transport };
}

function raw(port: number, headers: Record<string, string>, body = '{}', method = 'POST'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

describe('Streamable HTTP front', () => {
  it('each MCP session has its own current workspace', async () => {
    const f = await front();
    const a = await client(f.url);
    const b = await client(f.url);
    sc((await a.c.callTool({ name: 'ensure_workspace', arguments: { dataset: 'tips' } })) as any);
    sc((await b.c.callTool({ name: 'ensure_workspace', arguments: { dataset: 'iris' } })) as any);
    expect(sc((await a.c.callTool({ name: 'get_workspace_info', arguments: {} })) as any).dataset).toBe('tips');
    expect(sc((await b.c.callTool({ name: 'get_workspace_info', arguments: {} })) as any).dataset).toBe('iris');
    expect(f.sessionCount()).toBe(2);
    await a.transport.terminateSession();
    expect(f.sessionCount()).toBe(1);
  });

  it('bounds bodies: initialize at 1 MiB, and all bodies held at once together', async () => {
    const f = await front({ maxInflightBytes: 4 * 1024 * 1024 });
    // An initialize is small: a big one is refused. (Other bodies outside a session may be
    // 2026-07-28 requests, which have no sessions: they get the full limit, and the budget.)
    const init = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' }, pad: 'x'.repeat(2 * 1024 * 1024) };
    expect(await raw(f.port, {}, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: init }))).toBe(413);
    const { transport } = await client(f.url);
    const sid = transport.sessionId!;
    const big = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'route_artifacts', arguments: { result: { note: 'x'.repeat(3 * 1024 * 1024) } } } });
    const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    // Three 3 MiB bodies at once against a 4 MiB budget: at least one must wait its turn (503).
    const statuses = await Promise.all([1, 2, 3].map((i) => raw(f.port, h, big(10 + i))));
    expect(statuses).toContain(503);
    expect(statuses).toContain(200);
    // The budget comes back once answered.
    expect(await raw(f.port, h, big(20))).toBe(200);
  });

  it('takes requests far larger than 100 kB', async () => {
    const f = await front();
    const { c } = await client(f.url);
    const res = sc((await c.callTool({ name: 'route_artifacts', arguments: { result: { note: 'x'.repeat(5 * 1024 * 1024) } } })) as any);
    expect(res.routed).toEqual([]);
  });

  it('refuses a request body over the cap with 413', async () => {
    const f = await front({ maxBodyBytes: 1024 });
    expect(await raw(f.port, {}, JSON.stringify({ pad: 'x'.repeat(2048) }))).toBe(413);
  });

  it('checks Host and Origin against DNS rebinding', async () => {
    const f = await front();
    expect(await raw(f.port, { host: `evil.example:${f.port}` }, INIT)).toBe(403);
    expect(await raw(f.port, { origin: 'http://evil.example' }, INIT)).toBe(403);
    expect(await raw(f.port, { host: `localhost:${f.port}`, origin: 'http://localhost:5173' }, INIT)).toBe(200);
  });

  it('requires the bearer token when one is set', async () => {
    const f = await front({ token: 's3cret' });
    expect(await raw(f.port, {}, INIT)).toBe(401);
    expect(await raw(f.port, { authorization: 'Bearer wrong' }, INIT)).toBe(401);
    const { c } = await client(f.url, { authorization: 'Bearer s3cret' });
    expect((await c.listTools()).tools).toHaveLength(4);
  });

  it('answers unknown sessions with 404, missing initialize with 400, other paths with 404', async () => {
    const f = await front();
    expect(await raw(f.port, { 'mcp-session-id': 'nope' }, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')).toBe(404);
    expect(await raw(f.port, {}, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')).toBe(400);
    expect(await raw(f.port, {}, 'not json')).toBe(400);
  });

  it('keeps a session in use alive however short the idle limit, and frees it once idle', async () => {
    const timers = new ManualTimers();
    const f = await front({ idleTimeoutMs: 3000, timers });
    const { c } = await client(f.url);
    // A request every 2.5 s of (fake) time, sweeps every second: never idle for 3 s.
    for (let i = 0; i < 10; i++) {
      await c.callTool({ name: 'get_workspace_info', arguments: {} });
      timers.advance(2500);
    }
    expect(f.sessionCount()).toBe(1);
    timers.advance(1000);
    expect(f.sessionCount()).toBe(0);
  });

  it('caps the number of open sessions', async () => {
    const f = await front({ maxSessions: 1 });
    await client(f.url);
    expect(await raw(f.port, {}, INIT)).toBe(503);
  });

  it('never frees a session while one of its requests is being answered', async () => {
    const timers = new ManualTimers();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { listTools: () => [{ name: 'wait', inputSchema: { type: 'object' as const } }], callTool: (n: string) => (n === 'wait' ? gate.then(() => ({ content: [] })) : undefined) };
    const f = await front({ idleTimeoutMs: 1000, timers }, [slow]);
    const { c } = await client(f.url);
    const pending = c.callTool({ name: 'wait', arguments: {} });
    await new Promise((r) => setTimeout(r, 50));
    timers.advance(60_000);
    expect(f.sessionCount()).toBe(1);
    release();
    await pending;
    timers.advance(3000);
    expect(f.sessionCount()).toBe(0);
  });
});
