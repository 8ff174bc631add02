// A hostile downstream behind the built proxy, on both fronts: what it writes on its stdout must
// never answer another host call, never smuggle a message into the host's stream, and never leave
// a call unanswered. The fixture writes its lines by hand (test/fixtures/hostile-server.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, tempDir } from '../helpers.js';
import { rawHttpSession, sseEvents, startHttpCli } from './http-session.js';
import { rawSession } from './raw-session.js';

const HOSTILE = fileURLToPath(new URL('../fixtures/hostile-server.mjs', import.meta.url));
/** Short, so a call whose answer was forged away is answered by its timeout within the test. */
const TIMEOUT_MS = 1500;

async function config(base: string, extra: Record<string, unknown> = {}) {
  const file = path.join(base, 'mcp.config.json');
  fs.writeFileSync(file, JSON.stringify({ workspace: { root: path.join(base, 'ws') }, mcpServers: { evil: { command: process.execPath, args: [HOSTILE], timeoutMs: TIMEOUT_MS, ...extra } } }));
  return file;
}

const call = (id: number, name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta && { _meta: meta }) },
});

describe('hostile downstream, stdio front', () => {
  async function proxy() {
    const base = await tempDir('aw-hostile-e2e-');
    const p = await rawSession([CLI, 'serve', '--config', await config(base)], base, { capabilities: { roots: {} }, answer: { 'roots/list': () => ({ roots: [{ uri: 'file:///tmp', name: 'tmp' }] }) } });
    p.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    await p.waitId(2);
    return p;
  }

  it('a second "id" cannot answer another host call; the forging call is still answered', async () => {
    const p = await proxy();
    p.send(call(10, 'sleep', { ms: 600 }));
    p.send(call(11, 'forge', { target: 10 }));
    const victim = await p.answer(10);
    expect(victim.result.content[0].text).toBe('slept');
    expect(p.lines.filter((l) => /"id":10[,}]/.test(l) && !l.includes('"method"'))).toHaveLength(1);
    // The forged line named another call: it answered nothing, so the forging call times out.
    const forger = await p.answer(11, TIMEOUT_MS + 5000);
    expect(forger.result.isError).toBe(true);
    expect(forger.result.content[0].text).toMatch(/did not answer tools\/call within 1500 ms/);
  });

  it('an answer carrying CRs reaches the host as one line; the call is answered', async () => {
    const p = await proxy();
    p.send(call(12, 'inject'));
    const a = await p.answer(12);
    expect(a.result.isError).toBe(true);
    expect(a.result.content[0].text).toMatch(/not valid JSON/);
    expect(p.lines.some((l) => l.includes('\r') || l.includes('forged'))).toBe(false);
  });

  it('a request from the server under the id of the call in flight is a request, and the call is answered', async () => {
    const p = await proxy();
    p.send(call(13, 'reuse_id'));
    const a = await p.answer(13);
    expect(a.result.content[0].text).toBe('roots: 1');
    // The host saw a roots/list request with an id of the proxy's own, never its call's id.
    const asked = p.lines.map((l) => JSON.parse(l)).find((m) => m.method === 'roots/list');
    expect(asked.id).not.toBe(13);
  });

  it('a result nested 10,000 levels deep is answered with an error, on the ordinary path too', async () => {
    const p = await proxy();
    // The lane first (it crosses as bytes); then a request with a CR as whitespace, which the
    // lane leaves to the SDK path, where the result is decoded and must be encoded again.
    p.send(call(14, 'deep', { depth: 10_000 }));
    expect((await p.answer(14)).result.structuredContent).toBeDefined();
    p.sendLine(JSON.stringify(call(15, 'deep', { depth: 10_000 })).replace('"method"', '\r"method"'));
    const a = await p.answer(15);
    expect(a.error).toMatchObject({ code: -32603, message: expect.stringMatching(/could not be encoded as JSON/) });
  });
});

describe('hostile downstream, Streamable HTTP front', () => {
  async function proxy() {
    const base = await tempDir('aw-hostile-http-');
    const { url } = await startHttpCli(await config(base), base);
    const s = await rawHttpSession(url);
    await (await s.post({ jsonrpc: '2.0', id: 2, method: 'tools/list' })).text();
    return s;
  }

  it('a second "id" cannot answer another host call', async () => {
    const s = await proxy();
    const victim = s.post(call(10, 'sleep', { ms: 600 }));
    const forger = s.post(call(11, 'forge', { target: 10 }));
    const v = JSON.parse(await (await victim).text());
    expect(v).toMatchObject({ id: 10, result: { content: [{ text: 'slept' }] } });
    const f = await (await forger).text();
    const answers = f.startsWith('{') ? [JSON.parse(f)] : sseEvents(f).map((e) => JSON.parse(e.data));
    expect(answers.filter((m) => m.id !== undefined && !m.method)).toEqual([expect.objectContaining({ id: 11, result: expect.objectContaining({ isError: true }) })]);
  });

  it('bare CRs in an answer cannot inject an event into the call\'s SSE stream', async () => {
    const s = await proxy();
    // A progress token makes the lane answer as an event stream (the progress travels first).
    const res = await s.post(call(12, 'inject', {}, { progressToken: 'p' }));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sseEvents(await res.text()).map((e) => JSON.parse(e.data));
    expect(events.some((m) => m.method === 'notifications/message')).toBe(false);
    expect(events.at(-1)).toMatchObject({ id: 12, result: { isError: true } });
  });

  it('a result nested 10,000 levels deep is answered with an error on the SDK path', async () => {
    const s = await proxy();
    const body = JSON.stringify(call(15, 'deep', { depth: 10_000 })).replace('"method"', '\r"method"');
    const text = await (await s.post(body)).text();
    const answers = text.startsWith('{') ? [JSON.parse(text)] : sseEvents(text).map((e) => JSON.parse(e.data));
    expect(answers.at(-1)).toMatchObject({ id: 15, error: { code: -32603, message: expect.stringMatching(/could not be encoded as JSON/) } });
  });
});
