// BatchedWriter (src/transports/batch.ts): the writes of one turn leave together, in order, and
// none waits past the turn.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BatchedWriter } from '../../src/transports/batch.js';

/** A stream that records each system-call-sized batch it is handed. */
function recorder() {
  const batches: string[][] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      batches.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
  });
  return { out, batches };
}

describe('BatchedWriter', () => {
  it('hands the writes of one turn to the stream as one batch, in order', async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    w.write('a');
    w.write(Buffer.from('b'));
    await Promise.resolve().then(() => w.write('c'));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('writes of later turns make batches of their own; nothing waits for a next write', async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    w.write('1');
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['1']]);
    w.write('2');
    w.write('3');
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['1'], ['2', '3']]);
  });

  it('writeAll takes a message or its pieces, in order, in the same batch', async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    expect(w.writeAll([Buffer.from('a'), Buffer.from('b')])).toBe(true);
    expect(w.writeAll('c')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('leaves a stream corked by someone else as it is', async () => {
    const { out, batches } = recorder();
    out.cork();
    const w = new BatchedWriter(out);
    w.write('x');
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([]);
    out.uncork();
    expect(batches).toEqual([['x']]);
  });
});
