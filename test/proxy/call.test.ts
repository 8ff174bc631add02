// The call pipeline through both paths: the same call, made once over the SDK client (a host
// session of the proxy) and once over the lane (another session, its bytes handed to the lane as
// a front would), must end the same way for every policy branch: off the allowlist, an error, no
// artifacts, artifacts into the current run, into a named dataset, a named dataset that cannot be
// opened, a timeout (fake timers: nothing waits), and a crash.
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/server';
import type { CallSink } from '../../src/proxy/lane.js';
import { ManualTimers, tempDir } from '../helpers.js';
import { connectHost, fixtureEntry, startProxyOnly, waitFor, type ProxyHost, type ProxyOnly } from './harness.js';

const TIMEOUT_MS = 60_000;

interface Both {
  p: ProxyOnly;
  sdk: ProxyHost;
  lane: ProxyHost;
  out: string;
  timers: ManualTimers;
}

let both: Both;

beforeEach(async () => {
  const out = await tempDir('aw-call-out-');
  const timers = new ManualTimers();
  const p = await startProxyOnly(
    { routing: { tools: ['files', 'fail', 'slow', 'hang', 'crash'] }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }, { timeoutMs: TIMEOUT_MS }) } },
    { timers },
  );
  const sdk = await connectHost(p);
  const lane = await connectHost(p);
  await sdk.client.listTools();
  both = { p, sdk, lane, out, timers };
});

let nextId = 100;

/** The call over the lane, as a front hands it over: the answer the host would get. */
async function viaLane(host: ProxyHost, name: string, args: Record<string, unknown>, pad = 0): Promise<CallToolResult | { error: unknown }> {
  await waitFor(() => both.p.proxy.downstreams[0]!.status === 'ready', 10_000, 'the server to be up');
  const lane = both.p.proxy.lane(host.app);
  const id = nextId++;
  let answered: (m: JSONRPCMessage) => void;
  const answer = new Promise<JSONRPCMessage>((r) => (answered = r));
  const sink: CallSink = {
    send: async () => {},
    answer: async (m) => answered(m),
    answerRaw: async (line) => answered(JSON.parse((Buffer.isBuffer(line) ? line : Buffer.concat(line)).toString())),
  };
  // Whitespace after the message makes it a big line (checked on its bytes) without changing it.
  const took = lane.callRaw(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) + ' '.repeat(pad)), sink);
  expect(took, 'the lane took the call').toBe(id);
  const m = (await answer) as { id: number; result?: CallToolResult; error?: unknown };
  expect(m.id).toBe(id);
  return m.result ?? { error: m.error };
}

async function viaSdk(host: ProxyHost, name: string, args: Record<string, unknown>): Promise<CallToolResult | { error: unknown }> {
  return host.call(name, args).catch((e: { code?: number; message?: string }) => ({ error: { code: e.code, message: e.message?.replace(/^MCP error -?\d+: /, '') } }));
}

/** What must agree between the paths: everything but the names that differ by run and random suffix. */
function outcome(r: CallToolResult | { error: unknown }): unknown {
  const root = both.p.ctx.workspaces.root;
  return JSON.parse(
    JSON.stringify(r)
      .replaceAll(root, '{root}')
      .replaceAll(both.out, '{out}')
      .replace(/\d{8}_\d{6}(_\d+)?/g, '{run}')
      .replace(/fixture_plot_\d+_[a-z0-9]+/g, 'fixture_plot_{n}')
      .replace(/image_\d{8}_\d{6}_\d{3}/g, 'image_{stamp}')
      .replace(/"ts":"[^"]+"/g, '"ts":"{ts}"')
      // Process ids of any length (a fresh machine hands out 3-digit ones).
      .replace(/fixture \d+ ready/g, 'fixture {pid} ready')
      .replace(/\b\d{4,}\b/g, '{n}'),
  );
}

async function same(name: string, args: Record<string, unknown> = {}) {
  const a = await viaSdk(both.sdk, name, args);
  const b = await viaLane(both.lane, name, args);
  expect(outcome(b)).toEqual(outcome(a));
  return a;
}

