import { describe, expect, it } from 'vitest';
import { decodeCursor, pageAcross, type Fetcher } from '../../src/server/paging.js';

const paged = (items: string[], size: number): Fetcher<string> => async (c) => {
  const at = c ? Number(c) : 0;
  const next = at + size < items.length ? String(at + size) : undefined;
  return { items: items.slice(at, at + size), nextCursor: next };
};

async function all(fetchers: Fetcher<string>[]): Promise<{ items: string[]; pages: number }> {
  const items: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const p = await pageAcross(fetchers, cursor);
    items.push(...p.items);
    cursor = p.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  return { items, pages };
}

describe('pageAcross', () => {
  it('walks every source\'s pages in order', async () => {
    const r = await all([paged(['a1', 'a2', 'a3'], 2), paged([], 5), paged(['c1'], 5)]);
    expect(r.items).toEqual(['a1', 'a2', 'a3', 'c1']);
  });
  it('gathers sources that end within the page into one page; a source with more pages ends it', async () => {
    expect(await pageAcross([paged(['a1'], 5), paged(['b1', 'b2'], 5)], undefined)).toEqual({ items: ['a1', 'b1', 'b2'] });
    const first = await pageAcross([paged(['a1'], 5), paged(['b1', 'b2', 'b3'], 2), paged(['c1'], 5)], undefined);
    expect(first.items).toEqual(['a1', 'b1', 'b2']);
    expect(first.nextCursor).toBeDefined();
    expect(await pageAcross([paged(['a1', 'a2'], 5), paged(['b1'], 5)], undefined, 2)).toMatchObject({ items: ['a1', 'a2'], nextCursor: expect.any(String) });
  });
  it('passes a single source\'s cursors through untouched', async () => {
    expect(await pageAcross([paged(['a', 'b', 'c'], 2)], undefined)).toEqual({ items: ['a', 'b'], nextCursor: '2' });
    expect(await pageAcross([paged(['a', 'b', 'c'], 2)], '2')).toEqual({ items: ['c'] });
  });
  it('rejects a cursor it did not make', () => {
    expect(() => decodeCursor('garbage', 2)).toThrow(/invalid cursor/);
    expect(() => decodeCursor(Buffer.from('[5,null]').toString('base64url'), 2)).toThrow(/invalid cursor/);
  });
});
