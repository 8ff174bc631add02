// Downstream servers that misbehave: crash mid-call, hang, print junk, fail to start, change
// their tools. The proxy must answer within seconds, recover, and keep the host informed.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualTimers, tempDir } from '../helpers.js';
import { fixtureEntry, startProxy, waitFor } from './harness.js';

const text = (r: { content: { type: string; text?: string }[] }) => r.content.map((b) => b.text ?? '').join('\n');

describe('lifecycle', () => {
  it('a crash mid-call is an isError result with the stderr tail, fast; the next call restarts it', async () => {
    const h = await startProxy({ mcpServers: { ds: fixtureEntry() } });
    let listChanged = 0;
    h.client.setNotificationHandler('notifications/tools/list_changed', () => void listChanged++);
    await h.client.listTools();
    const t0 = Date.now();
    const res = await h.call('crash');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(res.isError).toBe(true);
    expect(text(res)).toMatch(/server "ds" exited with code 3 during tools\/call/);
    expect(text(res)).toContain('fixture: fatal: something broke at step 2');
    const before = listChanged;
    const again = await h.call('echo', { text: 'back' });
    expect(again.structuredContent).toEqual({ echoed: 'back' });
    await waitFor(() => listChanged > before, 3000, 'tools/list_changed after the restart');
    expect(h.stderr.join('')).toMatch(/server "ds" restarted/);
  });

  it('restarts are capped: a server that keeps crashing fails fast', async () => {
    const h = await startProxy({ mcpServers: { ds: fixtureEntry() } }, { downstream: { maxFailures: 2, coolDownMs: 60_000, graceMs: 200 } });
    await h.client.listTools();
    expect((await h.call('crash')).isError).toBe(true);
    expect((await h.call('crash')).isError).toBe(true);
    const t0 = Date.now();
    const res = await h.call('echo', { text: 'x' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(res.isError).toBe(true);
    expect(text(res)).toMatch(/not available: exited with code 3; next attempt in \d+ s/);
  });

  it('a hung call times out (timeoutMs) with an isError result, and the server stays usable', async () => {
    const out = await tempDir('aw-hang-');
    const timers = new ManualTimers();
    const h = await startProxy({ mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }, { timeoutMs: 500 }) } }, { timers });
    await h.client.listTools();
    const pending = h.call('hang');
    await waitFor(() => fs.existsSync(path.join(out, 'started.txt')), 5000, 'the call to reach the server');
    timers.advance(499);
    expect(timers.pending).toBe(1);
    timers.advance(1);
    const res = await pending;
    expect(res.isError).toBe(true);
    expect(text(res)).toMatch(/did not answer tools\/call within 500 ms/);
    expect((await h.call('echo', { text: 'ok' })).structuredContent).toEqual({ echoed: 'ok' });
  });

  it('junk lines on a downstream\'s stdout are dropped and logged, not fatal', async () => {
    const h = await startProxy({ mcpServers: { ds: fixtureEntry({ FIXTURE_MODE: 'noisy' }) } });
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect((await h.call('echo', { text: 'through the noise' })).structuredContent).toEqual({ echoed: 'through the noise' });
    expect(h.stderr.join('')).toMatch(/server "ds" wrote a non-protocol line to stdout \(dropped\): junk while calling echo/);
  });

  it('a server that fails to start does not stop the others; the reason is logged', async () => {
    const h = await startProxy({ mcpServers: { broken: fixtureEntry({ FIXTURE_MODE: 'crash-on-start' }), ok: fixtureEntry() } });
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo');
    expect(names.some((n) => n.startsWith('broken__'))).toBe(false);
    expect((await h.call('echo', { text: 'fine' })).structuredContent).toEqual({ echoed: 'fine' });
    await waitFor(() => /server "broken" failed to start: .*missing FIXTURE_SECRET/s.test(h.stderr.join('')), 3000, 'the start failure on stderr');
  });

  it('a downstream\'s tools/list_changed refreshes the catalog and tells the host', async () => {
    const h = await startProxy({ mcpServers: { ds: fixtureEntry() } });
    let changed = 0;
    h.client.setNotificationHandler('notifications/tools/list_changed', () => void changed++);
    await h.client.listTools();
    await h.call('add_tool');
    await waitFor(() => changed > 0, 3000, 'tools/list_changed');
    await waitFor(async () => (await h.client.listTools()).tools.some((t) => t.name === 'added_1'), 3000, 'added_1 listed');
    expect(await h.call('added_1')).toEqual({ content: [{ type: 'text', text: 'called added_1' }] });
  });

  it('same names on two servers are both prefixed; the proxy\'s own names stay bare', async () => {
    const h = await startProxy({ mcpServers: { a: fixtureEntry(), b: fixtureEntry() } });
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['ensure_workspace', 'a__echo', 'b__echo', 'a__ensure_workspace', 'b__ensure_workspace']));
    expect(names).not.toContain('echo');
    expect((await h.call('b__echo', { text: 'b' })).structuredContent).toEqual({ echoed: 'b' });
    expect((await h.call('ensure_workspace', { dataset: 'x' })).structuredContent).toMatchObject({ dataset: 'x' });
  });

  it('tools.allow / tools.deny hide tools', async () => {
    const h = await startProxy({ mcpServers: { ds: fixtureEntry({}, { tools: { allow: ['e*', 'slow'], deny: ['ensure_*'] } }) } });
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(['ensure_workspace', 'route_artifacts', 'get_workspace_info', 'compare_runs', 'echo', 'slow']);
    await expect(h.call('crash')).rejects.toThrow(/Unknown tool: crash/);
  });

  it('closing the proxy stops the children', async () => {
    const h = await startProxy({ mcpServers: { ds: fixtureEntry() } });
    await h.client.listTools();
    const pid = Number(/fixture (\d+) ready/.exec(h.stderr.join(''))?.[1]);
    expect(pid).toBeGreaterThan(0);
    await h.proxy.close();
    await waitFor(() => !alive(pid), 3000, 'the child to exit');
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
