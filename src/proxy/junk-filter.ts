// Downstream servers print to stdout by mistake (a banner, a library's progress bar). stdout is
// their protocol channel, so such lines would break the parse; they are dropped here and reported,
// not fatal. The stream is split into lines of bytes (src/transports/lines.ts); a line is passed on
// when it looks like a JSON-RPC message, and junk glued in front of a message on the same line
// ("Loading…{"result":…}") is cut off. Lines stay bytes, so a large message is never decoded here.
import { LineSplitter } from '../transports/lines.js';

export type LineVerdict = { kind: 'message'; line: Buffer } | { kind: 'junk'; text: string } | { kind: 'salvaged'; junk: string; line: Buffer };

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Pure: what one line (without its newline) is. */
export function classifyLine(raw: Buffer): LineVerdict {
  let start = raw.subarray(0, 3).equals(BOM) ? 3 : 0;
  while (start < raw.length && (raw[start] === 0x20 || raw[start] === 0x09)) start++;
  if (raw[start] === 0x7b) return { kind: 'message', line: raw.subarray(start) };
  // The junk may be glued to any message layout: SDK servers write `{"result":…,"jsonrpc":…}`, so
  // the message starts at the first `{`; a line that is junk all along then fails the parse and
  // is reported as junk there.
  const at = raw.indexOf(0x7b, start);
  if (at > 0) return { kind: 'salvaged', junk: raw.subarray(0, at).toString('utf8'), line: raw.subarray(at) };
  return { kind: 'junk', text: raw.toString('utf8') };
}

export interface JunkFilterOptions {
  /** Told about every dropped piece of text (already cut to a readable length). */
  onJunk: (text: string) => void;
  /** Each message line, as bytes without its newline. */
  onLine: (line: Buffer) => void;
  /** Longest line kept (default 512 MiB): a runaway line is dropped, not buffered forever. */
  maxLineBytes?: number;
}

/** Feed it stdout's chunks; it calls onLine for each message line and onJunk for the rest. */
export function junkFilter(opts: JunkFilterOptions): { push(chunk: Buffer): void; end(): void } {
  return new LineSplitter(
    (line) => {
      // The common case, a message from its first byte, without a verdict to build.
      if (line[0] === 0x7b) return opts.onLine(line);
      const v = classifyLine(line);
      if (v.kind === 'junk') {
        if (v.text.trim()) opts.onJunk(short(v.text));
        return;
      }
      if (v.kind === 'salvaged') opts.onJunk(short(v.junk));
      opts.onLine(v.line);
    },
    opts.maxLineBytes,
    (n) => opts.onJunk(`a line longer than ${n} bytes (dropped)`),
  );
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
