// Newline-delimited framing over bytes, without decoding: a line stays a Buffer until someone
// needs its text, so a 1 MB result can cross the proxy without a decode/encode round trip.
// Chunks are kept in a list and joined once per line (not re-concatenated per chunk, which is
// quadratic for big messages).

import { reading } from './batch.js';

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private dropping = false;

  constructor(
    private readonly onLine: (line: Buffer) => void,
    /** Longest line kept; a runaway line is dropped (and reported), not buffered forever. */
    private readonly maxLineBytes = 512 * 1024 ** 2,
    private readonly onOverflow?: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    // The next newline is found before a line is handled: whether another complete line follows
    // it in this read tells writers to batch (./batch.ts).
    let nl = chunk.indexOf(10);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
      if (this.dropping) {
        this.dropping = false;
        continue;
      }
      let line = piece;
      if (this.size) {
        this.parts.push(piece);
        line = Buffer.concat(this.parts, this.size + piece.length);
        this.parts = [];
        this.size = 0;
      }
      // Tolerate CRLF framing from servers written on Windows.
      if (line.length && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
      if (!line.length) continue;
      reading.more = nl !== -1;
      try {
        this.onLine(line);
      } finally {
        reading.more = false;
      }
    }
    if (start >= chunk.length || this.dropping) return;
    const rest = chunk.subarray(start);
    this.parts.push(rest);
    this.size += rest.length;
    if (this.size > this.maxLineBytes) {
      this.onOverflow?.(this.size);
      this.parts = [];
      this.size = 0;
      this.dropping = true;
    }
  }

  /** The unterminated tail at end of stream, if any. */
  end(): void {
    if (this.size && !this.dropping) this.onLine(Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
  }
}
