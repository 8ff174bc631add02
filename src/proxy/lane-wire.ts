// The lane's wire to one stdio downstream: tool calls we forward without the SDK client, and
// their answers taken off the child's stdout before the SDK client sees them (the host side of
// the lane is ./lane.ts; what a call means is decided by the call pipeline, ./call.ts). Our
// requests carry ids and progress tokens of the form "aw~N" (an id space the SDK client, which
// counts with numbers, never uses); a line that does not mention such a token goes to the SDK
// client untouched, found by a native byte search.
//
// A line that does mention one is taken only as what every parser after us will read it as. An
// answer is a response (no `method`; `result` or `error`) whose top-level `id` is one of our open
// calls. It crosses as the server wrote it, with only the id swapped, when a strict scan of its
// top level (every key once: JSON.parse keeps the last of duplicate keys, so a second `id` could
// otherwise answer another host call) finds that very id, an object `result` or a well-formed
// `error`, nothing after the closing brace, and no CR anywhere (a bare CR ends an SSE line and
// some readers' lines: it could smuggle in a message). Such an answer is not decoded at all unless
// the routing hook asks for it. Any other line naming our token is parsed once: an answer is then
// re-encoded from the parse, a line that is not JSON fails its call. A request from the server
// that happens to carry one of our ids is not an answer: it goes to the SDK client, whose request
// ids are its own.
import { isObject } from './call-request.js';
import { scanObject, skipWs, valueOf, type Span } from './json-spans.js';

export interface LaneCall {
  /**
   * The answer: the line with our id token (quotes included) at line[idAt, idEnd), safe to send
   * on once that token is swapped, and the message (decoded when asked, for the routing hook).
   */
  onResponse(line: Buffer, idAt: number, idEnd: number, msg: AnswerOf): void;
  onProgress(params: Record<string, unknown>): void;
  /** The connection is gone, or the server answered with something that is not an answer; no response will come. */
  onGone(reason: string): void;
}

/** A JSON-RPC response as the lane parsed it. */
export type LaneAnswer = { jsonrpc: '2.0'; id: string } & ({ result: Record<string, unknown> } | { error: { code: number; message: string; data?: unknown } });

/** An answer: whether it is a result, and the whole message, decoded only if asked for. */
export interface AnswerOf {
  isResult: boolean;
  decode(): LaneAnswer;
  /** Where its `result` sits in the line, when the line crossed as written (a strict scan found it). */
  resultAt?: Span;
}

const decoded = (m: LaneAnswer): AnswerOf => ({ isResult: 'result' in m, decode: () => m });

/** An answer that crosses as written: decoded only if the routing hook asks. */
class Scanned implements AnswerOf {
  constructor(
    private readonly line: Buffer,
    readonly isResult: boolean,
    readonly resultAt: Span | undefined,
  ) {}

  decode(): LaneAnswer {
    return JSON.parse(this.line.toString('utf8')) as LaneAnswer;
  }
}

const MARK = Buffer.from('"aw~');
/** Our token: "aw~" and a call number (1 to 15 digits, no leading zero: "aw~01" is not call 1). */
const OURS = /^aw~[1-9]\d{0,14}$/;
const CR = 0x0d;

export class LaneWire {
  /** Open calls by number (the N of their token): a number found in the bytes costs no string. */
  private readonly calls = new Map<number, LaneCall>();
  private seq = 0;

  /** `write` returns undefined when the line was written at once, else a promise of the write. */
  constructor(private readonly write: (line: string | Buffer | readonly Buffer[]) => Promise<void> | undefined) {}

  get size(): number {
    return this.calls.size;
  }

  /** Sends a request the caller serialises itself (with this id and progress token, and its newline; in pieces, written in order); returns the id. */
  requestRaw(build: (id: string) => Buffer | readonly Buffer[], call: LaneCall): string {
    const n = ++this.seq;
    const id = `aw~${n}`;
    this.calls.set(n, call);
    this.write(build(id))?.catch((e: unknown) => {
      if (this.calls.delete(n)) call.onGone(`could not be written to (${(e as Error).message})`);
    });
    return id;
  }

