// The stdio front's lane (src/proxy/lane.ts): calls to downstream tools off the
// routing allowlist skip the SDK in the proxy. Every case runs the same way directly against the
// fixture and through the built CLI, and the answers must agree; the raw bytes of a response must
// be the server's own with only the id changed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { onCleanup, sc, tempDir } from '../helpers.js';
import { FIXTURE, fixtureEntry } from '../proxy/harness.js';
import { envelope, rawSession } from './raw-session.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const RAW = fileURLToPath(new URL('../fixtures/raw-server.mjs', import.meta.url));

async function proxyConfig(base: string, extra: Record<string, unknown> = {}) {
  const config = path.join(base, 'mcp.config.json');
  fs.writeFileSync(config, JSON.stringify({ workspace: { root: path.join(base, 'ws') }, routing: { tools: ['files'] }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: path.join(base, 'out') }, extra) } }));
  return config;
}

type Side = { client: Client; call(name: string, args?: Record<string, unknown>, opts?: object): Promise<CallToolResult> };

async function connect(kind: 'direct' | 'proxy', base: string, extra: Record<string, unknown> = {}): Promise<Side> {
  const args = kind === 'direct' ? [FIXTURE] : [CLI, 'serve', '--config', await proxyConfig(base, extra)];
  const transport = new StdioClientTransport({ command: process.execPath, args, cwd: base, stderr: 'pipe', env: { ...(process.env as Record<string, string>), FIXTURE_OUT: path.join(base, 'out') } });
  const client = new Client({ name: 'lane-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async (req) => ({
    role: 'assistant',
    model: 'test-model',
    content: { type: 'text', text: `sampled: ${JSON.stringify(req.params.messages[0]?.content)}` },
  }));
  onCleanup(() => client.close());
  await client.connect(transport);
  return {
    client,
    call: (name, a = {}, opts = {}) => client.request({ method: 'tools/call', params: { name, arguments: a } }, opts) as Promise<CallToolResult>,
  };
}

async function both(extra: Record<string, unknown> = {}) {
  const base = await tempDir('aw-lane-');
  fs.mkdirSync(path.join(base, 'out'));
  const [direct, proxy] = await Promise.all([connect('direct', base), connect('proxy', base, extra)]);
  return { base, direct, proxy };
}

