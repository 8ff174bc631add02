// Whether bytes are a JSON text that JSON.parse accepts once they are decoded as UTF-8 (as every
// reader after us decodes them), decided on the bytes, allocating nothing. The lane checks a big
// request this way instead of decoding it: a 1 MB argument decoded and parsed is two 1 MB
// strings on the JavaScript heap per call, and collecting them cost more than the call itself
// (README "Benchmarks"). test/proxy/json-valid.test.ts holds it equal to JSON.parse on generated
// texts and their near misses.
//
// The grammar is RFC 8259's, which is exactly V8's JSON.parse: whitespace is space, tab, LF and
// CR; numbers have no leading zeros, no bare dot, no plus sign; strings hold no raw control
// character, and only the eight short escapes and \uXXXX. Bytes of 0x80 and above are accepted
// inside strings only: decoded, they are characters (an invalid sequence becomes U+FFFD, which a
// string may hold), while outside a string any of them is an unexpected character. Iterative:
// nesting depth costs a byte of stack per level, never the call stack.

const enum C {
  Array = 1,
  Object = 2,
}

const isWs = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined): boolean => c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/** The bytes of `b` as aligned 32-bit words, to skip plain string bytes four at a time. */
class Words {
  private readonly words: Uint32Array;
  private readonly first: number;

  constructor(b: Buffer) {
    const offset = b.byteOffset;
    this.first = (4 - (offset & 3)) & 3;
    this.words = new Uint32Array(b.buffer, offset + this.first, Math.max(0, (b.length - this.first) >> 2));
  }

  /**
   * From `i`, past every whole aligned word of plain string bytes (none a quote, a backslash or a
   * control byte) that ends by `end`: the index of the first byte not in one (`i` itself when `i`
   * is not at a word's start). One tight loop: a call per word cost half the time of a 1 MB check.
   */
  skipPlain(i: number, end: number): number {
    const k = i - this.first;
    if (k < 0 || (k & 3) !== 0) return i;
    const words = this.words;
    const last = Math.min(words.length, (end - this.first) >> 2);
    let n = k >> 2;
    for (; n < last; n++) {
      const w = words[n]!;
      const q = w ^ 0x22222222;
      const s = w ^ 0x5c5c5c5c;
      // Per byte: below 0x20, or zero after the XOR (a quote, a backslash): the "has a byte less
      // than" tests of Bit Twiddling Hacks (Sean Eron Anderson), exact as yes/no answers.
      if ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) break;
    }
    return this.first + (n << 2);
  }
}

/** The index just past the string starting at `i` (its opening quote), or -1. */
function skipString(b: Buffer, i: number, end: number, words: Words): number {
  for (i++; i < end; ) {
    const past = words.skipPlain(i, end);
    if (past > i) {
      i = past;
      continue;
    }
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c !== 0x5c) {
      i++;
      continue;
    }
    const e = b[i + 1];
    if (e === 0x75) {
      if (!(isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5])) || i + 5 >= end) return -1;
      i += 6;
    } else if (e !== undefined && i + 1 < end && ESCAPES.has(e)) i += 2;
    else return -1;
  }
  return -1;
}

/** A member's key and its colon, whitespace around them skipped from `i`: the index after the colon, or -1. */
function skipKey(b: Buffer, i: number, end: number, words: Words): number {
  while (i < end && isWs(b[i])) i++;
  if (b[i] !== 0x22 || i >= end) return -1;
  i = skipString(b, i, end, words);
  if (i === -1) return -1;
  while (i < end && isWs(b[i])) i++;
  return b[i] !== 0x3a || i >= end ? -1 : i + 1;
}

/** The index just past the number starting at `i`, or -1. */
function skipNumber(b: Buffer, i: number, end: number): number {
  const at = (k: number): number | undefined => (k < end ? b[k] : undefined);
  if (at(i) === 0x2d) i++;
  if (at(i) === 0x30) i++;
  else if (isDigit(at(i))) while (isDigit(at(i))) i++;
  else return -1;
  if (at(i) === 0x2e) {
    i++;
    if (!isDigit(at(i))) return -1;
    while (isDigit(at(i))) i++;
  }
  if (at(i) === 0x65 || at(i) === 0x45) {
    i++;
    if (at(i) === 0x2b || at(i) === 0x2d) i++;
    if (!isDigit(at(i))) return -1;
    while (isDigit(at(i))) i++;
  }
  return i;
}

function literal(b: Buffer, i: number, end: number, word: Buffer): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return -1;
  return i + word.length;
}

/** Whether b[start, end) is one JSON text (whitespace around it allowed) that JSON.parse accepts. */
export function isJson(b: Buffer, start = 0, end = b.length): boolean {
  const stack: C[] = [];
  const words = new Words(b);
  let i = start;
  // expecting a value (true), or what follows one (false)
  let wantValue = true;
  for (;;) {
    while (i < end && isWs(b[i])) i++;
    if (wantValue) {
      if (i >= end) return false;
      const c = b[i]!;
      if (c === 0x7b || c === 0x5b) {
        i++;
        while (i < end && isWs(b[i])) i++;
        if (c === 0x5b) {
          if (b[i] === 0x5d && i < end) {
            i++;
            wantValue = false;
            continue;
          }
          stack.push(C.Array);
          continue;
        }
        if (b[i] === 0x7d && i < end) {
          i++;
          wantValue = false;
          continue;
        }
        stack.push(C.Object);
        i = skipKey(b, i, end, words);
        if (i === -1) return false;
        continue;
      }
      if (c === 0x22) i = skipString(b, i, end, words);
      else if (c === 0x74) i = literal(b, i, end, TRUE);
      else if (c === 0x66) i = literal(b, i, end, FALSE);
      else if (c === 0x6e) i = literal(b, i, end, NULL);
      else i = skipNumber(b, i, end);
      if (i === -1) return false;
      wantValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i === end;
    if (i >= end) return false;
    const c = b[i]!;
    if (c === 0x2c) {
      i++;
      wantValue = true;
      if (top === C.Object) {
        i = skipKey(b, i, end, words);
        if (i === -1) return false;
      }
      continue;
    }
    if ((c === 0x5d && top === C.Array) || (c === 0x7d && top === C.Object)) {
      stack.pop();
      i++;
      continue;
    }
    return false;
  }
}
