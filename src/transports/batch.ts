// Writes to a pipe, cheap for a lone message and batched for a busy pipe. A message is written at
// once, as one buffer (a small message's pieces joined): the peer gets it without waiting for the
// rest of the turn, and a plain write costs less than the stream's corked path (measured: a line
// relay through cork and writev added ~12 µs p50 a message over one that wrote each line as one
// buffer). But when the line being handled is followed by more lines in the same read (many
// calls in flight: one read often holds several messages, each forwarded or answered at once),
// the writes are corked and leave together in one system call when the turn's synchronous work
// and promise jobs are done (process.nextTick runs after them): with 16 calls in flight, a write
// per message cost more CPU and latency than it saved. The order of writes is kept.
import type { Writable } from 'node:stream';

/** Pieces of a message up to this size are joined into one buffer; a bigger one is written in pieces (never copied). */
const JOIN_LIMIT = 64 * 1024;

/**
 * Set by LineSplitter (./lines.ts) while a line is handled: another complete line follows it in
 * the same read. Writes made meanwhile are batched.
 */
export const reading = { more: false };

export class BatchedWriter {
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.out.uncork();
  };

  constructor(private readonly out: Writable) {}

  /** A message, or its pieces in order; false when the stream wants the caller to wait for 'drain'. */
  writeAll(data: string | Buffer | readonly Buffer[]): boolean {
    const one = typeof data === 'string' || Buffer.isBuffer(data) ? data : joined(data);
    if ((reading.more || one === undefined) && !this.corked && !this.out.writableCorked) {
      this.corked = true;
      this.out.cork();
      process.nextTick(this.uncork);
    }
    if (one !== undefined) return this.out.write(one);
    let ok = true;
    for (const d of data as readonly Buffer[]) ok = this.out.write(d) && ok;
    return ok;
  }
}

/** A small message's pieces as one buffer; undefined for a big one (written in pieces). */
function joined(parts: readonly Buffer[]): Buffer | undefined {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const p of parts) size += p.length;
  return size <= JOIN_LIMIT ? Buffer.concat(parts as Buffer[], size) : undefined;
}
