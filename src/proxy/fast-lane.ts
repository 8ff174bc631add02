// The pass-through lane of one stdio downstream connection: requests we forward without the SDK
// client, and their answers taken off the child's stdout as bytes, before anything parses them.
// Our requests carry ids and progress tokens of the form "aw~N" (an id space the SDK client, which
// counts with numbers, never uses). A response names its id next to its first or last bytes in
// every JSON-RPC writer we know (`{"result":…,"jsonrpc":"2.0","id":…}` from the TypeScript SDK,
// `{"jsonrpc":"2.0","id":…,"result":…}` from Python's), so it is recognised from those bytes and
// handed on undecoded; anything odd falls back to a parse. Only our own ids are taken: every other
// line goes to the SDK client as before.

import { skipString, skipValue, skipWs } from './json-spans.js';

export interface LaneCall {
  /** The response line, with our id token (quotes included) at line[idAt, idEnd). */
  onResponse(line: Buffer, idAt: number, idEnd: number): void;
  onProgress(params: Record<string, unknown>): void;
  /** The connection is gone; no response will come. */
  onGone(reason: string): void;
}

const MARK = Buffer.from('"aw~');
const EDGE = 256;

export class RawLane {
  private readonly calls = new Map<string, LaneCall>();
  private seq = 0;

  constructor(private readonly write: (line: string | Buffer) => Promise<void>) {}

  get size(): number {
    return this.calls.size;
  }

  /** Sends a request on the lane; returns its id (also its progress token). */
  request(method: string, params: Record<string, unknown>, call: LaneCall): string {
    return this.requestRaw((id) => {
      const meta = { ...(params._meta as Record<string, unknown> | undefined), progressToken: id };
      return Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } })}\n`);
    }, call);
  }

  /** Sends a request the caller serialises itself (with this id and progress token, and its newline). */
  requestRaw(build: (id: string) => Buffer, call: LaneCall): string {
    const id = `aw~${++this.seq}`;
    this.calls.set(id, call);
    this.write(build(id)).catch((e: unknown) => {
      if (this.calls.delete(id)) call.onGone(`could not be written to (${(e as Error).message})`);
    });
    return id;
  }

  /** The caller gave up (cancelled, timed out): the server is told; a late answer is dropped. */
  cancel(id: string, reason: string): void {
    if (!this.calls.delete(id)) return;
    this.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })}\n`).catch(() => {});
  }

  /** Every open call learns the connection is gone. */
  failAll(reason: string): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) c.onGone(reason);
  }

  /** A stdout line, before parsing: true when it was ours. */
  take(line: Buffer): boolean {
    if (!this.calls.size) return false;
    const hit = edgeId(line);
    if (hit) {
      const call = this.calls.get(hit.id);
      if (call) {
        this.calls.delete(hit.id);
        call.onResponse(line, hit.at, hit.end);
        return true;
      }
    }
    if (line.indexOf(MARK) === -1) return false;
    return this.takeParsed(line);
  }

  /** A line that mentions one of our tokens away from its edges: progress, or an unusual layout. */
  private takeParsed(line: Buffer): boolean {
    let msg: { id?: unknown; method?: unknown; params?: { progressToken?: unknown } };
    try {
      msg = JSON.parse(line.toString('utf8'));
    } catch {
      return false;
    }
    if (msg.method === 'notifications/progress' && typeof msg.params?.progressToken === 'string') {
      const call = this.calls.get(msg.params.progressToken);
      if (!call) return false;
      call.onProgress(msg.params as Record<string, unknown>);
      return true;
    }
    if (msg.method === undefined && typeof msg.id === 'string' && this.calls.has(msg.id)) {
      const call = this.calls.get(msg.id)!;
      this.calls.delete(msg.id);
      // Re-serialised with the id last, so the caller can splice it like any other.
      const { id, ...rest } = msg;
      const head = Buffer.from(`${JSON.stringify(rest).slice(0, -1)},"id":`);
      const tok = Buffer.from(JSON.stringify(id));
      call.onResponse(Buffer.concat([head, tok, Buffer.from('}')]), head.length, head.length + tok.length);
      return true;
    }
    return false;
  }
}

/**
 * Our id token as the value of the top-level `"id"` member, found without decoding the line:
 * either the first members of the object within its first bytes (`{"jsonrpc":"2.0","id":"aw~12",…`,
 * walked member by member, so a nested `id` is never taken), or its last member (`…,"id":"aw~12"}`
 * with nothing after it but the top-level object's closing brace). A progress notification does
 * not match: its token sits under `progressToken`.
 */
export function edgeId(line: Buffer): { id: string; at: number; end: number } | undefined {
  return headId(line) ?? tailId(line);
}

function ours(line: Buffer, at: number, end: number): { id: string; at: number; end: number } | undefined {
  if (line[at] !== 0x22 || end - at > 26) return undefined;
  const id = line.toString('latin1', at + 1, end - 1);
  return /^aw~\d+$/.test(id) ? { id, at, end } : undefined;
}

function headId(line: Buffer): { id: string; at: number; end: number } | undefined {
  const win = line.subarray(0, EDGE);
  let i = skipWs(win, 0);
  if (win[i] !== 0x7b) return undefined;
  i = skipWs(win, i + 1);
  while (i < win.length && win[i] === 0x22) {
    const keyEnd = skipString(win, i);
    if (keyEnd === -1) return undefined;
    const key = win.toString('latin1', i, keyEnd);
    i = skipWs(win, keyEnd);
    if (win[i] !== 0x3a) return undefined;
    const vStart = skipWs(win, i + 1);
    const vEnd = skipValue(win, vStart);
    if (vEnd === -1) return undefined;
    if (key === '"id"') return ours(line, vStart, vEnd);
    i = skipWs(win, vEnd);
    if (win[i] !== 0x2c) return undefined;
    i = skipWs(win, i + 1);
  }
  return undefined;
}

function tailId(line: Buffer): { id: string; at: number; end: number } | undefined {
  const ws = (c: number | undefined) => c === 0x20 || c === 0x09;
  let k = line.length - 1;
  while (k >= 0 && ws(line[k])) k--;
  if (line[k] !== 0x7d) return undefined;
  k--;
  while (k >= 0 && ws(line[k])) k--;
  if (line[k] !== 0x22) return undefined;
  const end = k + 1;
  const at = line.lastIndexOf(MARK, k - 1);
  if (at === -1 || end - at > 26) return undefined;
  k = at - 1;
  while (k >= 0 && ws(line[k])) k--;
  if (line[k] !== 0x3a) return undefined;
  k--;
  while (k >= 0 && ws(line[k])) k--;
  if (line.toString('latin1', k - 3, k + 1) !== '"id"') return undefined;
  k -= 4;
  while (k >= 0 && ws(line[k])) k--;
  // The member before it ends with a comma (or the object has only this member).
  if (line[k] !== 0x2c && line[k] !== 0x7b) return undefined;
  return ours(line, at, end);
}

/** The response line with our id token replaced by the host's id (JSON). */
export function spliceId(line: Buffer, at: number, end: number, hostId: string | number): Buffer {
  return Buffer.concat([line.subarray(0, at), Buffer.from(JSON.stringify(hostId)), line.subarray(end)]);
}
