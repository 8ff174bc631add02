// The input bridge on its own (src/proxy/bridge.ts): a held call, its questions in rounds, the
// host's answers, expiry. Timers driven by hand.
import { describe, expect, it } from 'vitest';
import type { ServerRequest } from '@modelcontextprotocol/server';
import { BridgeError, InputBridge } from '../../src/proxy/bridge.js';
import { ManualTimers } from '../helpers.js';

const sampling = (text: string): ServerRequest => ({ method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens: 5 } });

describe('InputBridge', () => {
  it('a call that asks nothing finishes in the first round and holds nothing', async () => {
    const b = new InputBridge({ timers: new ManualTimers() });
    expect(await b.start(async () => 'result', () => {})).toEqual({ kind: 'done', value: 'result' });
    expect(b.size).toBe(0);
  });

  it('questions go out in a round; the answers come back to the server; the result ends it', async () => {
    const b = new InputBridge({ timers: new ManualTimers() });
    const first = await b.start(async (ask) => {
      const a = await ask(sampling('one'));
      const c = await ask(sampling('two'));
      return `${JSON.stringify(a)} ${JSON.stringify(c)}`;
    }, () => {});
    expect(first).toMatchObject({ kind: 'ask', inputRequests: { q1: { method: 'sampling/createMessage' } } });
    if (first.kind !== 'ask') throw new Error('expected a question');
    const second = await b.resume(first.requestState, { q1: { n: 1 } });
    expect(second).toMatchObject({ kind: 'ask', inputRequests: { q2: {} } });
    if (second.kind !== 'ask') throw new Error('expected a question');
    // Each round has its own state: the first one is spent.
    expect(second.requestState).not.toBe(first.requestState);
    await expect(b.resume(first.requestState, { q2: {} })).rejects.toBeInstanceOf(BridgeError);
    expect(await b.resume(second.requestState, { q2: { n: 2 } })).toEqual({ kind: 'done', value: '{"n":1} {"n":2}' });
    expect(b.size).toBe(0);
    await expect(b.resume(second.requestState, {})).rejects.toBeInstanceOf(BridgeError);
  });

  it('questions asked together go in one round; one left unanswered is asked again', async () => {
    const b = new InputBridge({ timers: new ManualTimers() });
    const first = await b.start(async (ask) => (await Promise.all([ask(sampling('a')), ask(sampling('b'))])).length, () => {});
    if (first.kind !== 'ask') throw new Error('expected a question');
    expect(Object.keys(first.inputRequests)).toEqual(['q1', 'q2']);
    const again = await b.resume(first.requestState, { q1: {}, q9: {} });
    if (again.kind !== 'ask') throw new Error('expected a question');
    expect(Object.keys(again.inputRequests)).toEqual(['q2']);
    expect(await b.resume(again.requestState, { q2: {} })).toEqual({ kind: 'done', value: 2 });
  });

  it('a host that never comes back: the question fails at the server, the call is cancelled, the state is gone', async () => {
    const timers = new ManualTimers();
    const b = new InputBridge({ timers, holdMs: 1000 });
    let cancelled = false;
    let serverSaw: unknown;
    const first = await b.start(
      async (ask) => {
        try {
          return await ask(sampling('x'));
        } catch (e) {
          serverSaw = e;
          throw e;
        }
      },
      () => (cancelled = true),
    );
    if (first.kind !== 'ask') throw new Error('expected a question');
    timers.advance(999);
    expect(cancelled).toBe(false);
    timers.advance(1);
    expect(cancelled).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(serverSaw).toBeInstanceOf(BridgeError);
    expect(b.size).toBe(0);
    await expect(b.resume(first.requestState, { q1: {} })).rejects.toThrow(/names no call held here/);
  });

  it('a failing call surfaces its error in the round that sees it', async () => {
    const b = new InputBridge({ timers: new ManualTimers() });
    const first = await b.start(async (ask) => {
      await ask(sampling('x'));
      throw new Error('server broke');
    }, () => {});
    if (first.kind !== 'ask') throw new Error('expected a question');
    await expect(b.resume(first.requestState, { q1: {} })).rejects.toThrow('server broke');
    expect(b.size).toBe(0);
  });
});
