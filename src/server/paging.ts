// One paginated list made of several sources' lists, each paginated on its own. The cursor the
// host gets names the source and that source's own cursor, so every source keeps its paging.
// Pure but for the fetchers it is given.
import { protocolError } from './errors.js';
import { ProtocolErrorCode } from '@modelcontextprotocol/server';

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export type Fetcher<T> = (cursor: string | undefined) => Promise<Page<T>>;

export function encodeCursor(index: number, inner: string | undefined): string {
  return Buffer.from(JSON.stringify([index, inner ?? null])).toString('base64url');
}

export function decodeCursor(cursor: string, sources: number): { index: number; inner: string | undefined } {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  if (Array.isArray(v) && Number.isInteger(v[0]) && v[0] >= 0 && v[0] < sources && (v[1] === null || typeof v[1] === 'string')) {
    return { index: v[0] as number, inner: (v[1] as string | null) ?? undefined };
  }
  throw protocolError(ProtocolErrorCode.InvalidParams, `invalid cursor: ${JSON.stringify(cursor)}`);
}

/** Items gathered into one page from sources that finish, before the rest waits for a cursor. */
export const MERGE_UP_TO = 1000;

/**
 * The page at `cursor`. A source that ends within the page is followed by the next one in the
 * same request (up to MERGE_UP_TO items), so a host that lists once, without following cursors,
 * still sees every source's items when they are few; a source with more pages ends the page.
 */
export async function pageAcross<T>(fetchers: readonly Fetcher<T>[], cursor: string | undefined, mergeUpTo = MERGE_UP_TO): Promise<Page<T>> {
  if (fetchers.length === 0) return { items: [] };
  // One source: its cursors go through untouched, so the host sees exactly what it would directly.
  if (fetchers.length === 1) return fetchers[0]!(cursor);
  let { index, inner } = cursor === undefined ? { index: 0, inner: undefined as string | undefined } : decodeCursor(cursor, fetchers.length);
  const items: T[] = [];
  for (;;) {
    const page = await fetchers[index]!(inner);
    items.push(...page.items);
    if (page.nextCursor !== undefined) return { items, nextCursor: encodeCursor(index, page.nextCursor) };
    if (index === fetchers.length - 1) return { items };
    index++;
    inner = undefined;
    if (items.length >= mergeUpTo) return { items, nextCursor: encodeCursor(index, undefined) };
  }
}
