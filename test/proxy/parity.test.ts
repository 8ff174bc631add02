// Parity: the same requests, straight to a downstream server and through the proxy, must agree
// (tools, results, errors, progress, cancellation, logging, resources, prompts, completions).
// The one sanctioned difference: results of allowlisted tools gain resource links and _meta.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@modelcontextprotocol/server';
import type { Progress } from '@modelcontextprotocol/server';
import { tempDir } from '../helpers.js';
import { FIXTURE, fixtureEntry, startDirect, startProxy, waitFor } from './harness.js';

const OWN = ['ensure_workspace', 'route_artifacts', 'get_workspace_info', 'compare_runs'];

async function both(routingTools: string[] = ['files']) {
  const out = await tempDir('aw-fixture-out-');
  const env = { FIXTURE_OUT: out };
  const direct = await startDirect({ command: process.execPath, args: [FIXTURE], env });
  const proxied = await startProxy({ routing: { tools: routingTools }, mcpServers: { ds: fixtureEntry(env) } });
  return { direct, proxied, out };
}

describe('parity: direct vs through the proxy', () => {
  it('tools/list: same tools, schemas, annotations and _meta; the clashing name is prefixed', async () => {
    const { direct, proxied } = await both();
    const d = (await direct.client.listTools()).tools;
    const p = (await proxied.client.listTools()).tools;
    expect(p.slice(0, OWN.length).map((t) => t.name)).toEqual(OWN);
    const expected = d.map((t) => (t.name === 'ensure_workspace' ? { ...t, name: 'ds__ensure_workspace' } : t));
    expect(p.slice(OWN.length)).toEqual(expected);
  });

  it('results: content, structuredContent, _meta and isError are the same', async () => {
    const { direct, proxied } = await both();
    for (const [name, args] of [['echo', { text: 'héllo ✓', extra: [1, 2] }], ['fail', {}], ['slow', { steps: 2, delayMs: 1 }]] as const) {
      expect(await proxied.call(name, args)).toEqual(await direct.call(name, args));
    }
    expect(await proxied.call('ds__ensure_workspace')).toEqual(await direct.call('ensure_workspace'));
  });

  it('protocol errors: same code, message and data', async () => {
    const { direct, proxied } = await both();
    const d = await direct.call('bad').catch((e: unknown) => e);
    const p = await proxied.call('bad').catch((e: unknown) => e);
    expect(d).toBeInstanceOf(ProtocolError);
    expect(p).toBeInstanceOf(ProtocolError);
    expect({ code: (p as ProtocolError).code, message: (p as ProtocolError).message, data: (p as ProtocolError).data }).toEqual({
      code: (d as ProtocolError).code,
      message: (d as ProtocolError).message,
      data: (d as ProtocolError).data,
    });
  });

  it('progress: the caller gets the same notifications, under its own token', async () => {
    const { direct, proxied } = await both();
    const seen = { d: [] as Progress[], p: [] as Progress[] };
    await direct.call('slow', { steps: 4, delayMs: 5 }, { onprogress: (x) => seen.d.push(x) });
    await proxied.call('slow', { steps: 4, delayMs: 5 }, { onprogress: (x) => seen.p.push(x) });
    expect(seen.d).toHaveLength(4);
    expect(seen.p).toEqual(seen.d);
  });

  it('cancellation: the caller\'s abort reaches the downstream', async () => {
    const { direct, proxied, out } = await both();
    const read = (f: string) => (fs.existsSync(path.join(out, f)) ? fs.readFileSync(path.join(out, f), 'utf8') : '');
    const cancelled = () => read('cancelled.txt');
    for (const [who, h] of [['direct', direct], ['proxied', proxied]] as const) {
      const ac = new AbortController();
      const p = h.call('hang', { tag: who }, { signal: ac.signal });
      const settled = p.then(() => 'answered', (e: unknown) => e);
      // Abort once the call is running at the fixture: there is nothing to cancel before that.
      await waitFor(() => read('started.txt').includes(who), 5000, `${who} call to start`);
      ac.abort('user pressed stop');
      expect(await settled).toBeInstanceOf(Error);
      await waitFor(() => cancelled().includes(who), 5000, `${who} cancellation at the fixture`);
    }
  });

  it('logging: the same message reaches the caller', async () => {
    const { direct, proxied } = await both();
    await direct.call('log', { message: 'm1' });
    await proxied.call('log', { message: 'm1' });
    await waitFor(() => direct.logs.length && proxied.logs.length, 3000, 'log messages');
    expect(proxied.logs).toEqual(direct.logs);
    expect(proxied.logs[0]).toEqual({ level: 'warning', logger: 'fixture', data: { message: 'm1' } });
  });

  it('resources, templates and reads are the same', async () => {
    const { direct, proxied } = await both();
    const ask = async (c: typeof direct.client) => ({
      list: await c.request({ method: 'resources/list', params: {} }),
      templates: await c.request({ method: 'resources/templates/list', params: {} }),
      reads: await Promise.all(
        ['fixture://notes/a.txt', 'fixture://blobs/b.bin', 'fixture://items/42'].map((uri) => c.request({ method: 'resources/read', params: { uri } })),
      ),
      missing: await c.request({ method: 'resources/read', params: { uri: 'fixture://nope' } }).catch((e: ProtocolError) => [e.code, e.message]),
    });
    expect(await ask(proxied.client)).toEqual(await ask(direct.client));
  });

  it('prompts and completions are the same', async () => {
    const { direct, proxied } = await both();
    const ask = async (c: typeof direct.client) => ({
      list: await c.request({ method: 'prompts/list', params: {} }),
      get: await c.request({ method: 'prompts/get', params: { name: 'greet', arguments: { who: 'Ada' } } }),
      complete: await c.request(
        { method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'who', value: 'al' } } }
      ),
    });
    expect(await ask(proxied.client)).toEqual(await ask(direct.client));
  });

  it('an allowlisted tool\'s result differs only by appended resource links and _meta', async () => {
    const { direct, proxied } = await both(['files']);
    const d = await direct.call('files');
    const p = await proxied.call('files');
    const n = d.content.length;
    expect(p.content.slice(0, n).map((b) => b.type)).toEqual(d.content.map((b) => b.type));
    expect(p.content.slice(1, n)).toEqual(d.content.slice(1)); // the image and embedded resource bytes
    expect(p.content.slice(n).every((b) => b.type === 'resource_link')).toBe(true);
    expect(Object.keys(p._meta ?? {})).toEqual(['artifact-workspace/routed']);
    expect(p.isError).toBe(d.isError);
  });
});
