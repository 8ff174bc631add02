// The proxy between protocol revisions, in all four pairings of host and server (2025-11-25 and
// 2026-07-28 each), over both fronts: real SDK 2.x clients as hosts, the built CLI as the proxy,
// and the conformance fixture as the server (both revisions; `--modern-only` refuses 2025). The
// server's sampling and elicitation reach the host whatever the pairing (pushed requests to a 2025
// host, input_required rounds to a 2026 one), progress comes back, cancelling a call cancels it
// at the server, and an allowlisted tool's file is routed into the workspace.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CallToolResultSchema } from '@modelcontextprotocol/core';
import { CLI, onCleanup, tempDir } from '../helpers.js';
import { waitFor } from '../proxy/harness.js';
import { startHttpCli } from './http-session.js';

const CONFORMANCE_FIXTURE = fileURLToPath(new URL('../fixtures/conformance-server.mjs', import.meta.url));
type Era = 'legacy' | 'modern';

async function setup(front: 'stdio' | 'http', host: Era, server: Era) {
  const dir = await tempDir('aw-bridge-');
  const out = path.join(dir, 'out');
  const config = path.join(dir, 'mcp.config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      workspace: { root: path.join(dir, 'ws') },
      routing: { tools: ['make_plot'] },
      mcpServers: { conf: { command: process.execPath, args: [CONFORMANCE_FIXTURE, ...(server === 'modern' ? ['--modern-only'] : [])], env: { FIXTURE_OUT: out } } },
    }),
  );
  const c = new Client(
    { name: 'bridge-host', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} } }, versionNegotiation: { mode: host === 'modern' ? { pin: '2026-07-28' } : 'legacy' } },
  );
  const asked: string[] = [];
  c.setRequestHandler('sampling/createMessage', async (r) => {
    asked.push('sampling');
    const first = r.params.messages[0]?.content;
    return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `echo ${first && 'text' in first ? first.text : '?'}` } };
  });
  c.setRequestHandler('elicitation/create', async () => {
    asked.push('elicitation');
    return { action: 'accept', content: { username: 'ann', email: 'ann@example.org' } };
  });
  onCleanup(() => c.close());
  if (front === 'stdio') {
    await c.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', config], cwd: dir, stderr: 'pipe' }));
  } else {
    const { url } = await startHttpCli(config, dir);
    await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  }
  return { c, dir, out, asked };
}

const call = (c: Client, name: string, args: Record<string, unknown> = {}, opts: Parameters<Client['request']>[2] = {}) =>
  c.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, opts) as Promise<CallToolResult>;
const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text;

const pairings = (['stdio', 'http'] as const).flatMap((front) =>
  (['legacy', 'modern'] as const).flatMap((host) => (['legacy', 'modern'] as const).map((server) => [front, host, server] as const)),
);

describe.each(pairings)('over %s, a %s host in front of a %s server', (front, host, server) => {
  it('sampling and elicitation round trips, progress, cancellation and routing', async () => {
    const { c, out, asked } = await setup(front, host, server);
    expect(c.getNegotiatedProtocolVersion()).toBe(host === 'modern' ? '2026-07-28' : '2025-11-25');

    expect(textOf(await call(c, 'test_sampling', { prompt: 'what is 2+2?' }))).toBe('LLM response: echo what is 2+2?');
    expect(textOf(await call(c, 'test_elicitation', { message: 'who are you?' }))).toBe('User response: action=accept, content={"username":"ann","email":"ann@example.org"}');
    expect(asked).toEqual(['sampling', 'elicitation']);

    const progress: number[] = [];
    expect(textOf(await call(c, 'test_tool_with_progress', {}, { onprogress: (p) => void progress.push(p.progress) }))).toBe('Tool with progress executed successfully');
    // 0 and 50 always arrive before the result; the last one (100) was once seen to arrive after it
    // on a loaded machine (legacy host and server over stdio), and a client drops progress for a
    // request it has finished: not asserted (see the closing note of issue 11).
    expect(progress.slice(0, 2)).toEqual([0, 50]);

    const ac = new AbortController();
    const waiting = call(c, 'wait_for_cancel', { tag: `${front}-${host}-${server}` }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 300));
    ac.abort('the user stopped it');
    await expect(waiting).rejects.toThrow();
    const cancelled = path.join(out, 'cancelled.txt');
    await waitFor(() => fs.existsSync(cancelled) && fs.readFileSync(cancelled, 'utf8').includes(`${front}-${host}-${server}`), 10_000, 'the server to hear the cancel');

    const routed = await call(c, 'make_plot');
    const meta = routed._meta?.['artifact-workspace/routed'] as { entries: { dst: string; src: string }[] };
    expect(meta.entries).toHaveLength(1);
    expect(fs.readFileSync(meta.entries[0]!.dst)).toEqual(fs.readFileSync(meta.entries[0]!.src));
    expect(routed.content.some((b) => b.type === 'resource_link')).toBe(true);
  });
});

describe('bridging a 2026-07-28 host: what cannot work is refused with a reason', () => {
  it('a retry with a requestState this process does not hold is an invalid-params error', async () => {
    const { c } = await setup('http', 'modern', 'legacy');
    await expect(
      c.request({ method: 'tools/call', params: { name: 'test_sampling', arguments: { prompt: 'x' }, requestState: 'not-ours', inputResponses: { q1: {} } } as never }, CallToolResultSchema),
    ).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('requestState') });
  });
});

describe('a 2025-11-25 host in front of a 2026-07-28 server: what is not bridged says so', () => {
  it('resources/subscribe is refused with the reason and the way out', async () => {
    const { c } = await setup('stdio', 'legacy', 'modern');
    expect((await c.listResources()).resources.map((r) => r.uri)).toContain('test://watched-resource');
    expect((await c.readResource({ uri: 'test://static-text' })).contents[0]).toMatchObject({ uri: 'test://static-text' });
    await expect(c.subscribeResource({ uri: 'test://watched-resource' })).rejects.toMatchObject({ code: -32601, message: expect.stringContaining('subscriptions/listen') });
  });
});
