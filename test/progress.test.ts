import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { terminalProgress } from '../src/progress.js';

function stream(isTTY: boolean) {
  const out: string[] = [];
  const s = Object.assign(new Writable({ write: (c, _e, cb) => (out.push(String(c)), cb()) }), { isTTY });
  return { s, out };
}

describe('terminal progress', () => {
  it('writes nothing unless stderr is a terminal', () => {
    expect(terminalProgress('x', stream(false).s)).toBeUndefined();
  });

  it('redraws one line, at most ten times a second, and clears it when done', () => {
    const { s, out } = stream(true);
    const p = terminalProgress('routing', s)!;
    p.show('copying a.bin (1 of 10 MiB)');
    p.show('copying a.bin (2 of 10 MiB)'); // within 100 ms: skipped
    p.done();
    expect(out).toEqual(['\r\x1b[Krouting: copying a.bin (1 of 10 MiB)', '\r\x1b[K']);
  });
});
