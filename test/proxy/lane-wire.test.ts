import { describe, expect, it } from 'vitest';
import { LaneWire, idSpan, splicedParts } from '../../src/proxy/lane-wire.js';
import { resultTypeInsert } from '../../src/proxy/lane.js';

/** The spliced answer as one buffer. */
const spliceId = (line: Buffer, at: number, end: number, hostId: string | number): Buffer => Buffer.concat(splicedParts(line, at, end, hostId));

/** The line with `"resultType":"complete"` put where resultTypeInsert says; undefined where it has no result object. */
function withResultType(line: Buffer): Buffer | undefined {
  const ins = resultTypeInsert(line);
  if (ins === undefined || ins === 'present') return ins && line;
  return Buffer.concat([line.subarray(0, ins.at), ins.bytes, line.subarray(ins.at)]);
}

const B = (s: string) => Buffer.from(s);

describe('idSpan: the one top-level id of an answer that may cross as written', () => {
  it.each([
    ['{"result":{"content":[]},"jsonrpc":"2.0","id":"aw~12"}', 'aw~12', true],
    ['{"jsonrpc":"2.0","id":"aw~3","result":{}}', 'aw~3', true],
    ['{"jsonrpc": "2.0", "id" : "aw~4", "result": {}}', 'aw~4', true],
    [`{"jsonrpc":"2.0","result":{"t":"${'x'.repeat(5000)}"},"id":"aw~5"}`, 'aw~5', true],
    // A nested "id" is never the message's id (a tool echoing its arguments).
    ['{"result":{"structuredContent":{"id":"aw~1"}},"jsonrpc":"2.0","id":"aw~2"}', 'aw~2', true],
    ['{"result":{"t":"x\\\\"},"id":"aw~10"}', 'aw~10', true],
    // Two ids: JSON.parse (and so the host) reads the last one. Never crossed as written.
    ['{"jsonrpc":"2.0","id":"aw~1","result":{},"id":"aw~1"}', 'aw~1', false],
    ['{"jsonrpc":"2.0","id":"aw~1","result":{},"\\u0069d":"aw~1"}', 'aw~1', false],
    // A CR is whitespace to JSON but a line end to SSE and to some readers.
    ['{"jsonrpc":"2.0",\r"id":"aw~1","result":{}}', 'aw~1', false],
    // An escaped spelling of our token is re-encoded, not spliced.
    ['{"jsonrpc":"2.0","id":"aw\\u007e1","result":{}}', 'aw~1', false],
    ['{"jsonrpc":"2.0","id":"aw~x1"}', 'aw~x1', false],
    // Bytes next to the digits are not digits: read as numbers they would name another call
    // (";" as 11, "2/" as 19), and leading zeros spell no call of ours.
    ['{"jsonrpc":"2.0","id":"aw~;","result":{}}', 'aw~11', false],
    ['{"jsonrpc":"2.0","id":"aw~2/","result":{}}', 'aw~19', false],
    ['{"jsonrpc":"2.0","id":"aw~07","result":{}}', 'aw~7', false],
    ['{"jsonrpc":"2.0","id":"aw~123456789012345","result":{}}', 'aw~123456789012345', true],
    ['{"jsonrpc":"2.0","id":"aw~1234567890123456","result":{}}', 'aw~1234567890123456', false],
  ])('%s', (line, id, crosses) => {
    expect(idSpan(B(line), id) !== undefined).toBe(crosses);
  });

  it('splices the host id in place of ours, bytes around it untouched', () => {
    const line = B('{"jsonrpc": "2.0", "id": "aw~9", "result": {"a": "é"}}');
    const hit = idSpan(line, 'aw~9')!;
    expect(spliceId(line, hit.start, hit.end, 'host-1').toString()).toBe('{"jsonrpc": "2.0", "id": "host-1", "result": {"a": "é"}}');
    expect(spliceId(line, hit.start, hit.end, 42).toString()).toBe('{"jsonrpc": "2.0", "id": 42, "result": {"a": "é"}}');
  });

  it('splices the id and puts bytes in before or after it, as pieces of the line itself', () => {
    const line = B('{"result":{"a":1},"jsonrpc":"2.0","id":"aw~3"}');
    const hit = idSpan(line, 'aw~3')!;
    const before = splicedParts(line, hit.start, hit.end, 7, { at: line.indexOf('{"a"') + 1, bytes: B('"resultType":"complete",') });
    expect(Buffer.concat(before).toString()).toBe('{"result":{"resultType":"complete","a":1},"jsonrpc":"2.0","id":7}');
    expect(before.filter((p) => p.buffer === line.buffer && p.length > 1)).toHaveLength(3);
    const last = B('{"id":"aw~3","jsonrpc":"2.0","result":{}}');
    const h2 = idSpan(last, 'aw~3')!;
    const after = splicedParts(last, h2.start, h2.end, 'h', { at: last.length - 2, bytes: B('"resultType":"complete"') });
    expect(Buffer.concat(after).toString()).toBe('{"id":"h","jsonrpc":"2.0","result":{"resultType":"complete"}}');
    expect(() => splicedParts(last, h2.start, h2.end, 'h', { at: h2.start + 1, bytes: B('x') })).toThrow();
  });
});