  /** The caller gave up (cancelled, timed out): the server is told; a late answer is dropped. */
  cancel(id: string, reason: string): void {
    const n = seqOf(id);
    if (n === undefined || !this.calls.delete(n)) return;
    this.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })}\n`)?.catch(() => {});
  }

  /** Every open call learns the connection is gone. */
  failAll(reason: string): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) c.onGone(reason);
  }

  /** A stdout line, before the SDK client parses it: true when it was ours. */
  take(line: Buffer): boolean {
    if (!this.calls.size || line.indexOf(MARK) === -1) return false;
    return this.takeScanned(line) || this.takeParsed(line);
  }

  /** An answer that may cross as written: found by a strict scan of its top level, never decoded here. */
  private takeScanned(line: Buffer): boolean {
    if (line.indexOf(CR) !== -1) return false;
    const top = scanObject(line);
    if (!top || top.members.has('method') || skipWs(line, top.end) !== line.length) return false;
    const idAt = top.members.get('id');
    const n = idAt && ourToken(line, idAt);
    const call = n === undefined ? undefined : this.calls.get(n);
    const isResult = call && answerShape(line, top.members);
    if (!call || isResult === undefined) return false;
    this.calls.delete(n!);
    call.onResponse(line, idAt!.start, idAt!.end, new Scanned(line, isResult, top.members.get('result')));
    return true;
  }

  /** A line that names our token but did not scan as an answer that may cross as written: parsed once. */
  private takeParsed(line: Buffer): boolean {
    let msg: unknown;
    try {
      msg = JSON.parse(line.toString('utf8'));
    } catch {
      return this.malformed(line);
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return false;
    const m = msg as { id?: unknown; method?: unknown; params?: { progressToken?: unknown } };
    if (m.method === 'notifications/progress' && m.id === undefined) {
      const n = seqOf(m.params?.progressToken);
      const call = n === undefined ? undefined : this.calls.get(n);
      if (!call) return false;
      call.onProgress(m.params!);
      return true;
    }
    const n = m.method === undefined ? seqOf(m.id) : undefined;
    const call = n === undefined ? undefined : this.calls.get(n);
    if (!call) return false;
    this.calls.delete(n!);
    const answer = asAnswer(msg);
    if (!answer) {
      call.onGone(`answered tools/call with something that is not a JSON-RPC response`);
      return true;
    }
    // Re-encoded with the id last, so the caller splices it like any other.
    const { id, ...rest } = answer;
    const head = Buffer.from(`${JSON.stringify(rest).slice(0, -1)},"id":`);
    const tok = Buffer.from(JSON.stringify(id));
    call.onResponse(Buffer.concat([head, tok, Buffer.from('}')]), head.length, head.length + tok.length, decoded(answer));
    return true;
  }

  /** A line that is not JSON but names one of our calls as its top-level id: that call gets an error, not a wait. */
  private malformed(line: Buffer): boolean {
    const top = scanObject(line)?.members;
    const id = top && valueOf(line, top.get('id'));
    const n = seqOf(id);
    const call = n === undefined ? undefined : this.calls.get(n);
    if (!call) return false;
    this.calls.delete(n!);
    call.onGone('answered tools/call with a line that is not valid JSON');
    return true;
  }
}

/** The message as a response, or undefined: exactly one of result (an object) and error ({code, message}). */
function asAnswer(msg: object): LaneAnswer | undefined {
  const m = msg as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return undefined;
  const hasResult = 'result' in m;
  if (hasResult === 'error' in m) return undefined;
  if (hasResult) return isObject(m.result) ? (m as LaneAnswer) : undefined;
  const e = m.error as Record<string, unknown> | undefined;
  return isObject(e) && Number.isInteger(e.code) && typeof e.message === 'string' ? (m as LaneAnswer) : undefined;
}

/** The call number of one of our tokens, given as a string (progress tokens and ids of a parsed line). */
function seqOf(id: unknown): number | undefined {
  return typeof id === 'string' && OURS.test(id) ? Number(id.slice(3)) : undefined;
}

/**
 * The call number, when the span holds exactly `"aw~N"` as OURS spells it (an escaped spelling is
 * parsed instead): read from the bytes, no string made.
 */
function ourToken(line: Buffer, at: Span): number | undefined {
  const s = at.start;
  const close = at.end - 1;
  // A quote, "aw~", 1 to 15 digits without a leading zero, a quote.
  if (close - s < 5 || close - s > 19 || line[s] !== 0x22 || line[close] !== 0x22) return undefined;
  if (line[s + 1] !== 0x61 || line[s + 2] !== 0x77 || line[s + 3] !== 0x7e || line[s + 4] === 0x30) return undefined;
  let n = 0;
  for (let i = s + 4; i < close; i++) {
    const d = line[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n;
}

/** The member is the string "2.0" as written (an escaped spelling is not, and goes the parsed way); five bytes compared here cost less than a native call. */
const isVersion = (line: Buffer, at: Span | undefined): boolean => {
  if (!at || at.end - at.start !== 5) return false;
  const i = at.start;
  return line[i] === 0x22 && line[i + 1] === 0x32 && line[i + 2] === 0x2e && line[i + 3] === 0x30 && line[i + 4] === 0x22;
};

/**
 * Whether the scanned members are a response: true for a result (an object), false for an error
 * ({code: integer, message: string}), undefined for anything else (both, neither, a wrong version).
 */
function answerShape(line: Buffer, m: Map<string, Span>): boolean | undefined {
  const result = m.get('result');
  const error = m.get('error');
  if (!result === !error || !isVersion(line, m.get('jsonrpc'))) return undefined;
  if (result) return line[result.start] === 0x7b ? true : undefined;
  const e = valueOf(line, error) as { code?: unknown; message?: unknown } | undefined;
  return isObject(e) && Number.isInteger(e.code) && typeof e.message === 'string' ? false : undefined;
}

/**
 * Where the top-level `id` holding our token sits, when the line may cross as written: its top
 * level scans strictly (every key once) to an `id` that is that very token, and it holds no CR.
 */
export function idSpan(line: Buffer, id: string): { start: number; end: number } | undefined {
  if (!OURS.test(id) || line.indexOf(CR) !== -1) return undefined;
  const top = scanObject(line);
  const span = top?.members.get('id');
  if (!span || skipWs(line, top!.end) !== line.length || ourToken(line, span) !== seqOf(id)) return undefined;
  return span;
}

/**
 * The response line with our id token replaced by the host's id (JSON), as the pieces to write
 * one after the other: views of the server's line around the host's id, so a big answer is not
 * copied (a fresh megabyte costs its page faults: more than the copy itself).
 */
export function splicedParts(line: Buffer, at: number, end: number, hostId: string | number, insert?: Insert): Buffer[] {
  const id = Buffer.from(JSON.stringify(hostId));
  if (!insert) return [line.subarray(0, at), id, line.subarray(end)];
  // Bytes to add elsewhere in the line (never inside the id's token).
  if (insert.at <= at) return [line.subarray(0, insert.at), insert.bytes, line.subarray(insert.at, at), id, line.subarray(end)];
  if (insert.at < end) throw new Error('an insertion inside the id token');
  return [line.subarray(0, at), id, line.subarray(end, insert.at), insert.bytes, line.subarray(insert.at)];
}

/** Bytes to put into a line at an offset (of the line as read). */
export interface Insert {
  at: number;
  bytes: Buffer;
}
