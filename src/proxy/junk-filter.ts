// Downstream servers print to stdout by mistake (a banner, a library's progress bar). stdout is
// their protocol channel, so such lines would break the parse; they are dropped here and reported,
// not fatal. The stream is split into lines; a line is passed on when it looks like a JSON-RPC
// message, and junk glued in front of a message on the same line ("Loading…{"jsonrpc":…}") is cut
// off. The decision is the pure `classifyLine`; the Transform only does the splitting.
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';

export type LineVerdict =
  | { kind: 'message'; line: string }
  | { kind: 'junk'; text: string }
  | { kind: 'salvaged'; junk: string; line: string };

const MESSAGE_START = '{"jsonrpc"';

export function classifyLine(raw: string): LineVerdict {
  const line = raw.replace(/^\uFEFF/, '').replace(/\r$/, '');
  const trimmed = line.trimStart();
  if (trimmed.startsWith('{')) return { kind: 'message', line: trimmed };
  const at = line.indexOf(MESSAGE_START);
  if (at > 0) return { kind: 'salvaged', junk: line.slice(0, at), line: line.slice(at) };
  return { kind: 'junk', text: line };
}

export interface JunkFilterOptions {
  /** Told about every dropped piece of text (already cut to a readable length). */
  onJunk: (text: string) => void;
  /** Longest line kept, in UTF-16 units (default 256 Mi): a runaway line is dropped, not buffered forever. */
  maxLineChars?: number;
}

/** Bytes in, one message line (a string, without its newline) out per chunk: objectMode on the readable side. */
export class JunkFilter extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private partial: string[] = [];
  private partialLen = 0;
  private overflowing = false;

  constructor(private readonly opts: JunkFilterOptions) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    this.feed(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    done();
  }

  override _flush(done: TransformCallback): void {
    this.feed(this.decoder.end());
    if (this.partialLen > 0 && !this.overflowing) this.emitLine(this.partial.join(''));
    done();
  }

  private feed(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (this.overflowing) {
        this.overflowing = false;
        continue;
      }
      const line = this.partialLen ? this.partial.join('') + piece : piece;
      this.partial = [];
      this.partialLen = 0;
      this.emitLine(line);
    }
    const rest = text.slice(start);
    if (!rest || this.overflowing) return;
    this.partial.push(rest);
    this.partialLen += rest.length;
    if (this.partialLen > (this.opts.maxLineChars ?? 256 * 1024 * 1024)) {
      this.opts.onJunk(`a line longer than ${this.partialLen} characters (dropped)`);
      this.partial = [];
      this.partialLen = 0;
      this.overflowing = true;
    }
  }

  private emitLine(line: string): void {
    if (line.trim() === '') return;
    const v = classifyLine(line);
    if (v.kind === 'junk') return this.opts.onJunk(short(v.text));
    if (v.kind === 'salvaged') this.opts.onJunk(short(v.junk));
    this.push(v.line);
  }
}

function short(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}… (${s.length} chars)` : s;
}

/** Reports dropped lines to `warn`: each of the first 20, then a count every 1000, so a chatty server cannot flood the log. */
export function junkReporter(server: string, warn: (msg: string) => void): (text: string) => void {
  let lines = 0;
  return (text) => {
    lines++;
    if (lines <= 20) warn(`server "${server}" wrote a non-protocol line to stdout (dropped): ${text}`);
    else if (lines % 1000 === 0) warn(`server "${server}": ${lines} non-protocol stdout lines dropped so far`);
  };
}