describe('one call, two paths, one outcome', () => {
  it('off the allowlist: the server\'s result as it is', async () => {
    const r = await same('echo', { text: 'hi' });
    expect(r).toMatchObject({ structuredContent: { echoed: 'hi' } });
  });

  it('an allowlisted tool that reports an error: not routed', async () => {
    const r = (await same('fail')) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(r._meta).toBeUndefined();
  });

  it('an allowlisted tool with nothing to route: the server\'s result as it is', async () => {
    const r = (await same('slow', { steps: 1, delayMs: 1 })) as CallToolResult;
    expect(r._meta).toBeUndefined();
  });

  it('artifacts, no dataset named: filed into the session\'s current run', async () => {
    const r = (await same('files')) as CallToolResult;
    const meta = r._meta?.['artifact-workspace/routed'] as { entries: { dst: string }[] };
    expect(meta.entries).toHaveLength(3);
    expect(path.relative(both.p.ctx.workspaces.root, meta.entries[0]!.dst).split(path.sep)[0]).toBe('default');
  });

  it('artifacts, a dataset named in the arguments: filed into that dataset\'s run', async () => {
    const r = (await same('files', { csv_path: '/data/uploaded_1712345678_iris.csv' })) as CallToolResult;
    const meta = r._meta?.['artifact-workspace/routed'] as { entries: { dst: string }[] };
    expect(path.relative(both.p.ctx.workspaces.root, meta.entries[0]!.dst).split(path.sep)[0]).toBe('iris');
  });

  it('a named dataset that cannot be opened: a routing failure, never filed elsewhere', async () => {
    // A file stands where the dataset folder would be.
    fs.writeFileSync(path.join(both.p.ctx.workspaces.root, 'blocked'), 'not a folder');
    const r = (await same('files', { csv_path: '/data/blocked.csv' })) as CallToolResult;
    expect(r._meta?.['artifact-workspace/routed']).toEqual({ entries: [], skipped: [{ src: '(routing)', reason: expect.stringMatching(/^routing failed: .*blocked is not a plain folder/) }], manifest: null });
    expect(fs.readdirSync(both.p.ctx.workspaces.root).filter((n) => !n.startsWith('.'))).toEqual(['blocked']);
  });

  it('a call that outlives its timeout: the same isError result, the server told to stop', async () => {
    for (const [host, via] of [[both.sdk, viaSdk], [both.lane, viaLane]] as const) {
      const pending = via(host, 'hang', { tag: 't' });
      await waitFor(() => fs.existsSync(path.join(both.out, 'started.txt')) && fs.readFileSync(path.join(both.out, 'started.txt'), 'utf8').split('\n').length > (via === viaSdk ? 1 : 2), 5000, 'the call to start');
      both.timers.advance(TIMEOUT_MS);
      const r = (await pending) as CallToolResult;
      expect(r).toEqual({ isError: true, content: [{ type: 'text', text: `server "ds" did not answer tools/call within ${TIMEOUT_MS} ms (timeoutMs; progress resets it)` }] });
    }
    await waitFor(() => fs.existsSync(path.join(both.out, 'cancelled.txt')) && fs.readFileSync(path.join(both.out, 'cancelled.txt'), 'utf8').split('\n').length > 2, 5000, 'both cancellations');
  });

  it('progress resets the clock on both paths', async () => {
    for (const [host, via] of [[both.sdk, viaSdk], [both.lane, viaLane]] as const) {
      // Progress every 300 ms for 4 steps; the timer would fire at 60 s of fake time if not reset.
      const pending = via(host, 'slow', { steps: 4, delayMs: 300 });
      // Fake time runs far past the timeout between progress notifications only if none reset it.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 350));
        both.timers.advance(TIMEOUT_MS - 1);
      }
      expect(((await pending) as CallToolResult).isError).toBeFalsy();
    }
  });

  it('a crash mid-call: the same isError result with the stderr tail', async () => {
    const a = (await viaSdk(both.sdk, 'crash', {})) as CallToolResult;
    // The next call restarts the server (the lane carries calls only to a server that is up),
    // after its backoff: on the test's clock, moved on until the restart is done.
    const restart = viaSdk(both.sdk, 'echo', { text: 'restart' });
    await waitFor(() => {
      both.timers.advance(1000);
      return both.p.proxy.downstreams[0]!.status === 'ready';
    }, 10_000, 'the restart');
    await restart;
    const b = (await viaLane(both.lane, 'crash', {})) as CallToolResult;
    expect(a.isError && b.isError).toBe(true);
    expect(outcome(b)).toEqual(outcome(a));
    expect((a.content[0] as { text: string }).text).toMatch(/during tools\/call\n--- last lines of its stderr ---\n/);
  });
});

describe('a big line (64 KiB and more) takes the same path and ends the same way', () => {
  const BIG = 70_000;
  it('off the allowlist, with a big argument; its dataset hint is acted on', async () => {
    const text = 'é'.repeat(40_000);
    const a = await viaSdk(both.sdk, 'echo', { text, csv_path: '/data/uploaded_1712345678_iris.csv' });
    const b = await viaLane(both.lane, 'echo', { text, csv_path: '/data/uploaded_1712345678_iris.csv' }, BIG);
    expect(outcome(b)).toEqual(outcome(a));
    expect(both.lane.app.session.current).toBe('iris');
  });

  it('artifacts into a dataset named in the arguments (a routed call decodes them all)', async () => {
    const a = (await viaSdk(both.sdk, 'files', { csv_path: '/data/uploaded_1712345678_iris.csv', pad: 'x'.repeat(BIG) })) as CallToolResult;
    const b = (await viaLane(both.lane, 'files', { csv_path: '/data/uploaded_1712345678_iris.csv', pad: 'x'.repeat(BIG) })) as CallToolResult;
    expect(outcome(b)).toEqual(outcome(a));
    const meta = b._meta?.['artifact-workspace/routed'] as { entries: { dst: string }[] };
    expect(path.relative(both.p.ctx.workspaces.root, meta.entries[0]!.dst).split(path.sep)[0]).toBe('iris');
  });

  const refused: [string, string][] = [
    ['a bad escape deep in an argument', `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(BIG)}\\q"}}}`],
    ['a raw control character in an argument', `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(BIG)}\u0001"}}}`],
    ['bytes after the message', `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(BIG)}"}}} x`],
    ['params naming a key twice', `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"echo","arguments":{"text":"${'x'.repeat(BIG)}"}}}`],
    ['an id named twice', `{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(BIG)}"}}}`],
    ['arguments that are a string', `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":"${'x'.repeat(BIG)}"}}`],
    ['no jsonrpc', `{"id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(BIG)}"}}}`],
    ['an extra top-level key', `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(BIG)}"}},"x":1}`],
  ];
  it.each(refused)('leaves to the SDK path: %s', async (_name, text) => {
    await waitFor(() => both.p.proxy.downstreams[0]!.status === 'ready', 10_000, 'the server to be up');
    const sink: CallSink = { send: async () => {}, answer: async () => {}, answerRaw: async () => {} };
    expect(Buffer.byteLength(text)).toBeGreaterThan(65_536);
    expect(both.p.proxy.lane(both.lane.app).callRaw(Buffer.from(text), sink)).toBeUndefined();
  });
});
