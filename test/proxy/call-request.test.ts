// The lane's request check (src/proxy/call-request.ts) against the SDK's own schemas: for every
// generated request, it accepts exactly when JSONRPCRequestSchema and then CallToolRequestSchema
// do. Requests are generated as JSON text and parsed, as they arrive; the generator mutates each
// field of a valid call towards every kind of JSON value, so near-misses dominate.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CallToolRequestSchema, JSONRPCRequestSchema } from '@modelcontextprotocol/core';
import { asCallRequest } from '../../src/proxy/call-request.js';
import { forwardedMeta, metaJson, readBig, someMembers } from '../../src/proxy/lane.js';

function sdkAccepts(msg: unknown): boolean {
  const env = JSONRPCRequestSchema.safeParse(msg);
  return env.success && CallToolRequestSchema.safeParse({ method: env.data.method, params: env.data.params }).success;
}

const anyJson = fc.jsonValue({ maxDepth: 2 });
const ints = fc.oneof({ weight: 4, arbitrary: fc.integer() }, fc.constantFrom(0, -0, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1e21, 1.5, -1));
/** A value of each kind, or `absent`. */
const field = (good: fc.Arbitrary<unknown>) => fc.oneof({ weight: 16, arbitrary: good }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(null, [], {}, '', 0, true) });
const object = (shape: Record<string, fc.Arbitrary<unknown>>, extra: fc.Arbitrary<Record<string, unknown>> = fc.constant({})) =>
  fc.tuple(fc.record(shape), extra).map(([o, more]) => ({ ...more, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) }));

const meta = object(
  {
    progressToken: field(fc.oneof(fc.string(), ints)),
    'io.modelcontextprotocol/related-task': field(object({ taskId: field(fc.string()) }, fc.dictionary(fc.string(), anyJson, { maxKeys: 1 }))),
    'io.modelcontextprotocol/protocolVersion': field(fc.constant('2026-07-28')),
  },
  fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 2 }),
);
const params = object(
  {
    name: field(fc.string()),
    arguments: field(fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 3 })),
    _meta: field(meta),
    task: field(object({ ttl: field(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), ints)) }, fc.dictionary(fc.string(), anyJson, { maxKeys: 1 }))),
  },
  fc.dictionary(fc.constantFrom('cursor', 'inputResponses', 'requestState', 'x', '__proto__', 'constructor'), anyJson, { maxKeys: 2 }),
);
const request = object(
  {
    jsonrpc: field(fc.constantFrom('2.0', '2.0', '2.0', '2.1')),
    id: field(fc.oneof(fc.string(), ints)),
    method: field(fc.constantFrom('tools/call', 'tools/call', 'tools/call', 'tools/list', 'Tools/call')),
    params: field(params),
  },
  fc.oneof({ weight: 6, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('result', 'error', 'extra', '__proto__', 'toString'), anyJson, { maxKeys: 1 }) }),
);

describe('asCallRequest', () => {
  it('accepts exactly what the SDK schemas accept (generated requests, as parsed JSON)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(request, (r) => {
        const msg: unknown = JSON.parse(JSON.stringify(r));
        const want = sdkAccepts(msg);
        if (want) accepted++;
        expect(asCallRequest(msg) !== undefined).toBe(want);
      }),
      { numRuns: 10_000 },
    );
    // The generator must reach both sides, or the property says little.
    expect(accepted).toBeGreaterThan(500);
  });

  const texts: [string, string][] = [
    ['minimal', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}'],
    ['string id, arguments, meta', '{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"echo","arguments":{"m":1},"_meta":{"progressToken":"p"}}}'],
    ['a __proto__ key at the top', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"__proto__":{}}'],
    ['a __proto__ key in params', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","__proto__":{"x":1}}}'],
    ['a __proto__ key in arguments', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"__proto__":{"x":1}}}}'],
    ['an unsafe integer id', '{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"echo"}}'],
    ['a fractional id', '{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"echo"}}'],
    ['an exponent id', '{"jsonrpc":"2.0","id":1e3,"method":"tools/call","params":{"name":"echo"}}'],
    ['a negative zero id', '{"jsonrpc":"2.0","id":-0,"method":"tools/call","params":{"name":"echo"}}'],
    ['null arguments', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":null}}'],
    ['array arguments', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":[1]}}'],
    ['no params', '{"jsonrpc":"2.0","id":1,"method":"tools/call"}'],
    ['a result beside', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"},"result":{}}'],
    ['null id', '{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"echo"}}'],
    ['a float progress token', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"progressToken":0.5}}}'],
    ['a related task without id', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"io.modelcontextprotocol/related-task":{}}}}'],
    ['task with a string ttl', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","task":{"ttl":"1"}}}'],
  ];
  it.each(texts)('agrees with the SDK on %s', (_name, text) => {
    const msg: unknown = JSON.parse(text);
    expect(asCallRequest(msg) !== undefined).toBe(sdkAccepts(msg));
  });
});

