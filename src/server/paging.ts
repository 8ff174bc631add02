// One paginated list made of several sources' lists, each paginated on its own. The cursor the
// host gets names the source and that source's own cursor, so every source keeps its paging.
// Pure but for the fetchers it is given.
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

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
  throw new McpError(ErrorCode.InvalidParams, `invalid cursor: ${JSON.stringify(cursor)}`);
}

/** The page at `cursor`; an empty source is skipped within the same request. */
export async function pageAcross<T>(fetchers: readonly Fetcher<T>[], cursor: string | undefined): Promise<Page<T>> {
  if (fetchers.length === 0) return { items: [] };
  // One source: its cursors go through untouched, so the host sees exactly what it would directly.
  if (fetchers.length === 1) return fetchers[0]!(cursor);
  let { index, inner } = cursor === undefined ? { index: 0, inner: undefined as string | undefined } : decodeCursor(cursor, fetchers.length);
  for (;;) {
    const page = await fetchers[index]!(inner);
    const last = index === fetchers.length - 1;
    if (page.nextCursor !== undefined) return { items: page.items, nextCursor: encodeCursor(index, page.nextCursor) };
    if (page.items.length > 0 || last) return last ? { items: page.items } : { items: page.items, nextCursor: encodeCursor(index + 1, undefined) };
    index++;
    inner = undefined;
  }
}
