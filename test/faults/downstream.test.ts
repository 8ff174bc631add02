// Downstream servers failing while 16 calls to each are in flight: one crashes mid-calls, one
// freezes (SIGSTOP, a short timeoutMs), two garble their stdout (junk lines between messages; and
// also a banner glued in front of some messages), one is healthy. Every caller gets an answer (a
// result or an isError a person can read) in bounded time, the healthy server's calls all succeed
// without waiting on the others, and afterwards every server serves again.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { onCleanup } from '../helpers.js';
import { fixtureEntry, startProxy, waitFor } from '../proxy/harness.js';
import { alive } from './support.js';

const JUNK_WRAPPER = fileURLToPath(new URL('./fixtures/junk-wrapper.mjs', import.meta.url));
const N = 16;
const text = (r: CallToolResult) => r.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

type Settled = { ms: number; res?: CallToolResult; err?: Error };

async function timed(p: Promise<CallToolResult>, t0: number): Promise<Settled> {
  return p.then(
    (res) => ({ ms: Date.now() - t0, res }),
    (err: Error) => ({ ms: Date.now() - t0, err }),
  );
}

describe('downstream faults under load', () => {
  it('crash, freeze and junk with 16 calls in flight each: all answered in bounded time; the healthy server unaffected', { timeout: 60_000 }, async () => {
    const h = await startProxy(
      {
        mcpServers: {
          crashy: fixtureEntry({ FIXTURE_NAME: 'crashy' }),
          hangy: fixtureEntry({ FIXTURE_NAME: 'hangy' }, { timeoutMs: 2500 }),
          junky: { command: process.execPath, args: [JUNK_WRAPPER], env: { FIXTURE_NAME: 'junky' } },
          gluey: { command: process.execPath, args: [JUNK_WRAPPER], env: { FIXTURE_NAME: 'gluey', JUNK_GLUE: '1' }, timeoutMs: 2500 },
          healthy: fixtureEntry({ FIXTURE_NAME: 'healthy' }),
        },
      },
      { downstream: { graceMs: 300 } },
    );
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['crashy__slow', 'crashy__crash', 'hangy__echo', 'junky__echo', 'healthy__echo']));
    const hangyPid = Number(/\[hangy\] fixture (\d+) ready/.exec(h.stderr.join(''))?.[1]);
    expect(hangyPid).toBeGreaterThan(0);
    onCleanup(() => void (alive(hangyPid) && process.kill(hangyPid, 'SIGKILL')));
    process.kill(hangyPid, 'SIGSTOP');
    onCleanup(() => void (alive(hangyPid) && process.kill(hangyPid, 'SIGCONT')));

    const t0 = Date.now();
    const calls = {
      // 15 slow calls are in flight when the 16th crashes the process.
      crashy: Array.from({ length: N }, (_, i) => timed(i === 8 ? h.call('crashy__crash') : h.call('crashy__slow', { steps: 4, delayMs: 250 }), t0)),
      hangy: Array.from({ length: N }, (_, i) => timed(h.call('hangy__echo', { text: `h${i}` }), t0)),
      junky: Array.from({ length: N }, (_, i) => timed(h.call('junky__echo', { text: `j${i}` }), t0)),
      gluey: Array.from({ length: N }, (_, i) => timed(h.call('gluey__echo', { text: `g${i}` }), t0)),
      healthy: Array.from({ length: N }, (_, i) => timed(h.call('healthy__echo', { text: `ok${i}` }), t0)),
    };
    const out = Object.fromEntries(await Promise.all(Object.entries(calls).map(async ([k, v]) => [k, await Promise.all(v)] as const))) as Record<keyof typeof calls, Settled[]>;
    const worst = (k: keyof typeof calls) => Math.max(...out[k].map((s) => s.ms));

    // No protocol errors: every failure is an isError result.
    for (const k of Object.keys(out) as (keyof typeof calls)[]) expect(out[k].filter((s) => s.err).map((s) => s.err!.message)).toEqual([]);
    for (const s of out.crashy) {
      expect(s.res!.isError).toBe(true);
      expect(text(s.res!)).toMatch(/server "crashy" (exited with code 3|is not available)/);
      expect(text(s.res!)).toContain('fixture: fatal: something broke at step 2');
    }
    for (const s of out.hangy) {
      expect(s.res!.isError).toBe(true);
      expect(text(s.res!)).toMatch(/server "hangy" did not answer tools\/call within 2500 ms/);
    }
    expect(out.junky.map((s) => s.res!.structuredContent)).toEqual(Array.from({ length: N }, (_, i) => ({ echoed: `j${i}` })));
    // A message with junk glued in front is salvaged, or at worst lost and timed out: never a hang.
    let lost = 0;
    out.gluey.forEach((s, i) => {
      if (s.res!.isError) {
        lost++;
        expect(text(s.res!)).toMatch(/server "gluey" did not answer tools\/call within 2500 ms/);
      } else expect(s.res!.structuredContent).toEqual({ echoed: `g${i}` });
    });
    expect(out.healthy.map((s) => s.res!.structuredContent)).toEqual(Array.from({ length: N }, (_, i) => ({ echoed: `ok${i}` })));
    expect(worst('crashy')).toBeLessThan(5000);
    expect(worst('hangy')).toBeLessThan(5000);
    expect(worst('junky')).toBeLessThan(5000);
    expect(worst('gluey')).toBeLessThan(5000);
    expect(worst('healthy')).toBeLessThan(2000); // never queued behind the frozen one (2500 ms) or the crash
    console.info(`[downstream] slowest answer of 16, ms: crashy ${worst('crashy')}, hangy ${worst('hangy')} (timeoutMs 2500), junky ${worst('junky')}, gluey ${worst('gluey')} (${lost} of ${N} lost to glued junk, timeoutMs 2500), healthy ${worst('healthy')}`);
    const logged = h.stderr.join('');
    expect(logged).toMatch(/server "junky" wrote a non-protocol line to stdout \(dropped\): Loading model weights/);

    // Afterwards: the crashed server restarts on the next call, the frozen one answers once thawed.
    const t1 = Date.now();
    expect((await h.call('crashy__echo', { text: 'back' })).structuredContent).toEqual({ echoed: 'back' });
    const restartMs = Date.now() - t1;
    process.kill(hangyPid, 'SIGCONT');
    expect((await h.call('hangy__echo', { text: 'thawed' })).structuredContent).toEqual({ echoed: 'thawed' });
    expect((await h.call('junky__echo', { text: 'still' })).structuredContent).toEqual({ echoed: 'still' });
    expect((await h.call('healthy__echo', { text: 'fine' })).structuredContent).toEqual({ echoed: 'fine' });
    await waitFor(() => /server "crashy" restarted/.test(h.stderr.join('')), 3000, 'the restart log');
    console.info(`[downstream] crashy restarted and answered in ${restartMs} ms`);
  });
});
