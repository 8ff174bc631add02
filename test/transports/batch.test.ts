// BatchedWriter (src/transports/batch.ts): the first message of a turn leaves at once, as one
// buffer; the rest of the turn's messages leave together, in order; none waits past the turn.
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
  it('writes the first message of a turn at once and hands the rest of the turn to the stream as one batch, in order', async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    w.writeAll('a');
    expect(batches).toEqual([['a']]);
    w.writeAll(Buffer.from('b'));
    await Promise.resolve().then(() => w.writeAll('c'));
    expect(batches).toEqual([['a']]);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });

  it('writes of later turns make batches of their own; nothing waits for a next write', async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    w.writeAll('1');
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['1']]);
    w.writeAll('2');
    w.writeAll('3');
    w.writeAll('4');
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['1'], ['2'], ['3', '4']]);
  });

  it("joins a small message's pieces into one buffer, first of its turn or not", async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    expect(w.writeAll([Buffer.from('a'), Buffer.from('b')])).toBe(true);
    expect(w.writeAll([Buffer.from('c'), Buffer.from('d'), Buffer.from('e')])).toBe(true);
    expect(w.writeAll('f')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['ab'], ['cde', 'f']]);
  });

  it("writes a big message's pieces as they are, in one batch, never joined", async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    const big = Buffer.alloc(64 * 1024, 0x61);
    w.writeAll([Buffer.from('<'), big, Buffer.from('>')]);
    w.writeAll('next');
    expect(batches).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['<', big.toString(), '>', 'next']]);
  });

  it('leaves a stream corked by someone else as it is', async () => {
    const { out, batches } = recorder();
    out.cork();
    const w = new BatchedWriter(out);
    w.writeAll('x');
    w.writeAll('y');
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([]);
    out.uncork();
    expect(batches).toEqual([['x', 'y']]);
  });
});
