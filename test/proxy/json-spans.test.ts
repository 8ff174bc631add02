import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { objectSpans, scanObject, skipValue, valueOf } from '../../src/proxy/json-spans.js';

const B = (s: string) => Buffer.from(s);

describe('objectSpans', () => {
  it('finds each member of a request without decoding its values', () => {
    const line = B('{"method":"tools/call","params":{"name":"echo","arguments":{"text":"a \\"quoted\\" }{ [x] \\\\"}},"jsonrpc":"2.0","id":7}');
    const top = objectSpans(line)!;
    expect([...top.keys()]).toEqual(['method', 'params', 'jsonrpc', 'id']);
    expect(valueOf(line, top.get('id'))).toBe(7);
    const params = objectSpans(line, top.get('params')!.start)!;
    expect(valueOf(line, params.get('name'))).toBe('echo');
    expect(valueOf(line, params.get('arguments'))).toEqual({ text: 'a "quoted" }{ [x] \\' });
  });

  it.each(['', '[]', '{', '{"a"}', '{"a":}', '{"a":1,}', '{"a":"x}', '{a:1}', '{"a":1 "b":2}', '"str"', '{"a":[1,2}'])('%j is not an object it can read', (s) => {
    expect(objectSpans(B(s))).toBeUndefined();
  });

  it('agrees with JSON.parse on random objects, members and whitespace included', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (obj, pretty) => {
        const b = B(JSON.stringify(obj, null, pretty ? 2 : undefined));
        const spans = objectSpans(b);
        expect(spans).toBeDefined();
        const back = Object.fromEntries([...spans!].map(([k, s]) => [k, valueOf(b, s)]));
        // JSON.parse keeps the last of duplicate keys, and so does the Map.
        expect(back).toEqual(JSON.parse(b.toString()));
      }),
      { numRuns: 300 },
    );
  });

  it("scans a nested member's object in the same pass, as a second scan would find it", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('params', 'id', 'x'), fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue())), fc.boolean(), (obj, pretty) => {
        const b = B(JSON.stringify(obj, null, pretty ? 2 : undefined));
        const one = scanObject(b, 0, 'params')!;
        const top = objectSpans(b)!;
        expect(one.members).toEqual(top);
        const at = top.get('params');
        expect(one.inner).toEqual(at && b[at.start] === 0x7b ? objectSpans(b, at.start) : undefined);
      }),
      { numRuns: 300 },
    );
  });

  it.each(['{"params":{"a":1,"a":2}}', '{"params":{"a":1},"params":{"b":2}}', '{"params":{"a":}}', '{"params":{"a":1}'])('%j: no scan at all (a key named twice, or not an object)', (s) => {
    expect(scanObject(B(s), 0, 'params')).toBeUndefined();
  });

  it('skips a value of every kind', () => {
    for (const v of ['"x\\\\"', '12.5e-3', 'true', 'null', '[1,[2,{"a":"]"}]]', '{"a":{"b":"}"}}']) expect(skipValue(B(`${v},`), 0)).toBe(v.length);
  });
});
