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

/** The members of the object at `start` (keys decoded; values as spans), or undefined (also when a key repeats). */
export function objectSpans(b: Buffer, start = 0): Map<string, Span> | undefined {
  return scanObject(b, start)?.members;
}

/** The members of the object at `start`, and the index just past its closing brace. */
export function scanObject(b: Buffer, start = 0): { members: Map<string, Span>; end: number } | undefined {
  let i = skipWs(b, start);
  if (b[i] !== 0x7b) return undefined;
  const out = new Map<string, Span>();
  i = skipWs(b, i + 1);
  if (b[i] === 0x7d) return { members: out, end: i + 1 };
  for (;;) {
    if (b[i] !== QUOTE) return undefined;
    const keyEnd = skipString(b, i);
    if (keyEnd === -1) return undefined;
    let key: string;
    const keyStart = i;
    // Most keys have no escapes: decoded directly, without a JSON parse.
    if (b.subarray(i, keyEnd).indexOf(BACKSLASH) === -1) key = b.toString('utf8', i + 1, keyEnd - 1);
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
    const vEnd = skipValue(b, vStart);
    if (vEnd === -1 || out.has(key)) return undefined;
    out.set(key, { start: vStart, end: vEnd, keyStart });
    i = skipWs(b, vEnd);
    if (b[i] === 0x2c) {
      i = skipWs(b, i + 1);
      continue;
    }
    return b[i] === 0x7d ? { members: out, end: i + 1 } : undefined;
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
