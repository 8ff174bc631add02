// The lane (src/proxy/lane.ts) between a host sink and a server wire, in one process: when an
// answer is written relative to what came before it.
import { describe, expect, it } from 'vitest';
import { CallPipeline } from '../../src/proxy/call.js';
import { Lane } from '../../src/proxy/lane.js';
import { LaneWire } from '../../src/proxy/lane-wire.js';
import { silentLogger } from '../../src/log.js';

const B = (s: string) => Buffer.from(s);

function rig() {
  const order: string[] = [];
  const wire = new LaneWire(() => undefined);
  const link = { wire, timeoutMs: 60_000, begin: () => () => {}, succeeded: () => {}, gone: (why: string) => ({ server: 'ev', reason: why }) as never };
  const target = { server: 'ev', tool: 'slow', exposed: 'slow', routes: false, timeoutMs: 60_000 };
  const pipeline = new CallPipeline({ route: async () => ({ kind: 'pass' }) as never, mode: 'copy', datasetArgs: ['dataset'], log: silentLogger });
  const lane = new Lane({ target: (name) => (name === 'slow' ? { link, target } : undefined), pipeline, server: {} as never, host: {} as never, session: {} as never, log: silentLogger });
  // As the stdio front's writer does: a write corks the stream, and the turn's writes leave on nextTick.
  const sink = {
    send: async () => {
      order.push('progress');
      process.nextTick(() => order.push('flush'));
    },
    answer: async () => void order.push('answer'),
    answerRaw: () => void order.push('answer'),
  };
  const call = () => {
    const line = B('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{},"_meta":{"progressToken":"p"}}}');
    expect(lane.callRaw(line, sink)).toBe(7);
  };
  return { order, wire, call };
}

const progress = B('{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"aw~1","progress":1}}');
const answer = B('{"result":{"content":[]},"jsonrpc":"2.0","id":"aw~1"}');

describe('the lane answers', () => {
  it('a pass-through call at once, in the turn its answer arrives', () => {
    const { order, wire, call } = rig();
    call();
    expect(wire.take(answer)).toBe(true);
    expect(order).toEqual(['answer']);
  });

  it("a call that had progress after that progress has left (the SDK's client drops progress read with the answer)", async () => {
    const { order, wire, call } = rig();
    call();
    // The server's progress and its answer in one read, as a busy proxy gets them: one callback
    // of the event loop (not a promise job, after which ticks would wait for the promise jobs).
    await new Promise<void>((r) =>
      setImmediate(() => {
        expect(wire.take(progress)).toBe(true);
        expect(wire.take(answer)).toBe(true);
        r();
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['progress', 'flush', 'answer']);
  });
});
