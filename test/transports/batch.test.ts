// BatchedWriter (src/transports/batch.ts): a message is written at once, as one buffer, unless
// the line being handled has more lines behind it in the same read (LineSplitter says so): then
// the turn's messages leave together, in order, and none waits past the turn.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BatchedWriter } from '../../src/transports/batch.js';
import { LineSplitter } from '../../src/transports/lines.js';

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

const turn = () => new Promise((r) => setImmediate(r));

describe('BatchedWriter', () => {
  it('writes a lone message at once, its pieces joined into one buffer', () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    expect(w.writeAll([Buffer.from('a'), Buffer.from('b'), Buffer.from('\n')])).toBe(true);
    expect(batches).toEqual([['ab\n']]);
    w.writeAll('c');
    expect(batches).toEqual([['ab\n'], ['c']]);
  });

  it('batches what is written for the lines of one busy read, in order, and sends the batch when the turn ends', async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    const lines = new LineSplitter((line) => w.writeAll([Buffer.from('<'), line, Buffer.from('>')]));
    lines.push(Buffer.from('1\n2\n3\n'));
    expect(batches).toEqual([]);
    await turn();
    expect(batches).toEqual([['<1>', '<2>', '<3>']]);
    // A read with one line: written at once again.
    lines.push(Buffer.from('4\n'));
    expect(batches).toEqual([['<1>', '<2>', '<3>'], ['<4>']]);
  });

  it('counts only complete lines as more to come: a line followed by a partial one is written at once', () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    const lines = new LineSplitter((line) => w.writeAll(line));
    lines.push(Buffer.from('a\nb'));
    expect(batches).toEqual([['a']]);
    lines.push(Buffer.from('c\n'));
    expect(batches).toEqual([['a'], ['bc']]);
  });

  it('a line whose handler throws leaves later writes unbatched', () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    const lines = new LineSplitter(() => {
      throw new Error('boom');
    });
    expect(() => lines.push(Buffer.from('x\ny\n'))).toThrow('boom');
    w.writeAll('after');
    expect(batches).toEqual([['after']]);
  });

  it("writes a big message's pieces as they are, in one batch, never joined", async () => {
    const { out, batches } = recorder();
    const w = new BatchedWriter(out);
    const big = Buffer.alloc(64 * 1024, 0x61);
    w.writeAll([Buffer.from('<'), big, Buffer.from('>')]);
    w.writeAll('next');
    expect(batches).toEqual([]);
    await turn();
    expect(batches).toEqual([['<', big.toString(), '>', 'next']]);
  });

  it('leaves a stream corked by someone else as it is', async () => {
    const { out, batches } = recorder();
    out.cork();
    const w = new BatchedWriter(out);
    w.writeAll('x');
    w.writeAll('y');
    await turn();
    expect(batches).toEqual([]);
    out.uncork();
    expect(batches).toEqual([['x', 'y']]);
  });
});
