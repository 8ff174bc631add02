// BigGarbage (src/memory.ts): a collection at the first quiet moment (a whole window without a
// call, so up to twice quietMs after the last one) after a big call or after
// many calls, never between back-to-back calls.
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BIG_MESSAGE, BigGarbage } from '../src/memory.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BigGarbage', () => {
  it('collects once, after the calls stop, when one was big', async () => {
    let runs = 0;
    const g = new BigGarbage(40, 1000, () => runs++);
    g.released(10);
    await sleep(130);
    expect(runs).toBe(0);
    g.released(BIG_MESSAGE);
    for (let i = 0; i < 5; i++) {
      await sleep(15);
      g.released(BIG_MESSAGE);
    }
    expect(runs).toBe(0);
    await sleep(130);
    expect(runs).toBe(1);
    await sleep(130);
    expect(runs).toBe(1);
  });

  it('collects after many small calls too, and counts again from there', async () => {
    let runs = 0;
    const g = new BigGarbage(30, 3, () => runs++);
    g.released(1);
    g.released(1);
    await sleep(100);
    expect(runs).toBe(0);
    g.released(1);
    await sleep(100);
    expect(runs).toBe(1);
    g.released(1);
    await sleep(100);
    expect(runs).toBe(1);
  });

  it('the default collector is V8\'s own, reached without a node flag', async () => {
    const g = new BigGarbage(1);
    g.released(BIG_MESSAGE);
    await sleep(50);
    // The collector is looked up on first use: by then the flag is set for fresh contexts.
    expect(vm.runInNewContext('typeof gc')).toBe('function');
  });
});
