// Writes of one turn of the event loop leave in one system call. With many calls in flight, one
// read from a pipe often holds several messages, and their forwarded copies (or answers) are
// written in the same turn; each write was a syscall of its own and the pipe writes were the
// biggest single item of a busy proxy's profile (README "Benchmarks"). The stream is corked at
// the first write of a turn and uncorked once the turn's synchronous work and promise jobs are
// done (process.nextTick runs after them): a lone message leaves at once, as before, and the
// order of writes is kept.
import type { Writable } from 'node:stream';

export class BatchedWriter {
  private corked = false;

  constructor(private readonly out: Writable) {}

  /** Like Writable.write: false when the stream wants the caller to wait for 'drain'. */
  write(data: string | Buffer): boolean {
    if (!this.corked && !this.out.writableCorked) {
      this.corked = true;
      this.out.cork();
      process.nextTick(() => {
        this.corked = false;
        this.out.uncork();
      });
    }
    return this.out.write(data);
  }

  /** A message, or its pieces in order; false when the stream wants the caller to wait for 'drain'. */
  writeAll(data: string | Buffer | readonly Buffer[]): boolean {
    if (typeof data === 'string' || Buffer.isBuffer(data)) return this.write(data);
    let ok = true;
    for (const d of data) ok = this.write(d) && ok;
    return ok;
  }
}