describe('LaneWire', () => {
  function lane() {
    const written: string[] = [];
    const l = new LaneWire(async (s) => void written.push(s.toString()));
    const got: { line?: string; answer?: unknown; progress: unknown[]; gone?: string } = { progress: [] };
    const id = l.requestRaw((id) => Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', _meta: { progressToken: id } } })}\n`), {
      onResponse: (line, at, end, answer) => {
        got.line = spliceId(line, at, end, 5).toString();
        got.answer = answer.decode();
      },
      onProgress: (p) => got.progress.push(p),
      onGone: (why) => (got.gone = why),
    });
    return { l, id, written, got };
  }

  it('writes the request it was given, with its id', () => {
    const { id, written } = lane();
    expect(JSON.parse(written[0]!)).toEqual({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', _meta: { progressToken: id } } });
  });

  it('takes its progress and its response, and nothing else', () => {
    const { l, id, got } = lane();
    expect(l.take(B('{"jsonrpc":"2.0","id":0,"result":{}}'))).toBe(false);
    expect(l.take(B(`{"method":"notifications/progress","params":{"progressToken":"${id}","progress":1},"jsonrpc":"2.0"}`))).toBe(true);
    expect(l.take(B(`{"method":"notifications/progress","params":{"progressToken":"aw~999","progress":1},"jsonrpc":"2.0"}`))).toBe(false);
    expect(l.take(B(`{"method":"notifications/progress","params":{"progressToken":"${id.replace('~', '~0')}","progress":1},"jsonrpc":"2.0"}`))).toBe(false);
    expect(l.take(B(`{"result":{"ok":true},"jsonrpc":"2.0","id":"${id}"}`))).toBe(true);
    expect(got.progress).toEqual([{ progressToken: id, progress: 1 }]);
    expect(got.line).toBe('{"result":{"ok":true},"jsonrpc":"2.0","id":5}');
    expect(got.answer).toEqual({ result: { ok: true }, jsonrpc: '2.0', id });
    expect(l.size).toBe(0);
    expect(l.take(B(`{"result":{},"jsonrpc":"2.0","id":"${id}"}`))).toBe(false);
  });

  it('finds the id wherever it sits in a long line', () => {
    const { l, id, got } = lane();
    const line = `{"jsonrpc":"2.0","result":{"a":"${'y'.repeat(600)}"},"id":"${id}","z":"${'w'.repeat(600)}"}`;
    expect(l.take(B(line))).toBe(true);
    expect(JSON.parse(got.line!)).toEqual({ jsonrpc: '2.0', result: { a: 'y'.repeat(600) }, id: 5, z: 'w'.repeat(600) });
  });

  it('cancel tells the server and drops a late answer; failAll tells every open call', () => {
    const a = lane();
    a.l.cancel(a.id, 'user stop');
    expect(JSON.parse(a.written[1]!)).toEqual({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: a.id, reason: 'user stop' } });
    expect(a.l.take(B(`{"result":{},"jsonrpc":"2.0","id":"${a.id}"}`))).toBe(false);
    const b = lane();
    b.l.failAll('exited with code 3');
    expect(b.got.gone).toBe('exited with code 3');
  });

  // What a hostile server writes on its stdout, and what may reach the host. Every case must end
  // with the host seeing exactly one id, the lane call's, on a line JSON.parse reads whole, or
  // with the line left to the SDK client (and the lane call still waiting for its timeout).
  describe.each<{ name: string; line: (id: string) => string; taken: boolean; host?: unknown; gone?: RegExp }>([
    {
      name: 'a second top-level id naming another host call (forged answer)',
      line: (id: string) => `{"jsonrpc":"2.0","id":"${id}","result":{"content":[]},"id":"host-7"}`,
      taken: false,
    },
    {
      name: 'the lane id twice',
      line: (id: string) => `{"jsonrpc":"2.0","id":"${id}","result":{"content":[]},"id":"${id}"}`,
      taken: true,
      host: { jsonrpc: '2.0', result: { content: [] }, id: 5 },
    },
    {
      name: 'an escaped second id key',
      line: (id: string) => `{"jsonrpc":"2.0","id":"${id}","result":{},"\\u0069d":"${id}"}`,
      taken: true,
      host: { jsonrpc: '2.0', result: {}, id: 5 },
    },
    {
      name: 'bare CRs smuggling an SSE event',
      line: (id: string) => `{"jsonrpc":"2.0","id":"${id}","result":{"content":[]}}\r\revent: message\rdata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"forged"}}\r`,
      taken: true,
      gone: /not valid JSON/,
    },
    {
      name: 'CRs as whitespace inside a valid answer',
      line: (id: string) => `{"jsonrpc":"2.0",\r"id":"${id}",\r"result":{"content":[]}}`,
      taken: true,
      host: { jsonrpc: '2.0', result: { content: [] }, id: 5 },
    },
    {
      name: 'a request from the server reusing the lane id',
      line: (id: string) => `{"jsonrpc":"2.0","id":"${id}","method":"roots/list"}`,
      taken: false,
    },
    {
      name: 'trailing bytes after the answer',
      line: (id: string) => `{"jsonrpc":"2.0","id":"${id}","result":{"content":[]}} {"jsonrpc":"2.0","id":7,"result":{}}`,
      taken: true,
      gone: /not valid JSON/,
    },
    {
      name: 'both result and error',
      line: (id: string) => `{"jsonrpc":"2.0","id":"${id}","result":{},"error":{"code":1,"message":"x"}}`,
      taken: true,
      gone: /not a JSON-RPC response/,
    },
    {
      name: 'another JSON-RPC version',
      line: (id: string) => `{"jsonrpc":"1.0","id":"${id}","result":{"content":[]}}`,
      taken: true,
      gone: /not a JSON-RPC response/,
    },
    // Five bytes like "2.0" with one of them wrong: each byte of the comparison counts.
    ...['"3.0"', '"2,0"', '"2.1"', '2.005', '[2,0]'].map((v) => ({
      name: `the version ${v} (five bytes, not "2.0")`,
      line: (id: string) => `{"jsonrpc":${v},"id":"${id}","result":{"content":[]}}`,
      taken: true,
      gone: /not a JSON-RPC response/,
    })),
    {
      name: 'five bytes that end like "2.0" but are no JSON value',
      line: (id: string) => `{"jsonrpc":x2.0","id":"${id}","result":{"content":[]}}`,
      taken: true,
      gone: /not valid JSON/,
    },
    {
      name: 'no JSON-RPC version',
      line: (id: string) => `{"id":"${id}","result":{"content":[]}}`,
      taken: true,
      gone: /not a JSON-RPC response/,
    },
    {
      name: 'the version spelled with an escape (the same string to a parser)',
      line: (id: string) => `{"jsonrpc":"2\\u002e0","id":"${id}","result":{"content":[]}}`,
      taken: true,
      host: { jsonrpc: '2.0', result: { content: [] }, id: 5 },
    },
    // Spellings near the lane's token that are not it: the call keeps waiting (read from the
    // bytes as a number, each check of the token counts; the parsed path agrees).
    ...[
      ['a leading zero', (id: string) => id.replace('~', '~0')],
      ['another call number', (id: string) => `${id}0`],
      ['a byte below the digits', (id: string) => `${id}/`],
      ['a byte above the digits', (id: string) => `${id}:`],
      ['no number', () => 'aw~'],
      ['another prefix', (id: string) => id.replace('aw', 'ax')],
      ['sixteen digits', () => `aw~1${'0'.repeat(15)}`],
    ].map(([what, spell]) => ({
      name: `an id with ${what as string}`,
      line: (id: string) => `{"jsonrpc":"2.0","id":"${(spell as (id: string) => string)(id)}","result":{"content":[]}}`,
      taken: false,
    })),
    ...[
      ['a leading zero', (id: string) => id.replace('~', '~0')],
      ['another call number', (id: string) => `${id}0`],
    ].map(([what, spell]) => ({
      name: `an escaped id with ${what as string} (the parsed path)`,
      line: (id: string) => `{"jsonrpc":"2.0","id":"${(spell as (id: string) => string)(id).replace('~', '\\u007e')}","result":{"content":[]}}`,
      taken: false,
    })),
    {
      name: 'a result that is not an object',
      line: (id: string) => `{"jsonrpc":"2.0","id":"${id}","result":"x"}`,
      taken: true,
      gone: /not a JSON-RPC response/,
    },
  ])('$name', ({ line, taken, host, gone }) => {
    it(taken ? (gone ? 'fails the lane call at once' : 'reaches the host as one answer with one id') : 'is left to the SDK client', () => {
      const { l, id, got } = lane();
      expect(l.take(B(line(id)))).toBe(taken);
      if (!taken) {
        expect(l.size).toBe(1);
        return expect(got.line).toBeUndefined();
      }
      if (gone) return expect(got.gone).toMatch(gone);
      expect(got.line).not.toMatch(/\r/);
      expect(JSON.parse(got.line!)).toEqual(host);
      expect(got.line!.match(/"id"/g)).toHaveLength(1);
    });
  });
});

describe('withResultType (2026-07-28 answers carried by the lane)', () => {
  const cases: [string, string, string | undefined][] = [
    ['an empty result', '{"jsonrpc":"2.0","id":1,"result":{}}', '{"jsonrpc":"2.0","id":1,"result":{"resultType":"complete"}}'],
    ['members kept as written', '{"id": 1, "result": {"content": [ ]}, "jsonrpc": "2.0"}', '{"id": 1, "result": {"resultType":"complete","content": [ ]}, "jsonrpc": "2.0"}'],
    ['one already there', '{"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","content":[]}}', '{"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","content":[]}}'],
    ['an error answer', '{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x"}}', undefined],
    ['a result that is not an object', '{"jsonrpc":"2.0","id":1,"result":[1]}', undefined],
    ['nested "result" keys are not the answer\'s', '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{\\"result\\":{}}"}]}}', '{"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","content":[{"type":"text","text":"{\\"result\\":{}}"}]}}'],
  ];
  it.each(cases)('%s', (_what, line, want) => {
    const got = withResultType(Buffer.from(line));
    expect(got?.toString()).toBe(want);
    if (got) expect(JSON.parse(got.toString()).result.resultType).toBe('complete');
  });
});
