import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { boundedEventStore } from '../../src/transports/event-store.js';

const msg = (n: number, pad = ''): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `${n}${pad}` } });

async function replay(store: ReturnType<typeof boundedEventStore>, after: string) {
  const got: string[] = [];
  const stream = await store.replayEventsAfter(after, { send: async (_id, m) => void got.push(String((m as unknown as { params: { data: string } }).params.data)) });
  return { stream, got };
}

describe('boundedEventStore', () => {
  it('replays the events of the same stream after the given one, in order', async () => {
    const s = boundedEventStore();
    const a1 = await s.storeEvent('A', msg(1));
    await s.storeEvent('B', msg(2));
    await s.storeEvent('A', msg(3));
    await s.storeEvent('A', msg(4));
    expect(await s.getStreamIdForEventId!(a1)).toBe('A');
    expect(await replay(s, a1)).toEqual({ stream: 'A', got: ['3', '4'] });
  });

  it('keeps at most its count and its bytes; an evicted id replays nothing', async () => {
    const byCount = boundedEventStore(3, 1e9);
    const first = await byCount.storeEvent('A', msg(1));
    for (let i = 2; i <= 5; i++) await byCount.storeEvent('A', msg(i));
    expect(await replay(byCount, first)).toEqual({ stream: '', got: [] });
    const byBytes = boundedEventStore(1000, 400); // about two of these messages
    const ids = [];
    for (let i = 1; i <= 5; i++) ids.push(await byBytes.storeEvent('A', msg(i, 'x'.repeat(100))));
    expect(await byBytes.getStreamIdForEventId!(ids[0]!)).toBeUndefined();
    expect((await replay(byBytes, ids[3]!)).got).toHaveLength(1);
  });
});
