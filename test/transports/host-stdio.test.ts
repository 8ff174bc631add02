// The stdio front's raw writes (src/transports/host-stdio.ts): the lane's answers leave without a
// promise each, and a host that reads slowly makes the writer wait for 'drain', never drops bytes.
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HostStdioTransport } from '../../src/transports/host-stdio.js';

/** A stdout that holds `highWaterMark` bytes and finishes each write only when told to. */
function slowOut(highWaterMark: number) {
  const got: string[] = [];
  const pending: (() => void)[] = [];
  const out = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk.toString());
      pending.push(cb);
    },
    writev(chunks, cb) {
      got.push(chunks.map((c) => (c.chunk as Buffer).toString()).join(''));
      pending.push(cb);
    },
  });
  return { out, got, release: () => pending.splice(0).forEach((cb) => cb()) };
}

describe('HostStdioTransport.sendRaw', () => {
  it('writes a line or its pieces with a newline, and returns nothing when the stream took it', async () => {
    const { out, got, release } = slowOut(1024);
    const t = new HostStdioTransport(new PassThrough(), out);
    expect(t.sendRaw(Buffer.from('{"a":1}'))).toBeUndefined();
    expect(t.sendRaw([Buffer.from('{"b":'), Buffer.from('2}')])).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    release();
    await new Promise((r) => setImmediate(r));
    release();
    expect(got.join('')).toBe('{"a":1}\n{"b":2}\n');
  });

  it('returns a promise that settles on drain when the host reads slowly', async () => {
    const { out, got, release } = slowOut(4);
    const t = new HostStdioTransport(new PassThrough(), out);
    const waiting = t.sendRaw(Buffer.from('{"big":"0123456789"}'));
    expect(waiting).toBeInstanceOf(Promise);
    let settled = false;
    void waiting!.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    release();
    await new Promise((r) => setImmediate(r));
    release();
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(true);
    expect(got.join('')).toBe('{"big":"0123456789"}\n');
  });
});
