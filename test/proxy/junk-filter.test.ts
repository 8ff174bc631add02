import { describe, expect, it } from 'vitest';
import { classifyLine, junkFilter } from '../../src/proxy/junk-filter.js';

const text = (v: ReturnType<typeof classifyLine>) => ('line' in v ? { ...v, line: v.line.toString('utf8') } : v);

describe('classifyLine', () => {
  it.each([
    ['{"jsonrpc":"2.0","id":1}', { kind: 'message', line: '{"jsonrpc":"2.0","id":1}' }],
    ['  {"a":1}', { kind: 'message', line: '{"a":1}' }],
    ['\uFEFF{"a":1}', { kind: 'message', line: '{"a":1}' }],
    ['Loading model...', { kind: 'junk', text: 'Loading model...' }],
    ['[1, 2]', { kind: 'junk', text: '[1, 2]' }],
    ['50%{"jsonrpc":"2.0","id":2}', { kind: 'salvaged', junk: '50%', line: '{"jsonrpc":"2.0","id":2}' }],
    ['\r 90% |####|{"result":{},"jsonrpc":"2.0","id":3}', { kind: 'salvaged', junk: '\r 90% |####|', line: '{"result":{},"jsonrpc":"2.0","id":3}' }],
  ])('%j', (line, want) => expect(text(classifyLine(Buffer.from(line)))).toEqual(want));
});

function run(chunks: (string | Buffer)[], maxLineBytes?: number): { lines: string[]; junk: string[] } {
  const junk: string[] = [];
  const lines: string[] = [];
  const f = junkFilter({ onJunk: (t) => junk.push(t), onLine: (l) => lines.push(l.toString('utf8')), maxLineBytes });
  for (const c of chunks) f.push(Buffer.from(c));
  f.end();
  return { lines, junk };
}

describe('junkFilter', () => {
  it('passes messages split across chunks and drops junk lines', () => {
    const r = run(['hello\n{"jsonrpc":', '"2.0","id":1}\n', '\n', 'tqdm 10%\r\n{"jsonrpc":"2.0","id":2}\r\n']);
    expect(r.lines).toEqual(['{"jsonrpc":"2.0","id":1}', '{"jsonrpc":"2.0","id":2}']);
    expect(r.junk).toEqual(['hello', 'tqdm 10%']);
  });

  it('keeps a multi-byte character split between chunks', () => {
    const bytes = Buffer.from('{"t":"é✓"}\n');
    expect(run([bytes.subarray(0, 7), bytes.subarray(7)]).lines).toEqual(['{"t":"é✓"}']);
  });

  it('passes a last line without a newline at the end of the stream', () => {
    expect(run(['{"a":1}']).lines).toEqual(['{"a":1}']);
  });

  it('drops a runaway line instead of buffering it forever, then carries on', () => {
    const r = run(['x'.repeat(50), 'y'.repeat(60), '\n{"ok":1}\n'], 100);
    expect(r.lines).toEqual(['{"ok":1}']);
    expect(r.junk).toHaveLength(1);
    expect(r.junk[0]).toMatch(/longer than/);
  });

  it('cuts a long junk line for the log', () => {
    expect(run(['z'.repeat(500) + '\n']).junk[0]).toMatch(/^z{200}… \(500 chars\)$/);
  });
});