describe('a big request line, checked on its bytes (readBig)', () => {
  it('is accepted exactly when the parsed line is, with the same id, name and _meta', () => {
    fc.assert(
      fc.property(request, (r) => {
        // Whitespace makes the line big without changing what it says.
        const text = JSON.stringify(r) + ' '.repeat(70_000);
        const small = asCallRequest(JSON.parse(text));
        const big = readBig(Buffer.from(text));
        const fromBig = big && asCallRequest(big.msg);
        expect(fromBig !== undefined).toBe(small !== undefined);
        if (small && fromBig) {
          expect(fromBig.id).toEqual(small.id);
          expect(fromBig.params.name).toEqual(small.params.name);
          expect(fromBig.params._meta).toEqual(small.params._meta);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes only the arguments a dataset hint reads; all of them when a key is named twice', () => {
    const line = Buffer.from(`{"dataset":"tips","other":"${'x'.repeat(1000)}","path":"a.csv","n":1}`);
    const at = { start: 0, end: line.length, keyStart: 0 };
    expect(someMembers(line, at, ['dataset', 'path', 'csv_path'])).toEqual({ dataset: 'tips', path: 'a.csv' });
    const twice = Buffer.from('{"dataset":"a","dataset":"b","n":1}');
    expect(someMembers(twice, { start: 0, end: twice.length, keyStart: 0 }, ['dataset'])).toEqual({ dataset: 'b', n: 1 });
  });
});

describe('the _meta a lane request carries to its server (forwardedMeta)', () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'h', version: '1' } };
  const proto = JSON.parse('{"__proto__":{"x":1},"b":2}') as Record<string, unknown>;
  it.each([
    ['none', undefined, false, '{"progressToken":"aw~1"}'],
    ["the host's token replaced by ours, last", { progressToken: 7, a: 1 }, false, '{"a":1,"progressToken":"aw~1"}'],
    ['members kept in their order', { z: 1, progressToken: 'p', a: { b: [1] } }, false, '{"z":1,"a":{"b":[1]},"progressToken":"aw~1"}'],
    ['a 2025-11-25 host: io.modelcontextprotocol/ keys are its own, passed on', { ...envelope, a: 1 }, false, `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"h","version":"1"},"a":1,"progressToken":"aw~1"}`],
    ['a 2026-07-28 host: its envelope is not passed on', { ...envelope, a: 1, progressToken: 3 }, true, '{"a":1,"progressToken":"aw~1"}'],
    ['a __proto__ key stays a member', proto, true, '{"__proto__":{"x":1},"b":2,"progressToken":"aw~1"}'],
    ["only the host's token", { progressToken: 'p' }, false, '{"progressToken":"aw~1"}'],
    ['empty', {}, false, '{"progressToken":"aw~1"}'],
    ['a 2026-07-28 host: its envelope and token only', { ...envelope, progressToken: 3 }, true, '{"progressToken":"aw~1"}'],
    ['a 2025-11-25 host: an envelope-like key alone is passed on', { 'io.modelcontextprotocol/clientInfo': { name: 'h' } }, false, '{"io.modelcontextprotocol/clientInfo":{"name":"h"},"progressToken":"aw~1"}'],
    ['a __proto__ key alone', JSON.parse('{"__proto__":1}') as Record<string, unknown>, false, '{"__proto__":1,"progressToken":"aw~1"}'],
  ])('%s', (_name, meta, modern, json) => {
    expect(JSON.stringify(forwardedMeta(meta as Record<string, unknown> | undefined, modern, 'aw~1'))).toBe(json);
    // The JSON the lane writes, with its shortcut for a _meta that is ours alone.
    expect(metaJson(meta as Record<string, unknown> | undefined, modern, 'aw~1')).toBe(json);
  });
});
