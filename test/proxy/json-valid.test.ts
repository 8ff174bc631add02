// isJson (src/proxy/json-valid.ts) against JSON.parse of the UTF-8 decoding, on generated JSON,
// its near misses (bytes inserted, removed, replaced) and raw bytes from JSON's alphabet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isJson } from '../../src/proxy/json-valid.js';

function parses(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** Bytes JSON is made of, and a few it must refuse. */
const ALPHABET = [...'{}[],:"\\/ \t\r\n0123456789-+.eEtrufalsn bfu', '\u00e9', '\u2028', '\ud83d\ude00'].map((s) => [...Buffer.from(s)]);
const alphabetByte = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ALPHABET.flat()) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const ws = fc.constantFrom('', ' ', '\t', '\r', '\n', '  ');
/** JSON text with whitespace wherever it may go. */
const text = fc.tuple(fc.jsonValue({ maxDepth: 4 }), ws, ws, fc.boolean()).map(([v, a, b, pretty]) => a + JSON.stringify(v, null, pretty ? 2 : undefined) + b);
const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom('insert', 'delete', 'replace'), byte: alphabetByte });

function mutate(s: string, edits: { at: number; kind: string; byte: number }[]): Buffer {
  const bytes = [...Buffer.from(s)];
  for (const e of edits) {
    const at = bytes.length ? e.at % (bytes.length + 1) : 0;
    if (e.kind === 'insert') bytes.splice(at, 0, e.byte);
    else if (e.kind === 'delete') bytes.splice(at, 1);
    else bytes[Math.min(at, bytes.length - 1)] = e.byte;
  }
  return Buffer.from(bytes);
}

describe('isJson', () => {
  it('accepts what JSON.parse accepts: generated JSON text', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(isJson(Buffer.from(t))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with JSON.parse on near misses (1-3 byte edits of JSON text)', () => {
    let valid = 0;
    fc.assert(
      fc.property(text, fc.array(edit, { minLength: 1, maxLength: 3 }), (t, edits) => {
        const b = mutate(t, edits);
        const want = parses(b);
        if (want) valid++;
        expect(isJson(b)).toBe(want);
      }),
      { numRuns: 20_000 },
    );
    expect(valid).toBeGreaterThan(1000);
  });

  it('agrees with JSON.parse on raw bytes of its alphabet', () => {
    fc.assert(
      fc.property(fc.array(alphabetByte, { maxLength: 24 }), (bytes) => {
        const b = Buffer.from(bytes);
        expect(isJson(b)).toBe(parses(b));
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with JSON.parse on long strings with one odd byte anywhere, at any alignment', () => {
    fc.assert(
      fc.property(fc.nat({ max: 7 }), fc.nat({ max: 300 }), fc.nat(), fc.constantFrom(0x00, 0x01, 0x1f, 0x20, 0x22, 0x5c, 0x7f, 0x80, 0xff, 0x61), (shift, len, at, odd) => {
        const body = Buffer.alloc(len + 2, 0x61);
        body[0] = 0x22;
        body[len + 1] = 0x22;
        if (len) body[1 + (at % len)] = odd;
        // A view at an offset into a bigger buffer: the words are aligned to the memory, not the view.
        const backing = Buffer.alloc(body.length + 8);
        body.copy(backing, shift);
        const b = backing.subarray(shift, shift + body.length);
        expect(isJson(b)).toBe(parses(b));
      }),
      { numRuns: 5000 },
    );
  });

  const cases: [string, string | Buffer][] = [
    ['empty', ''],
    ['whitespace only', ' \n'],
    ['a BOM first', Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])],
    ['invalid UTF-8 inside a string', Buffer.from([0x22, 0xff, 0xfe, 0x22])],
    ['a truncated sequence before the closing quote', Buffer.from([0x22, 0xe2, 0x22])],
    ['invalid UTF-8 outside a string', Buffer.from([0x5b, 0xff, 0x5d])],
    ['a raw tab in a string', '"a\tb"'],
    ['a raw DEL in a string', '"a\u007fb"'],
    ['a lone surrogate escape', '"\\ud800"'],
    ['a bad escape', '"\\x41"'],
    ['a short \\u', '"\\u12"'],
    ['leading zero', '01'],
    ['minus zero', '-0'],
    ['a bare dot', '1.'],
    ['a plus sign', '+1'],
    ['a huge exponent', '1e99999'],
    ['a trailing comma in an array', '[1,]'],
    ['a trailing comma in an object', '{"a":1,}'],
    ['a missing colon', '{"a" 1}'],
    ['a number key', '{1:2}'],
    ['two values', '1 2'],
    ['duplicate keys', '{"a":1,"a":2}'],
    ['NaN', 'NaN'],
    ['deep nesting', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ['deep nesting, unbalanced', `${'['.repeat(100_000)}${']'.repeat(99_999)}`],
    ['a 1 MB string', JSON.stringify({ message: 'x'.repeat(1 << 20) })],
  ];
  it.each(cases)('agrees with JSON.parse: %s', (_name, t) => {
    const b = Buffer.isBuffer(t) ? t : Buffer.from(t);
    expect(isJson(b)).toBe(parses(b));
  });

  it('checks the range it is given', () => {
    const b = Buffer.from('xx{"a":[1,2]}yy');
    expect(isJson(b, 2, 13)).toBe(true);
    expect(isJson(b, 2, 12)).toBe(false);
    expect(isJson(b, 1, 13)).toBe(false);
  });
});
