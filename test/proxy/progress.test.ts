// Progress sent immediately before a result must not be lost on the way through the proxy. The SDK
// client handles a response at once and a notification a microtask later, forgetting the progress
// handler in between, so the downstream transport hands responses over one macrotask late.
import { describe, expect, it } from 'vitest';
import type { Transport, JSONRPCMessage, Progress } from '@modelcontextprotocol/server';
import { ResponsesLast } from '../../src/transports/client-transport.js';
import { fixtureEntry, startProxy } from './harness.js';

describe('progress right before the result', () => {
  it('every notification of a burst reaches the host, every time', async () => {
    const h = await startProxy({ mcpServers: { ds: fixtureEntry() } });
    const counts: number[] = [];
    for (let run = 0; run < 30; run++) {
      const seen: Progress[] = [];
      const res = await h.call('burst', { steps: 5 }, { onprogress: (p) => seen.push(p) });
      expect(res.content).toEqual([{ type: 'text', text: 'burst done' }]);
      counts.push(seen.length);
    }
    expect(counts).toEqual(Array(30).fill(5));
  });
});

/** An inner transport the test drives by hand. */
function fake() {
  const sent: JSONRPCMessage[] = [];
  const t: Transport = { start: async () => {}, close: async () => {}, send: async (m) => void sent.push(m) };
  return { t, sent };
}
const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: n } });
const result = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, result: {} });
const label = (m: JSONRPCMessage) => ('method' in m ? `note ${(m.params as { progress: number }).progress}` : `result ${(m as { id: number }).id}`);

describe('ResponsesLast', () => {
  it('passes notifications on at once and each response (and the close) a macrotask later, in order', async () => {
    const { t } = fake();
    const tap = new ResponsesLast(t);
    const got: string[] = [];
    tap.onmessage = (m) => void got.push(label(m));
    tap.onclose = () => void got.push('close');
    await tap.start();
    t.onmessage!(note(1));
    t.onmessage!(result(1));
    t.onmessage!(note(2));
    t.onmessage!(result(2));
    t.onclose!();
    expect(got).toEqual(['note 1']);
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['note 1', 'result 1', 'note 2']);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['note 1', 'result 1', 'note 2', 'result 2', 'close']);
    t.onmessage!(note(3));
    expect(got.at(-1)).toBe('note 3');
  });

  it('sends straight through and keeps the inner transport\'s session id', async () => {
    const { t, sent } = fake();
    t.sessionId = 'abc';
    const tap = new ResponsesLast(t);
    await tap.send(note(7));
    expect(sent).toEqual([note(7)]);
    expect(tap.sessionId).toBe('abc');
  });
});
