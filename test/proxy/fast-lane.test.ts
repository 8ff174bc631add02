import { describe, expect, it } from 'vitest';
import { RawLane, edgeId, spliceId } from '../../src/proxy/fast-lane.js';

const B = (s: string) => Buffer.from(s);

describe('edgeId: our id as the value of a top-level "id" near either end of a line', () => {
  it.each([
    ['{"result":{"content":[]},"jsonrpc":"2.0","id":"aw~12"}', 'aw~12'],
    ['{"jsonrpc":"2.0","id":"aw~3","result":{}}', 'aw~3'],
    ['{"jsonrpc": "2.0", "id" : "aw~4", "result": {}}', 'aw~4'],
    [`{"jsonrpc":"2.0","result":{"t":"${'x'.repeat(5000)}"},"id":"aw~5"}`, 'aw~5'],
    ['{"method":"notifications/progress","params":{"progressToken":"aw~6","progress":1},"jsonrpc":"2.0"}', undefined],
    ['{"result":{"t":"\\"id\\":\\"aw~7\\""},"jsonrpc":"2.0","id":1}', undefined],
    ['{"jsonrpc":"2.0","id":"aw~x1"}', undefined],
    ['{"jsonrpc":"2.0","id":7}', undefined],
    ['{"jsonrpc":"2.0","xid":"aw~8"}', undefined],
    // A nested "id" is never the message's id, at either end (a tool echoing its arguments).
    ['{"result":{"structuredContent":{"id":"aw~1"}},"jsonrpc":"2.0","id":"aw~2"}', 'aw~2'],
    ['{"result":{"structuredContent":{"id":"aw~1"}},"jsonrpc":"2.0","id":7}', undefined],
    ['{"jsonrpc":"2.0","result":{"x":{"id":"aw~3"}}}', undefined],
    ['{"jsonrpc": "2.0", "id": 9, "result": {"sc": {"id": "aw~4"}}}', undefined],
    ['{"result":{"a":{"id":"aw~5"}}}', undefined],
    ['{"id":"aw~6"}', 'aw~6'],
    ['{"result":{"t":"x\\"},"id":"aw~10"}', 'aw~10'],
  ])('%s → %s', (line, want) => {
    expect(edgeId(B(line))?.id).toBe(want);
  });

  it('splices the host id in place of ours, bytes around it untouched', () => {
    const line = B('{"jsonrpc": "2.0", "id": "aw~9", "result": {"a": "é"}}');
    const hit = edgeId(line)!;
    expect(spliceId(line, hit.at, hit.end, 'host-1').toString()).toBe('{"jsonrpc": "2.0", "id": "host-1", "result": {"a": "é"}}');
    expect(spliceId(line, hit.at, hit.end, 42).toString()).toBe('{"jsonrpc": "2.0", "id": 42, "result": {"a": "é"}}');
  });
});

describe('RawLane', () => {
  function lane() {
    const written: string[] = [];
    const l = new RawLane(async (s) => void written.push(s.toString()));
    const got: { line?: string; progress: unknown[]; gone?: string } = { progress: [] };
    const id = l.request('tools/call', { name: 'echo', _meta: { k: 1 } }, {
      onResponse: (line, at, end) => (got.line = spliceId(line, at, end, 5).toString()),
      onProgress: (p) => got.progress.push(p),
      onGone: (why) => (got.gone = why),
    });
    return { l, id, written, got };
  }

  it('writes the request with its id as progress token, keeping other _meta', () => {
    const { id, written } = lane();
    expect(JSON.parse(written[0]!)).toEqual({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', _meta: { k: 1, progressToken: id } } });
  });

  it('takes its progress and its response, and nothing else', () => {
    const { l, id, got } = lane();
    expect(l.take(B('{"jsonrpc":"2.0","id":0,"result":{}}'))).toBe(false);
    expect(l.take(B(`{"method":"notifications/progress","params":{"progressToken":"${id}","progress":1},"jsonrpc":"2.0"}`))).toBe(true);
    expect(l.take(B(`{"method":"notifications/progress","params":{"progressToken":"aw~999","progress":1},"jsonrpc":"2.0"}`))).toBe(false);
    expect(l.take(B(`{"result":{"ok":true},"jsonrpc":"2.0","id":"${id}"}`))).toBe(true);
    expect(got).toEqual({ progress: [{ progressToken: id, progress: 1 }], line: '{"result":{"ok":true},"jsonrpc":"2.0","id":5}' });
    expect(l.size).toBe(0);
    expect(l.take(B(`{"result":{},"jsonrpc":"2.0","id":"${id}"}`))).toBe(false);
  });

  it('falls back to a parse when the id sits in the middle of a long line', () => {
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
});
