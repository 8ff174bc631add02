// The lane, host side: a transport-level shortcut for `tools/call`. A call to a downstream tool
// whose server is up over stdio skips the SDK on both sides: the request is re-addressed and
// written to the server with its arguments as the host wrote them, and the server's answer goes
// back as bytes with only the id swapped (./lane-wire.ts says when that is safe). The lane decides
// nothing: every call is a ForwardedCall of the call pipeline (./call.ts), exactly as on the SDK
// path, which owns the hint, the timeout, progress, routing and failures. Anything the lane does
// not take (our own tools, a server that is down or speaks HTTP, a request it cannot carry as
// bytes) goes the SDK path. Each front supplies a CallSink: where one call's messages go.
import { CallToolResultSchema, ResultSchema } from '@modelcontextprotocol/core';
import type { Server, JSONRPCMessage, LoggingMessageNotification, RequestId, ServerNotification } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import type { CallExtra } from '../server/sources.js';
import type { HostLink } from '../server/sources.js';
import { DATASET_META_KEY, WORKSPACE_META_KEY } from '../workspace/handle.js';
import type { WorkspaceSession } from '../workspace/session.js';
import type { CallSink, LaneCalls } from '../transports/lane-http.js';
import type { CallCaller, CallPipeline, CallTarget, ForwardedCall } from './call.js';
import type { LaneLink } from './downstream.js';
import { isEnvelopeKey, laneEnvelope } from './envelope.js';
import { splicedParts, type AnswerOf, type Insert, type LaneCall } from './lane-wire.js';
import { objectSpans, scanObject, valueOf, type Span } from './json-spans.js';
import { isJson } from './json-valid.js';
import { bigGarbage } from '../memory.js';
import { asCallRequest, type CallRequest } from './call-request.js';

export type { CallSink };

export interface LaneDeps {
  /** Where a tool's calls go, when the lane can carry them now (its server is up and speaks stdio). */
  target(name: string): { link: LaneLink; target: CallTarget } | undefined;
  pipeline: CallPipeline;
  server: Server;
  host: HostLink;
  /** The session calls file into; a function gives each call its own (stateless requests). */
  session: WorkspaceSession | (() => WorkspaceSession);
  log: Logger;
  /**
   * The host speaks MCP 2026-07-28: a call carries the request envelope (checked here, else the
   * SDK path answers), the envelope is not passed on, a host that can be asked things and a retry
   * of an input_required round are left to the SDK path, and the server's result gains
   * `resultType: "complete"`.
   */
  modern?: boolean;
}

const RESULT_TYPE = Buffer.from('"resultType":"complete"');
const RESULT_TYPE_COMMA = Buffer.from('"resultType":"complete",');

/**
 * Where a response line's `result` object gains `"resultType":"complete"` (2026-07-28 results
 * carry it): the offset just inside the object and the bytes to put there; 'present' when it has
 * one; undefined when the line has no result object to carry it.
 */
export function resultTypeInsert(line: Buffer, resultAt?: Span): Insert | 'present' | undefined {
  // Where the result sits, when the wire's scan already found it; else one scan of the line.
  const at = resultAt ?? objectSpans(line)?.get('result');
  if (!at || line[at.start] !== 0x7b) return undefined;
  const members = objectSpans(line, at.start);
  if (!members) return undefined;
  if (members.has('resultType')) return 'present';
  return { at: at.start + 1, bytes: members.size ? RESULT_TYPE_COMMA : RESULT_TYPE };
}

const COMMA = Buffer.from(',');
/** Lines from this size on are checked on their bytes, not decoded (readBig). */
const BIG_LINE = 64 * 1024;