describe('the pass-through lane agrees with a direct call', () => {
  it('results, isError, structuredContent, _meta and protocol errors', async () => {
    const { direct, proxy } = await both();
    for (const [name, args] of [
      ['echo', { text: 'héllo ✓' }],
      ['fail', {}],
      ['ds__ensure_workspace', {}],
    ] as const) {
      const want = name === 'ds__ensure_workspace' ? await direct.call('ensure_workspace') : await direct.call(name, args);
      expect(await proxy.call(name, args), name).toEqual(want);
    }
    await expect(proxy.call('bad')).rejects.toMatchObject({ code: -32602, data: { field: 'x' } });
    await expect(direct.call('bad')).rejects.toMatchObject({ code: -32602, data: { field: 'x' } });
  });

  it('a response crosses byte for byte, only the id changed (not re-serialised)', async () => {
    const { d, p } = await rawPair(['@default']);
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(200_000) + ' "id": "aw~1"' } } };
    d.send(call);
    p.send(call);
    const want = await d.waitId(7);
    expect(want).toMatch(/^\{"jsonrpc": "2.0", "id": 7, "result"/);
    expect(await p.waitId(7)).toBe(want);
  });

  it('progress reaches the caller under its own token', async () => {
    const { direct, proxy } = await both();
    for (const side of [direct, proxy]) {
      const seen: number[] = [];
      await side.call('slow', { steps: 4, delayMs: 5 }, { onprogress: (p: { progress: number }) => seen.push(p.progress) });
      expect(seen).toEqual([1, 2, 3, 4]);
    }
  });

  it('the last progress notification sent right before the result arrives before it', async () => {
    const base = await tempDir('aw-lane-raw-');
    const p = await rawSession([CLI, 'serve', '--config', await proxyConfig(base)], base);
    p.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    await p.waitId(2);
    p.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'burst', arguments: { steps: 5 }, _meta: { progressToken: 'mine' } } });
    const lines = await p.upTo(9);
    const progress = lines.filter((l) => l.includes('notifications/progress')).map((l) => JSON.parse(l).params);
    expect(progress.map((x: { progress: number }) => x.progress)).toEqual([1, 2, 3, 4, 5]);
    expect(progress.every((x: { progressToken: string }) => x.progressToken === 'mine')).toBe(true);
  });

  it('cancellation reaches the server; later calls still work', async () => {
    const { base, proxy } = await both();
    const ac = new AbortController();
    const pending = proxy.call('hang', { tag: 'fast' }, { signal: ac.signal });
    const started = path.join(base, 'out', 'started.txt');
    await expect.poll(() => fs.existsSync(started) && fs.readFileSync(started, 'utf8'), { timeout: 5000 }).toContain('fast');
    ac.abort('user pressed stop');
    await expect(pending).rejects.toThrow();
    await expect.poll(() => fs.existsSync(path.join(base, 'out', 'cancelled.txt')), { timeout: 5000 }).toBe(true);
    expect((await proxy.call('echo', { text: 'after' })).structuredContent).toEqual({ echoed: 'after' });
  });

  it('a timeout is an isError result naming timeoutMs; the server stays usable', async () => {
    const { proxy } = await both({ timeoutMs: 300 });
    const res = await proxy.call('hang', { tag: 't' });
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res.content)).toMatch(/did not answer tools\/call within 300 ms/);
    expect((await proxy.call('echo', { text: 'still here' })).structuredContent).toEqual({ echoed: 'still here' });
  });

  it('a crash mid-call is an isError result with the stderr tail; the next call restarts the server', async () => {
    const { proxy } = await both();
    const res = await proxy.call('crash');
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res.content)).toContain('something broke at step 2');
    expect((await proxy.call('echo', { text: 'back' })).structuredContent).toEqual({ echoed: 'back' });
  });

  it('the server\'s own request during the call reaches this host', async () => {
    const { direct, proxy } = await both();
    const args = { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 } };
    expect(await proxy.call('ask_client', args)).toEqual(await direct.call('ask_client', args));
  });

  it('a dataset named in the arguments becomes the current workspace before the answer', async () => {
    const { proxy } = await both();
    await proxy.call('echo', { text: 'x', csv_path: '/data/penguins.csv' } as never);
    const info = sc(await proxy.call('get_workspace_info'));
    expect(info.dataset).toBe('penguins');
  });
});

describe('allowlisted tools on the lane', () => {
  it('routes the artifacts of the answer, tells the host, and keeps the tool\'s own content first', async () => {
    const { base, direct, proxy } = await both();
    const logs: string[] = [];
    proxy.client.setNotificationHandler('notifications/message', (n) => void logs.push(String(n.params.data)));
    const res = await proxy.call('files', { csv_path: path.join(base, 'iris.csv') });
    const own = await direct.call('files', { csv_path: path.join(base, 'iris.csv') });
    expect(res.content.slice(0, own.content.length).map((b) => b.type)).toEqual(own.content.map((b) => b.type));
    const links = res.content.filter((b) => b.type === 'resource_link');
    expect(links).toHaveLength(3);
    const meta = res._meta?.['artifact-workspace/routed'] as { entries: { dst: string }[] };
    expect(meta.entries.map((e) => path.relative(path.join(base, 'ws'), e.dst).split(path.sep).slice(0, 1))).toEqual([['iris'], ['iris'], ['iris']]);
    await expect.poll(() => logs).toEqual([expect.stringMatching(/^routed 3 files to iris\/\d{8}_\d{6}/)]);
  });

  it('an off-list tool whose result names a real file crosses byte for byte and files nothing', async () => {
    // `mirror` is off the allowlist; `echo` is on it, so routing is live in this proxy.
    const { base, d, p } = await rawPair(['echo']);
    const png = path.join(base, 'made.png');
    fs.writeFileSync(png, 'a real plot');
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'mirror', arguments: { plot_path: png, artifacts: [{ path: png, type: 'plot' }] } } };
    d.send(call);
    p.send(call);
    expect(await p.waitId(7)).toBe(await d.waitId(7));
    const stored = fs.existsSync(path.join(base, 'ws')) ? fs.readdirSync(path.join(base, 'ws'), { recursive: true }).map(String) : [];
    expect(stored.filter((f) => f.endsWith('.png') || f.includes('manifest_'))).toEqual([]);
  });

  it('an allowlisted answer with nothing to route crosses as the server wrote it', async () => {
    const { d, p } = await rawPair(['echo']);
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'no artifacts here' } } };
    d.send(call);
    p.send(call);
    expect(await p.waitId(7)).toBe(await d.waitId(7));
  });
});

