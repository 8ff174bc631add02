import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { classifyLine, JunkFilter } from '../../src/proxy/junk-filter.js';

describe('classifyLine', () => {
  it.each([
    ['{"jsonrpc":"2.0","id":1}', { kind: 'message', line: '{"jsonrpc":"2.0","id":1}' }],
    ['  {"a":1}\r', { kind: 'message', line: '{"a":1}' }],
    ['\uFEFF{"a":1}', { kind: 'message', line: '{"a":1}' }],
    ['Loading model...', { kind: 'junk', text: 'Loading model...' }],
    ['[1, 2]', { kind: 'junk', text: '[1, 2]' }],
    ['50%{"jsonrpc":"2.0","id":2}', { kind: 'salvaged', junk: '50%', line: '{"jsonrpc":"2.0","id":2}' }],
  ])('%j', (line, want) => expect(classifyLine(line)).toEqual(want));
});

async function run(chunks: (string | Buffer)[], maxLineChars?: number): Promise<{ lines: string[]; junk: string[] }> {
  const junk: string[] = [];
  const f = new JunkFilter({ onJunk: (t) => junk.push(t), maxLineChars });
  const lines: string[] = [];
  f.on('data', (l: string) => lines.push(l));
  await new Promise<void>((resolve, reject) => Readable.from(chunks).pipe(f).on('end', resolve).on('error', reject));
  return { lines, junk };
}

describe('JunkFilter', () => {
  it('passes messages split across chunks and drops junk lines', async () => {
    const r = await run(['hello\n{"jsonrpc":', '"2.0","id":1}\n', '\n', 'tqdm 10%\r\n{"jsonrpc":"2.0","id":2}\n']);
    expect(r.lines).toEqual(['{"jsonrpc":"2.0","id":1}', '{"jsonrpc":"2.0","id":2}']);
    expect(r.junk).toEqual(['hello', 'tqdm 10%']);
  });

  it('keeps a multi-byte character split between chunks', async () => {
    const bytes = Buffer.from('{"t":"é✓"}\n');
    const r = await run([bytes.subarray(0, 7), bytes.subarray(7)]);
    expect(r.lines).toEqual(['{"t":"é✓"}']);
  });

  it('passes a last line without a newline at the end of the stream', async () => {
    expect((await run(['{"a":1}'])).lines).toEqual(['{"a":1}']);
  });

  it('drops a runaway line instead of buffering it forever, then carries on', async () => {
    const r = await run(['x'.repeat(50), 'y'.repeat(60), '\n{"ok":1}\n'], 100);
    expect(r.lines).toEqual(['{"ok":1}']);
    expect(r.junk).toHaveLength(1);
    expect(r.junk[0]).toMatch(/longer than/);
  });
});
