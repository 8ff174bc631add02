// The pass-through lane behind the Streamable HTTP front: `serve --transport http` in front of the
// fixture, through a real SDK client over HTTP, against the same calls made directly over stdio.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { onCleanup, stopProcess, tempDir } from '../helpers.js';
import { FIXTURE, fixtureEntry } from '../proxy/harness.js';
import { startHttpCli } from './http-session.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

async function setup() {
  const base = await tempDir('aw-lane-http-');
  const out = path.join(base, 'out');
  fs.mkdirSync(out);
  const config = path.join(base, 'mcp.config.json');
  fs.writeFileSync(config, JSON.stringify({ workspace: { root: path.join(base, 'ws') }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }) } }));
  const child = spawn(process.execPath, [CLI, 'serve', '--transport', 'http', '--port', '0', '--config', config], { cwd: base, stdio: ['ignore', 'ignore', 'pipe'] });
  onCleanup(() => stopProcess(child));
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /Streamable HTTP at (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(err)));
  });
  const client = async (transport: StdioClientTransport | StreamableHTTPClientTransport) => {
    const c = new Client({ name: 'lane-http', version: '1' }, { capabilities: { sampling: {} } });
    c.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'm', content: { type: 'text', text: 'sampled' } }));
    onCleanup(() => c.close());
    await c.connect(transport);
    await c.listTools();
    const call = (name: string, args: Record<string, unknown> = {}, opts: object = {}) =>
      c.request({ method: 'tools/call', params: { name, arguments: args } }, opts) as Promise<CallToolResult>;
    return { c, call };
  };
  const direct = await client(new StdioClientTransport({ command: process.execPath, args: [FIXTURE], env: { ...(process.env as Record<string, string>), FIXTURE_OUT: out }, stderr: 'ignore' }));
  const proxied = await client(new StreamableHTTPClientTransport(new URL(url)));
  return { base, url, direct, proxied };
}

describe('pass-through lane over Streamable HTTP', () => {
  it('answers a plain call as application/json, agreeing with a direct call', async () => {
    const { url, direct, proxied } = await setup();
    expect(await proxied.call('echo', { text: 'hi ✓' })).toEqual(await direct.call('echo', { text: 'hi ✓' }));
    expect(await proxied.call('fail')).toEqual(await direct.call('fail'));
    await expect(proxied.call('bad')).rejects.toMatchObject({ code: -32602, data: { field: 'x' } });
    // The same call raw: JSON, not an event stream, when nothing else travels with it.
    const init = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    const sid = init.headers.get('mcp-session-id')!;
    await init.text();
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    await (await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'raw' } } }) });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ id: 2, result: { structuredContent: { echoed: 'raw' } } });
  });

  it('streams progress, and the server\'s own request to the host, on the call\'s response', async () => {
    const { direct, proxied } = await setup();
    const seen: number[] = [];
    await proxied.call('slow', { steps: 3, delayMs: 5 }, { onprogress: (p: { progress: number }) => seen.push(p.progress) });
    expect(seen).toEqual([1, 2, 3]);
    const args = { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 } };
    expect(await proxied.call('ask_client', args)).toEqual(await direct.call('ask_client', args));
  });

  it('cancellation reaches the server', async () => {
    const { base, proxied } = await setup();
    const ac = new AbortController();
    const p = proxied.call('hang', { tag: 'h' }, { signal: ac.signal });
    await expect.poll(() => fs.existsSync(path.join(base, 'out', 'started.txt')), { timeout: 5000 }).toBe(true);
    ac.abort('stop');
    await expect(p).rejects.toThrow();
    await expect.poll(() => fs.existsSync(path.join(base, 'out', 'cancelled.txt')), { timeout: 5000 }).toBe(true);
    expect((await proxied.call('echo', { text: 'after' })).structuredContent).toEqual({ echoed: 'after' });
  });
});

describe('pass-through lane over Streamable HTTP, a 2026-07-28 host', () => {
  const RAW = fileURLToPath(new URL('../fixtures/raw-server.mjs', import.meta.url));
  const envelope = (caps: Record<string, unknown> = {}) => ({
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': caps,
  });

  it('carries the server\'s bytes with resultType added; headers that disagree, or a host that can be asked, go the SDK path', async () => {
    const base = await tempDir('aw-lane-http-modern-');
    const config = path.join(base, 'mcp.config.json');
    fs.writeFileSync(config, JSON.stringify({ workspace: { root: path.join(base, 'ws') }, mcpServers: { raw: { command: process.execPath, args: [RAW], protocol: '2025-11-25' } } }));
    const { url } = await startHttpCli(config, base);
    const post = (id: number, headers: Record<string, string>, caps: Record<string, unknown> = {}) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `n${id}` }, _meta: envelope(caps) } }),
      }).then((r) => r.text());
    // The first call may wait for the server to come up: list first, as a host would.
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope() } }),
    }).then((r) => r.text());
    const lane = await post(2, { 'mcp-name': 'echo' });
    // The raw server's own spacing survives, and the result says it is complete.
    expect(lane).toMatch(/^\{"jsonrpc": "2.0", "id": 2, "result": \{"resultType":"complete","content": /);
    const sdk = await post(3, { 'mcp-name': 'echo' }, { elicitation: {} });
    expect(sdk).not.toContain('"jsonrpc": "2.0"');
    expect(sdk).toContain('"resultType":"complete"');
    // A mirrored name that disagrees with the body is the SDK's to refuse.
    expect(JSON.parse(await post(4, { 'mcp-name': 'other' })).error.code).toBe(-32020);
  });
});