/** The raw fixture directly, and the built CLI in front of it (routing `tools`), both driven with raw lines. */
async function rawPair(tools: string[]) {
  const base = await tempDir('aw-lane-raw-');
  const config = path.join(base, 'raw.config.json');
  fs.writeFileSync(config, JSON.stringify({ workspace: { root: path.join(base, 'ws') }, routing: { tools }, mcpServers: { raw: { command: process.execPath, args: [RAW] } } }));
  const d = await rawSession([RAW], base);
  const p = await rawSession([CLI, 'serve', '--config', config], base);
  p.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' }); // as hosts do: the downstream is up after it
  await p.waitId(2);
  return { base, d, p };
}

/** The built CLI in front of the raw fixture, driven with raw lines. */
async function rawProxyFor(routing: string[] = [], o: { modern?: boolean; capabilities?: Record<string, unknown> } = {}) {
  const base = await tempDir('aw-lane-strict-');
  const config = path.join(base, 'raw.config.json');
  // The raw server speaks 2025-11-25 only, and says nothing to a server/discover probe.
  fs.writeFileSync(config, JSON.stringify({ workspace: { root: path.join(base, 'ws') }, routing: { tools: routing }, mcpServers: { raw: { command: process.execPath, args: [RAW], protocol: '2025-11-25' } } }));
  const p = await rawSession([CLI, 'serve', '--config', config], base, o);
  p.send({ jsonrpc: '2.0', id: 2, method: 'tools/list', ...(o.modern && { params: { _meta: envelope(o.capabilities) } }) });
  await p.waitId(2);
  return { ...p, base };
}

describe('the lane takes only what the ordinary path would accept', () => {
  const call = (id: number, tail = '', args = '{"text":"x"}') => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":${args}}}${tail}`;

  it('trailing bytes, bad escapes and NaN are never forwarded (no JSON, no call)', async () => {
    const p = await rawProxyFor();
    p.sendLine(call(3, 'GARBAGE'));
    p.sendLine(call(4, '', '{"text":"\\q"}'));
    p.sendLine(call(5, '', '{"n":NaN}'));
    p.sendLine(call(6));
    expect((await p.answer(6))?.result.content[0].text).toBe('x');
    for (const id of [3, 4, 5]) expect(await p.answer(id, 200)).toBeUndefined();
  });

  it('non-object arguments get the ordinary path\'s protocol error, not a forwarded call', async () => {
    const p = await rawProxyFor();
    p.sendLine(call(7, '', '"just a string"'));
    const a = await p.answer(7);
    // The SDK server's own answer to a request its schema refuses; the server never saw it.
    expect(a?.error?.code).toBe(-32602);
    expect(a?.result).toBeUndefined();
  });

  it('a CR used as whitespace is re-serialised away (servers that read CR as a line break still get one line)', async () => {
    const p = await rawProxyFor();
    p.sendLine(`{"jsonrpc":"2.0",\r"id":8,"method":"tools/call","params":{"name":"echo","arguments":{"text":"cr"}}}`);
    expect((await p.answer(8))?.result.content[0].text).toBe('cr');
  });
});