/** An own, enumerable property, as JSON.parse makes it (a `__proto__` key included). */
function own(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/**
 * A big request line as the checks need it, without decoding its arguments: the line is valid
 * JSON (./json-valid.ts, equal to JSON.parse), its top level and its params scan strictly (every
 * key once), and every member but `arguments` is decoded; an object `arguments` stands as `{}`
 * (the caller decodes what it needs). Undefined where the small path would leave the line too.
 */
export function readBig(line: Buffer): { msg: Record<string, unknown>; params: Map<string, Span> } | undefined {
  if (!isJson(line)) return undefined;
  const scanned = scanObject(line, 0, 'params');
  const top = scanned?.members;
  const params = scanned?.inner;
  if (!top || !params) return undefined;
  const msg: Record<string, unknown> = {};
  for (const [k, at] of top) if (k !== 'params') own(msg, k, valueOf(line, at));
  const p: Record<string, unknown> = {};
  for (const [k, at] of params) own(p, k, k === 'arguments' && line[at.start] === 0x7b ? {} : valueOf(line, at));
  own(msg, 'params', p);
  return { msg, params };
}

/**
 * The members of the arguments object at `at` that are named in `keys` (the dataset hint reads
 * nothing else), decoded; all of it when its keys do not scan strictly (a key named twice).
 */
export function someMembers(line: Buffer, at: Span, keys: readonly string[]): Record<string, unknown> {
  const members = objectSpans(line, at.start);
  if (!members) return valueOf(line, at) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (members.has(k)) own(out, k, valueOf(line, members.get(k)));
  return out;
}
const TOOLS_CALL = Buffer.from('"tools/call"');

/**
 * The `_meta` a lane request carries to its server: the host's members in their order, but its
 * progress token (ours replaces it, last) and, from a 2026-07-28 host, its envelope (./envelope.ts).
 * One pass, every key kept as an own member (a `__proto__` key too, as JSON.parse made it).
 */
export function forwardedMeta(meta: Meta | undefined, modern: boolean | undefined, progressToken: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (meta) {
    for (const k of Object.keys(meta)) {
      if (k === 'progressToken' || (modern && isEnvelopeKey(k))) continue;
      if (k === '__proto__') own(out, k, meta[k]);
      else out[k] = meta[k];
    }
  }
  out.progressToken = progressToken;
  return out;
}

/**
 * forwardedMeta as JSON. Most calls carry no `_meta` but a progress token (and, from a 2026-07-28
 * host, the envelope): their `_meta` is ours alone, written without building it.
 */
export function metaJson(meta: Meta | undefined, modern: boolean | undefined, progressToken: string): string {
  if (meta) for (const k in meta) if (k !== 'progressToken' && !(modern && isEnvelopeKey(k))) return JSON.stringify(forwardedMeta(meta, modern, progressToken));
  return `{"progressToken":${JSON.stringify(progressToken)}}`;
}

/**
 * A lane call's CallExtra. A class, not an object literal: a literal with a getter is built by a
 * runtime call each time (a profile of small calls showed it), this shape is made once.
 */
class LaneExtra implements CallExtra {
  constructor(
    readonly requestId: RequestId,
    readonly _meta: Meta | undefined,
    readonly host: HostLink,
    private readonly server: Server,
    private readonly entry: { abort?: AbortController },
  ) {}

  /** Made only if something asks for it (a host-bound request): most calls never do. */
  get signal(): AbortSignal {
    return (this.entry.abort ??= new AbortController()).signal;
  }

  sendRequest(req: Parameters<CallExtra['sendRequest']>[0], opts?: Parameters<CallExtra['sendRequest']>[1]): ReturnType<CallExtra['sendRequest']> {
    return this.server.request(req, ResultSchema, { ...opts, relatedRequestId: this.requestId });
  }

  sendNotification(n: Parameters<CallExtra['sendNotification']>[0]): Promise<void> {
    return this.server.notification(n, { relatedRequestId: this.requestId });
  }
}

type Meta = { progressToken?: string | number } & Record<string, unknown>;

export class Lane implements LaneCalls {
  private readonly open = new Map<RequestId, LaneRun>();
  /** Each tool's request head, `{…"params":{"name":"<tool>"`, made once. */
  private readonly heads = new Map<string, Buffer>();

  constructor(private readonly d: LaneDeps) {}

  private headOf(tool: string): Buffer {
    let head = this.heads.get(tool);
    if (!head) this.heads.set(tool, (head = Buffer.from(`{"jsonrpc":"2.0","method":"tools/call","params":{"name":${JSON.stringify(tool)}`)));
    return head;
  }

  /**
   * Takes a `tools/call` request, as the bytes of its line, if the lane can carry it: returns the
   * host's request id, or undefined to leave it to the SDK path. The request is decoded to be
   * checked, but it is never re-encoded: its arguments cross as the host wrote them.
   */
  callRaw(line: Buffer, sink: CallSink, expect?: { name: string }): RequestId | undefined {
    // A cheap look first: most lines are not a call the lane can carry, and are left undecoded.
    // A native byte search rules out all but tool calls before any scan (an escaped spelling of
    // the method only costs such a line the SDK path).
    if (line.indexOf(TOOLS_CALL) === -1) return undefined;
    // Then exactly what the SDK path would accept: the whole line parsed and checked as its
    // schemas would (./call-request.ts), so the lane never forwards what the SDK would refuse
    // (trailing bytes, bad escapes, a missing jsonrpc, non-object arguments). A CR used as
    // whitespace stays on the SDK path, which re-serialises it away: some servers read CR as a
    // line break.
    if (line.indexOf(0x0d) !== -1) return undefined;
    // A big line is checked on its bytes and decoded only where small (readBig): its arguments
    // are never turned into strings unless the call is routed.
    const big = line.length >= BIG_LINE ? readBig(line) : undefined;
    let req: CallRequest | undefined;
    if (big) req = asCallRequest(big.msg);
    else if (line.length < BIG_LINE) {
      try {
        req = asCallRequest(JSON.parse(line.toString('utf8')));
      } catch {
        return undefined;
      }
    }
    if (!req || this.open.has(req.id)) return undefined;
    const { name, _meta: meta } = req.params;
    let args = req.params.arguments;
    if (expect && name !== expect.name) return undefined;
    const t = this.d.target(name);
    if (!t) return undefined;
    // The members' bytes, to forward them as written: a strict scan (every key once, so the bytes
    // are the values the parse kept).
    const members = big ? big.params : scanObject(line, 0, 'params')?.inner;
    if (!members) return undefined;
    const argsAt = members.get('arguments');
    if (big && argsAt) args = t.target.routes ? (valueOf(line, argsAt) as Record<string, unknown>) : someMembers(line, argsAt, this.d.pipeline.datasetArgs);
    const hostId = req.id;
    // A routed call that names its run by handle has the handle checked before the tool runs;
    // the SDK path does that (and a pass-through call ignores the handle).
    if (t.target.routes && (meta?.[WORKSPACE_META_KEY] !== undefined || meta?.[DATASET_META_KEY] !== undefined)) return undefined;
    // A task-augmented call makes a task the board must know (src/proxy/tasks.ts): the SDK path.
    if (members.has('task')) return undefined;
    if (this.d.modern && (!laneEnvelope(meta) || members.has('inputResponses') || members.has('requestState'))) return undefined;
    // In pieces: the arguments are views of the host's line, never copied (./lane-wire.ts
    // splicedParts). The id comes last, so the head is the same for every call of a tool.
    const head = this.headOf(t.target.tool);
    const modern = this.d.modern;
    const build = (laneId: string): Buffer[] => {
      const parts: Buffer[] = [head];
      // The other members (the arguments above all) cross as the host wrote them.
      for (const [k, at] of members) {
        if (k === 'name' || k === '_meta') continue;
        parts.push(COMMA, line.subarray(at.keyStart, at.end));
      }
      // Lane ids are "aw~N" (./lane-wire.ts): nothing in them needs escaping.
      parts.push(Buffer.from(`,"_meta":${metaJson(meta, modern, laneId)}},"id":"${laneId}"}\n`));
      return parts;
    };
    this.forward(hostId, t, args, meta as Meta | undefined, build, sink, line.length);
    return hostId;
  }

  /** The host gave up on a call of ours: the server is told, and no answer is sent (JSON-RPC cancellation). */
  cancelled(p: { requestId?: RequestId; reason?: string } | undefined): boolean {
    const o = p?.requestId !== undefined ? this.open.get(p.requestId) : undefined;
    if (!o) return false;
    o.abort?.abort(p?.reason);
    o.link.wire.cancel(o.laneId, p?.reason ?? 'cancelled by the host');
    o.call.end();
    o.finish();
    return true;
  }

  /** A `notifications/cancelled` line for one of our calls: handled (true), or left alone. */
  cancelledRaw(line: Buffer): boolean {
    // Cancellations are small; most lines are not one, and are ruled out by a byte search.
    if (!this.open.size || line.length > 4096 || line.indexOf('notifications/cancelled') === -1) return false;
    try {
      const msg = JSON.parse(line.toString('utf8')) as { method?: unknown; id?: unknown; params?: { requestId?: RequestId; reason?: string } };
      return msg.method === 'notifications/cancelled' && msg.id === undefined && this.cancelled(msg.params);
    } catch {
      return false;
    }
  }

  /** The sink of a call in flight, for messages the SDK server sends related to it. */
  sinkOf(requestId: RequestId | undefined): CallSink | undefined {
    return requestId === undefined ? undefined : this.open.get(requestId)?.sink;
  }

  private forward(hostId: RequestId, t: { link: LaneLink; target: CallTarget }, args: Record<string, unknown> | undefined, meta: Meta | undefined, build: (laneId: string) => Buffer[], sink: CallSink, bytes: number): void {
    const { session, pipeline } = this.d;
    const run = new LaneRun(this.d, this.open, hostId, t.link, sink, typeof session === 'function' ? session() : session, meta, bytes);
    // The request is written first: the server starts on it while the call's bookkeeping is done
    // here (nothing of the call can arrive before this turn ends).
    run.laneId = t.link.wire.requestRaw(build, run);
    run.begin(meta);
    run.call = pipeline.begin(t.target, args, run, () => run.timedOut());
    this.open.set(hostId, run);
  }
}

/**
 * One call on the lane, from the host's request to its answer: the pipeline's caller, the wire's
 * LaneCall and the lane's record of the call in flight, in one object (made as a dozen closures,
 * a call's garbage was a fifth of the lane's profile).
 */
class LaneRun implements LaneCall, CallCaller {
  laneId = '';
  call!: ForwardedCall;
  /** Made only if something asks for a signal (LaneExtra). */
  abort?: AbortController;
  readonly progressToken?: string | number;
  private end!: () => void;
  /** The server reported progress (see onResponse). */
  private progressed = false;

  constructor(
    private readonly d: LaneDeps,
    private readonly open: Map<RequestId, LaneRun>,
    private readonly hostId: RequestId,
    readonly link: LaneLink,
    readonly sink: CallSink,
    readonly session: WorkspaceSession,
    meta: Meta | undefined,
    /** The request line's size, for bigGarbage. */
    private readonly bytes: number,
  ) {
    this.progressToken = meta?.progressToken;
  }

  /** The server's own requests meanwhile go to this call's host (LaneLink.begin). */
  begin(meta: Meta | undefined): void {
    this.end = this.link.begin(new LaneExtra(this.hostId, meta, this.d.host, this.d.server, this));
  }

  notify(n: ServerNotification): Promise<void> {
    return this.sink.send({ jsonrpc: '2.0', ...n } as JSONRPCMessage);
  }

  /** Filtered by this session's own log level (the SDK keys levels by transport session). */
  log(params: LoggingMessageNotification['params']): Promise<void> {
    return this.d.server.sendLoggingMessage(params, this.d.server.transport?.sessionId);
  }

  /** The call is no longer in flight (answered, failed, cancelled). */
  finish(): void {
    this.end();
    this.open.delete(this.hostId);
  }

  timedOut(): void {
    this.link.wire.cancel(this.laneId, 'timed out');
    this.finish();
    void this.call.failed(this.call.timedOut()).then((result) => this.sink.answer({ jsonrpc: '2.0', id: this.hostId, result }));
  }

  onResponse(line: Buffer, idAt: number, idEnd: number, msg: AnswerOf): void {
    if (this.call.ended) return;
    // Nothing for the pipeline to decide: the answer goes now, before the call's bookkeeping,
    // with no promise of its own unless the host's stream asks to wait. A call that had progress
    // is answered a turn of microtasks later, as every call was before: the progress read
    // together with the answer then leaves in a write of its own, before it. The SDK's client
    // handles a notification a microtask late and forgets the call's progress handler when the
    // answer lands: progress in the same read as the answer is dropped there.
    const now = this.call.asWritten(msg.isResult) && !this.progressed;
    let written: Promise<void> | undefined;
    try {
      if (now) written = this.asWritten(msg, line, idAt, idEnd);
    } catch (e) {
      this.answered();
      return this.fail(e);
    }
    this.answered();
    if (!now) written = this.reply(msg, line, idAt, idEnd);
    if (!written) return this.released(line);
    written.then(
      () => this.released(line),
      (e: unknown) => this.fail(e),
    );
  }

  /** The server answered: the clock stops, the call is no longer in flight. */
  private answered(): void {
    this.call.end();
    this.finish();
    this.link.succeeded();
  }

  onProgress(p: Record<string, unknown>): void {
    this.progressed = true;
    this.call.progress(p);
  }

  onGone(why: string): void {
    if (!this.call.end()) return;
    this.finish();
    this.call.failed(this.link.gone(why)).then(
      (result) => this.sink.answer({ jsonrpc: '2.0', id: this.hostId, result }),
      (e: unknown) => this.fail(e),
    );
  }

  private released(line: Buffer): void {
    bigGarbage.released(this.bytes + line.length);
  }

  /** Never leave the caller without an answer, whatever went wrong after the server's. */
  private fail(e: unknown): void {
    this.d.log.error(`${this.call.target.exposed}: ${(e as Error)?.stack ?? String(e)}`);
    void this.call.error(e).then((err) => this.sink.answer({ jsonrpc: '2.0', id: this.hostId, error: { code: (err as { code?: number }).code ?? -32603, message: err.message } }));
  }

  /** The server answered: the pipeline says whether the host gets the routed result or the line as written. */
  private async reply(msg: AnswerOf, line: Buffer, idAt: number, idEnd: number): Promise<void> {
    // The SDK path validates a downstream's result before routing; so does the lane (only where
    // routing may use it: a pass-through answer is never decoded). An answer that is not a tool
    // result goes back as written, unrouted.
    const answer = this.call.asWritten(msg.isResult) ? undefined : msg.decode();
    const result = answer && 'result' in answer ? CallToolResultSchema.safeParse(answer.result) : undefined;
    const routed = await this.call.answer(result?.success ? result.data : undefined);
    if (routed) await this.sink.answer({ jsonrpc: '2.0', id: this.hostId, result: this.d.modern ? { ...routed, resultType: 'complete' } : routed });
    else await this.asWritten(msg, line, idAt, idEnd);
  }

  /** The answer as written, with the host's id, and (2026-07-28) the result's resultType: in pieces, never copied. */
  private asWritten(msg: AnswerOf, line: Buffer, idAt: number, idEnd: number): Promise<void> | undefined {
    const ins = this.d.modern && msg.isResult ? resultTypeInsert(line, msg.resultAt) : undefined;
    return this.sink.answerRaw(splicedParts(line, idAt, idEnd, this.hostId, typeof ins === 'object' ? ins : undefined));
  }
}

/** The stdio front's sink: everything goes out on the one stdout, in order. */
export function stdioSink(t: { send(m: JSONRPCMessage): Promise<void>; sendRaw(line: Buffer | readonly Buffer[]): Promise<void> | undefined }): CallSink {
  return { send: (m) => t.send(m), answerRaw: (line) => t.sendRaw(line), answer: (m) => t.send(m) };
}

/** What the stdio front's lane seam takes: lane calls, and cancellations of them. */
export function stdioLane(lane: Lane, sink: CallSink): (line: Buffer) => boolean {
  return (line) => lane.callRaw(line, sink) !== undefined || lane.cancelledRaw(line);
}
