// One downstream connection on its own (src/proxy/downstream.ts): start, answer, crash, restart,
// back off, cap, time out. Real fixture servers as children; restart timers driven by hand.
import { describe, expect, it } from 'vitest';
import { ListToolsResultSchema, CallToolResultSchema } from '@modelcontextprotocol/core';
import { createLogger, silentLogger } from '../../src/log.js';
import { Downstream } from '../../src/proxy/downstream.js';
import { DownstreamFailure } from '../../src/server/errors.js';
import { ManualTimers, onCleanup } from '../helpers.js';
import { fixtureEntry, waitFor } from './harness.js';

const events = { toolsChanged: () => {}, listChanged: () => {}, resourceUpdated: () => {}, log: () => {} };

function downstream(config: ReturnType<typeof fixtureEntry> & { timeoutMs?: number }, opts: Partial<ConstructorParameters<typeof Downstream>[0]> = {}) {
  const lines: string[] = [];
  const d = new Downstream({ name: 'ds', config, baseDir: process.cwd(), env: process.env, log: createLogger({ level: 'debug', write: (l) => void lines.push(l) }), events, graceMs: 200, ...opts });
  onCleanup(() => d.close());
  return { d, lines };
}

describe('Downstream', () => {
  it('starts, lists its tools and answers', async () => {
    const { d } = downstream(fixtureEntry());
    d.start();
    await d.settled(10_000);
    expect(d.status).toBe('ready');
    expect(d.tools.map((t) => t.name)).toContain('echo');
    const res = await d.request({ method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }, CallToolResultSchema);
    expect(res.structuredContent).toEqual({ echoed: 'hi' });
  });

  it('a crash mid-request fails that request with the stderr tail; the next request restarts the server', async () => {
    const { d } = downstream(fixtureEntry());
    d.start();
    await d.settled(10_000);
    const err = await d.request({ method: 'tools/call', params: { name: 'crash', arguments: {} } }, CallToolResultSchema).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownstreamFailure);
    expect((err as DownstreamFailure).kind).toBe('crashed');
    expect((err as DownstreamFailure).message).toMatch(/^server "ds" (exited with code \d+|killed by \w+|closed the connection) during tools\/call$/);
    expect((err as DownstreamFailure).stderrTail).not.toBe('');
    await waitFor(() => d.status === 'down', 5000, 'the server to be marked down');
    const again = await d.request({ method: 'tools/list', params: {} }, ListToolsResultSchema);
    expect(again.tools.length).toBeGreaterThan(0);
    expect(d.status).toBe('ready');
  });

  it('a request between the child\'s exit and its close fails as the exit, on the SDK path and the lane', async () => {
    // The fixture leaves a grandchild holding its pipes: the close comes 1 s after the exit.
    const { d, lines } = downstream(fixtureEntry());
    d.start();
    await d.settled(10_000);
    const crashing = d.request({ method: 'tools/call', params: { name: 'crash', arguments: { orphan: true } } }, CallToolResultSchema).catch((e: unknown) => e);
    await waitFor(() => lines.some((l) => /pid \d+ exits/.test(l)), 10_000, 'the fixture to say its pid');
    const pid = Number(/pid (\d+) exits/.exec(lines.find((l) => /pid \d+ exits/.test(l))!)![1]);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => !alive(), 10_000, 'the child to exit');
    expect(d.status).toBe('ready');
    const link = d.lane()!;
    const laneGone = new Promise<string>((resolve) => {
      link.wire.requestRaw((id) => Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } })}\n`), {
        onResponse: () => resolve('answered'),
        onProgress: () => {},
        onGone: resolve,
      });
    });
    const err = await d.request({ method: 'tools/list', params: {} }, ListToolsResultSchema).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownstreamFailure);
    expect((err as DownstreamFailure).message).toBe('server "ds" exited with code 3 during tools/list');
    expect((err as DownstreamFailure).stderrTail).toMatch(/something broke at step 2/);
    expect(await laneGone).toBe('exited with code 3');
    expect((await crashing) as DownstreamFailure).toMatchObject({ kind: 'crashed', message: 'server "ds" exited with code 3 during tools/call' });
    expect(d.status).toBe('down');
  });

  it('a server that cannot start is retried in the background with backoff, then capped', async () => {
    const timers = new ManualTimers();
    const { d } = downstream(fixtureEntry({ FIXTURE_MODE: 'crash-on-start' }), { timers, maxFailures: 3, coolDownMs: 600_000, log: silentLogger });
    d.start();
    await d.settled(10_000);
    expect(d.status).toBe('down');
    // Each failure schedules the next attempt: 250 ms, then 500 ms, then the cap's cool-down.
    for (const wait of [250, 500]) {
      expect(timers.pending).toBe(1);
      timers.advance(wait);
      await waitFor(() => d.status === 'down' && timers.pending === 1, 10_000, 'the next failure');
    }
    const err = await d.request({ method: 'tools/list', params: {} }, ListToolsResultSchema).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownstreamFailure);
    expect((err as DownstreamFailure).message).toMatch(/^server "ds" is not available: failed to start: .*; next attempt in 600 s$/);
    expect((err as DownstreamFailure).stderrTail).toMatch(/missing FIXTURE_SECRET/);
  });

  it('a request that outlives the server\'s timeout fails as a timeout; the server stays usable', async () => {
    const { d } = downstream({ ...fixtureEntry(), timeoutMs: 300 });
    d.start();
    await d.settled(10_000);
    const err = await d.request({ method: 'tools/call', params: { name: 'hang', arguments: {} } }, CallToolResultSchema).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownstreamFailure);
    expect((err as DownstreamFailure).message).toBe('server "ds" did not answer tools/call within 300 ms (timeoutMs; progress resets it)');
    expect((await d.request({ method: 'tools/call', params: { name: 'echo', arguments: { text: 'ok' } } }, CallToolResultSchema)).isError).toBeFalsy();
  });
});