describe('the lane under hostile answers', () => {
  it('an answer carrying a nested "id" of another lane call reaches its own caller; the other still gets its own', async () => {
    const p = await rawProxyFor([]);
    p.sendLine('{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":400}}}');
    p.sendLine('{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"mirror","arguments":{"id":"aw~1","note":"from B"}}}');
    const b = await p.answer(11);
    expect(b?.result.structuredContent).toEqual({ id: 'aw~1', note: 'from B' });
    const a = await p.answer(10);
    expect(a?.result.content[0].text).toBe('slept');
  });

  it('a malformed result from an allowlisted tool goes back as written; the proxy stays up', async () => {
    const p = await rawProxyFor(['bad_result']);
    const png = path.join(p.base, 'p.png');
    fs.writeFileSync(png, 'png');
    p.sendLine(JSON.stringify({ jsonrpc: '2.0', id: 12, method: 'tools/call', params: { name: 'bad_result', arguments: { path: png } } }));
    expect((await p.answer(12))?.result.content).toBe('not a list');
    p.sendLine(JSON.stringify({ jsonrpc: '2.0', id: 13, method: 'tools/call', params: { name: 'echo', arguments: { text: 'alive' } } }));
    expect((await p.answer(13))?.result.content[0].text).toBe('alive');
  });
});

describe('workspace handles through the stdio front', () => {
  it('a routed call naming its run in _meta files there; a bad handle is refused before the tool runs', async () => {
    const { base, proxy } = await both();
    const a = sc(await proxy.call('ensure_workspace', { dataset: 'tips' }));
    await proxy.call('ensure_workspace', { dataset: 'iris' });
    const named = (await proxy.client.request(
      { method: 'tools/call', params: { name: 'files', arguments: {}, _meta: { 'artifact-workspace/workspace': a.workspace } } }
    )) as CallToolResult;
    const entries = (named._meta?.['artifact-workspace/routed'] as { entries: { dst: string }[] }).entries;
    expect(entries).toHaveLength(3);
    for (const e of entries) expect(e.dst.startsWith(a.workspace_root + path.sep)).toBe(true);
    const made = fs.readdirSync(path.join(base, 'out')).length;
    await expect(
      proxy.client.request({ method: 'tools/call', params: { name: 'files', arguments: {}, _meta: { 'artifact-workspace/workspace': 'tips/20991231_235959' } } }),
    ).rejects.toMatchObject({ code: -32602 });
    expect(fs.readdirSync(path.join(base, 'out'))).toHaveLength(made);
  });
});

describe('the lane for a 2026-07-28 host', () => {
  const call = (id: number, caps: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `n${id}` }, _meta: envelope(caps), ...extra } });

  it('carries the server\'s bytes, with resultType added and the id swapped', async () => {
    const p = await rawProxyFor([], { modern: true });
    p.sendLine(call(3));
    const line = (await p.upTo(3)).at(-1)!;
    // The raw server's own spacing survives (the SDK path would re-serialise it), and the result
    // says it is complete, as 2026-07-28 results do.
    expect(line).toMatch(/^\{"jsonrpc": "2.0", "id": 3, "result": \{"resultType":"complete","content": /);
    expect(JSON.parse(line).result.content[0].text).toBe('n3');
  });

  it('leaves to the SDK path a host that can be asked things, a retry of a round, and an envelope it would refuse', async () => {
    const p = await rawProxyFor([], { modern: true });
    p.sendLine(call(4, { sampling: {} }));
    const sdk = (await p.upTo(4)).at(-1)!;
    // Re-serialised by the SDK: no raw spacing, and a result the SDK shaped.
    expect(sdk).not.toContain('"jsonrpc": "2.0"');
    expect(JSON.parse(sdk).result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'n4' }] });
    p.sendLine(call(5, {}, { requestState: 'nope' }));
    expect((await p.answer(5)).error).toMatchObject({ code: -32602 });
    // An envelope naming another revision is the SDK's to judge, not the lane's to carry.
    p.send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: { ...envelope(), 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } });
    expect((await p.upTo(6)).at(-1)).not.toContain('"jsonrpc": "2.0"');
  });
});
