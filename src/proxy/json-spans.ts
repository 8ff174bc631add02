// Where the members of a JSON object sit in its bytes, without decoding it. The pass-through lane
// rebuilds a request it takes around the untouched bytes of its arguments (a 1 MB argument is
// copied, never re-encoded), and finds the one top-level `id` of an answer it swaps. Validity is
// not judged here: the lane parses what it takes. Strings are skipped with a native byte search
// for the closing quote; nested values by bracket depth. Pure; undefined for anything that is not
// a well-formed object, and for an object that names a key twice: JSON.parse keeps the last of
// duplicate keys, so a scanner that kept the first would see another message than every parser
// downstream of it (a forged id).

export interface Span {
  /** Offsets of the member's value: bytes [start, end). */
  start: number;
  end: number;
  /** Where the member's key (its opening quote) starts: bytes [keyStart, end) are `"key":value`. */
  keyStart: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function skipWs(b: Buffer, i: number): number {
  while (i < b.length) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** Index just past the string that opens at `i` (a quote), or -1. */
export function skipString(b: Buffer, i: number): number {
  let j = i + 1;
  // Short strings (keys, names, ids) end within a few bytes: a loop costs less than a native call.
  const near = Math.min(b.length, j + 32);
  for (; j < near; j++) {
    const c = b[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) break;
  }
  for (;;) {
    const q = b.indexOf(QUOTE, j);
    if (q === -1) return -1;
    let k = q - 1;
    while (k > i && b[k] === BACKSLASH) k--;
    // An even number of backslashes before the quote: it is not escaped.
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index just past the value that starts at `i`, or -1. */
export function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    let j = i;
    while (j < b.length) {
      const d = b[j]!;
      if (d === QUOTE) {
        j = skipString(b, j);
        if (j === -1) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let j = i;
  while (j < b.length) {
    const d = b[j]!;
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
    j++;
  }
  return j > i ? j : -1;
}

// The keys of JSON-RPC messages and tool calls, by length: found by comparing bytes, they cost
// no string of their own (most keys the lane reads are one of these).
const KNOWN = new Map<number, string[]>();
for (const k of ['id', 'jsonrpc', 'method', 'params', 'result', 'error', 'name', 'arguments', '_meta', 'task', 'progressToken']) KNOWN.set(k.length, [...(KNOWN.get(k.length) ?? []), k]);

/** The known key that bytes [from, to) spell, if any. */
function knownKey(b: Buffer, from: number, to: number): string | undefined {
  const list = KNOWN.get(to - from);
  if (!list) return undefined;
  outer: for (const k of list) {
    for (let j = 0; j < k.length; j++) if (b[from + j] !== k.charCodeAt(j)) continue outer;
    return k;
  }
  return undefined;
}

/** Bytes [from, to) are printable ASCII without a backslash (then latin1 reads them as UTF-8 would). */
function plainAscii(b: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = b[k]!;
    if (c >= 0x7f || c < 0x20 || c === BACKSLASH) return false;
  }
  return true;
}

/** The members of the object at `start` (keys decoded; values as spans), or undefined (also when a key repeats). */
export function objectSpans(b: Buffer, start = 0): Map<string, Span> | undefined {
  return scanObject(b, start)?.members;
}

/**
 * The members of the object at `start`, and the index just past its closing brace. With `nested`,
 * the member of that name, when its value is an object, is scanned for its own members in the same
 * pass (`inner`) instead of being skipped: a request's `params` are walked once, not twice.
 */
export function scanObject(b: Buffer, start = 0, nested?: string): { members: Map<string, Span>; end: number; inner?: Map<string, Span> } | undefined {
  let i = skipWs(b, start);
  if (b[i] !== 0x7b) return undefined;
  const out = new Map<string, Span>();
  let inner: Map<string, Span> | undefined;
  i = skipWs(b, i + 1);
  if (b[i] === 0x7d) return { members: out, end: i + 1 };
  for (;;) {
    if (b[i] !== QUOTE) return undefined;
    const keyEnd = skipString(b, i);
    if (keyEnd === -1) return undefined;
    let key: string;
    const keyStart = i;
    // Most keys are short ASCII without escapes: read straight from the bytes (no view, no JSON
    // parse; a per-key Buffer view and decode showed in the lane's profile).
    const plain = plainAscii(b, i + 1, keyEnd - 1);
    if (plain) key = knownKey(b, i + 1, keyEnd - 1) ?? b.toString('latin1', i + 1, keyEnd - 1);
    else if (b.subarray(i, keyEnd).indexOf(BACKSLASH) === -1) key = b.toString('utf8', i + 1, keyEnd - 1);
    else {
      try {
        key = JSON.parse(b.toString('utf8', i, keyEnd)) as string;
      } catch {
        return undefined;
      }
    }
    i = skipWs(b, keyEnd);
    if (b[i] !== 0x3a) return undefined;
    const vStart = skipWs(b, i + 1);
    let vEnd: number;
    if (key === nested && b[vStart] === 0x7b) {
      const sub = scanObject(b, vStart);
      if (!sub) return undefined;
      vEnd = sub.end;
      inner = sub.members;
    } else vEnd = skipValue(b, vStart);
    if (vEnd === -1 || out.has(key)) return undefined;
    out.set(key, { start: vStart, end: vEnd, keyStart });
    i = skipWs(b, vEnd);
    if (b[i] === 0x2c) {
      i = skipWs(b, i + 1);
      continue;
    }
    return b[i] === 0x7d ? { members: out, end: i + 1, inner } : undefined;
  }
}

/** A member's value decoded (for small members only: ids, names, _meta). */
export function valueOf(b: Buffer, s: Span | undefined): unknown {
  if (!s) return undefined;
  try {
    return JSON.parse(b.toString('utf8', s.start, s.end));
  } catch {
    return undefined;
  }
}
