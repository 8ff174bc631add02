// The host side of the pass-through lane. A `tools/call` for a downstream tool off the routing
// allowlist needs nothing from us but forwarding, so it skips the SDK on both sides: the request
// is re-addressed and written to the server, and its response line goes back to the host as bytes
// with only the id swapped. What the ordinary path does for such a call is kept: the caller's
// progress (re-tagged), cancellation, the per-server timeout reset by progress, a crash answered
// with an isError result carrying the server's stderr, the server's own requests routed to this
// host while the call runs, and a dataset named in the arguments made current before the answer.
// Anything else (our own tools, allowlisted tools, a server that is down or speaks HTTP) is left
// to the ordinary path. An allowlisted tool's call takes the lane too: its answer is then decoded
// once for the routing hook, and goes back as the server wrote it when nothing was routed.
// Each front supplies a CallSink: where this call's messages go.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, CallToolResultSchema, JSONRPCRequestSchema, type CallToolResult, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import type { CallExtra } from '../server/app.js';
import type { HostLink } from '../server/sources.js';
import type { WorkspaceSession } from '../workspace/session.js';
import type { PassThrough } from './downstream.js';
import { failureResult, type DownstreamFailure } from './errors.js';
import { spliceId, type LaneAnswer } from './fast-lane.js';
import { objectSpans, valueOf } from './json-spans.js';
import { LOGGER_NAME, routeResult, type HookDeps } from './route-hook.js';
import type { RunTarget } from '../workspace/types.js';
import type { CallSink, FastCalls } from '../transports/http-fast.js';

/**
 * Where one call's messages go (the stdio front writes them out; the HTTP front, on the call's
 * response): `send` for progress or the server's own request to the host, `answerRaw` for the
 * answer as the server wrote it (id already swapped), `answer` for one we made (a failure).
 */
export type { CallSink };

export interface LaneTarget {
  pass: PassThrough;
  original: string;
  /** Set for an allowlisted tool: its results go through the routing hook. */
  route?: { baseDir?: string };
}

export interface FastPathDeps {
  /** Where a tool's calls go when it can take the lane now (its server is up and speaks stdio). */
  target(name: string): LaneTarget | undefined;
  hook: HookDeps;
  server: Server;
  host: HostLink;
  session: WorkspaceSession;
  datasetArgs: readonly string[];
  log: Logger;
}

interface Open {
  laneId: string;
  pass: PassThrough;
  sink: CallSink;
  abort?: AbortController;
  finish(): void;
}

const COMMA = Buffer.from(',');
const TOOLS_CALL = Buffer.from('"tools/call"');

type Params = { _meta?: { progressToken?: unknown } & Record<string, unknown> };

export class FastPath implements FastCalls {
  private readonly open = new Map<RequestId, Open>();

  constructor(private readonly d: FastPathDeps) {}

  /**
   * Takes a `tools/call` request, as the bytes of its line, if it can go down the lane: returns
   * the host's request id, or undefined to leave it to the ordinary path. The request is decoded
   * to be checked, but it is never re-encoded: its arguments cross as the host wrote them.
   */
  callRaw(line: Buffer, sink: CallSink): RequestId | undefined {
    // A cheap look first: most lines are not a call to a lane tool, and are left alone undecoded.
    // A native byte search rules out all but tool calls before any scan (an escaped spelling of
    // the method only costs such a line the ordinary path).
    if (line.indexOf(TOOLS_CALL) === -1) return undefined;
    const top = objectSpans(line);
    if (!top || valueOf(line, top.get('method')) !== 'tools/call') return undefined;
    const paramsAt = top.get('params');
    const members = paramsAt && objectSpans(line, paramsAt.start);
    const peek = valueOf(line, members?.get('name'));
    const peeked = typeof peek === 'string' ? this.d.target(peek) : undefined;
    if (!members || !peeked) return undefined;
    // Then exactly what the ordinary path would accept: the whole line parsed and validated, so
    // the lane never forwards what the SDK would refuse (trailing bytes, bad escapes, NaN, a
    // missing jsonrpc, non-object arguments). A CR used as whitespace stays on the ordinary path,
    // which re-serialises it away: some servers read CR as a line break.
    if (line.indexOf(0x0d) !== -1) return undefined;
    let msg: unknown;
    try {
      msg = JSON.parse(line.toString('utf8'));
    } catch {
      return undefined;
    }
    const env = JSONRPCRequestSchema.safeParse(msg);
    const req = env.success ? CallToolRequestSchema.safeParse({ method: env.data.method, params: env.data.params }) : undefined;
    if (!env.success || !req?.success || this.open.has(env.data.id)) return undefined;
    const hostId = env.data.id;
    const { name, arguments: args, _meta: meta } = req.data.params;
    const t = name === peek ? peeked : this.d.target(name);
    if (!t) return undefined;
    const hint = this.d.datasetArgs.map((k) => args?.[k]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
    const routing = t.route && { ...t.route, tool: t.original, args };
    const build = (laneId: string): Buffer => {
      const parts: Buffer[] = [Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(laneId)},"method":"tools/call","params":{"name":${JSON.stringify(t.original)}`)];
      // The other members (the arguments above all) cross as the host wrote them.
      for (const [k, at] of members) {
        if (k === 'name' || k === '_meta') continue;
        parts.push(COMMA, line.subarray(at.keyStart, at.end));
      }
      const { progressToken: _hostToken, ...rest } = meta ?? {};
      parts.push(Buffer.from(`,"_meta":${JSON.stringify({ ...rest, progressToken: laneId })}}}\n`));
      return Buffer.concat(parts);
    };
    this.forward(hostId, name, hint, meta as Params['_meta'], t.pass, build, sink, routing);
    return hostId;
  }


  /** The host gave up on a call of ours: the server is told, and no answer is sent (JSON-RPC cancellation). */
  cancelled(p: { requestId?: RequestId; reason?: string } | undefined): boolean {
    const o = p?.requestId !== undefined ? this.open.get(p.requestId) : undefined;
    if (!o) return false;
    this.open.delete(p!.requestId!);
    o.abort?.abort(p?.reason);
    o.pass.lane.cancel(o.laneId, p?.reason ?? 'cancelled by the host');
    o.finish();
    return true;
  }

  /**
   * The routing hook on an allowlisted tool's answer. Undefined sends the line back as it came:
   * an error, an isError result, or nothing to route.
   */
  private async route(answer: LaneAnswer, r: Routing, hinted: Promise<RunTarget> | undefined): Promise<CallToolResult | undefined> {
    if (!('result' in answer)) return undefined;
    // The ordinary path validates a downstream's result before routing; so does the lane. An
    // answer that is not a tool result goes back as the server wrote it, unrouted.
    const parsed = CallToolResultSchema.safeParse(answer.result);
    if (!parsed.success) return undefined;
    const result = parsed.data;
    const { session, server, log } = this.d;
    const outcome = await routeResult(
      { tool: r.tool, args: r.args, result, run: async () => (await hinted?.catch(() => undefined)) ?? (await session.currentRun()) ?? (await session.ensure()).run, baseDir: r.baseDir },
      this.d.hook,
    );
    if (outcome.kind === 'pass') return undefined;
    if (outcome.message) {
      log.info(`${r.tool}: ${outcome.message}`);
      // Filtered by this session's own log level (the SDK keys levels by transport session).
      await server.sendLoggingMessage({ level: 'info', logger: LOGGER_NAME, data: outcome.message }, server.transport?.sessionId).catch(() => {});
    }
    return outcome.result;
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

  private forward(
    hostId: RequestId,
    tool: string,
    hint: string | undefined,
    meta: Params['_meta'],
    pass: PassThrough,
    build: (laneId: string) => Buffer,
    sink: CallSink,
    routing?: Routing,
  ): void {
    const { server, host, session } = this.d;
    // SPEC: a call naming a dataset makes its workspace current; settled before the answer.
    const run = hint === undefined ? undefined : session.ensure(hint).then((e) => e.run);
    const hinted = run?.then(
      () => undefined,
      (e: unknown) => this.d.log.warn(`${tool}: could not open the workspace of "${hint}": ${(e as Error).message}`),
    );
    const progressToken = meta?.progressToken;
    const entry: Open = { laneId: '', pass, sink, finish: () => settle() };
    // The signal is made only if something asks for it (a host-bound request): most calls never do.
    const extra = {
      get signal() {
        return (entry.abort ??= new AbortController()).signal;
      },
      requestId: hostId,
      _meta: meta,
      host,
      sendRequest: (req, schema, opts) => server.request(req, schema, { ...opts, relatedRequestId: hostId }),
      sendNotification: (n) => server.notification(n, { relatedRequestId: hostId }),
    } as CallExtra;
    const end = pass.begin(extra);
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const settle = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      end();
      this.open.delete(hostId);
      return true;
    };
    const reply = async (line: Buffer | undefined, answer?: LaneAnswer, failure?: DownstreamFailure): Promise<void> => {
      if (!settle()) return;
      await hinted;
      if (failure) return sink.answer({ jsonrpc: '2.0', id: hostId, result: failureResult(failure) });
      const routed = answer && routing ? await this.route(answer, routing, run) : undefined;
      if (routed) await sink.answer({ jsonrpc: '2.0', id: hostId, result: routed });
      else if (line) await sink.answerRaw(line);
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        pass.lane.cancel(entry.laneId, 'timed out');
        reply(undefined, undefined, pass.failure('timeout', '')).catch(() => {});
      }, pass.timeoutMs);
      timer.unref();
    };
    this.open.set(hostId, entry);
    entry.laneId = pass.lane.requestRaw(build, {
      onResponse: (line, at, endAt, answer) => {
        pass.succeeded();
        reply(spliceId(line, at, endAt, hostId), answer).catch((e: unknown) => {
          // Never leave the caller without an answer, whatever went wrong after the server's.
          this.d.log.error(`${tool}: ${(e as Error)?.stack ?? String(e)}`);
          void sink.answer({ jsonrpc: '2.0', id: hostId, error: { code: -32603, message: `proxy: ${(e as Error)?.message ?? String(e)}` } }).catch(() => {});
        });
      },
      onProgress: (p) => {
        arm();
        if (progressToken !== undefined) void sink.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { ...p, progressToken } as never });
      },
      onGone: (why) => void reply(undefined, undefined, pass.failure('crashed', why)).catch(() => {}),
    });
    arm();
  }
}

type Routing = NonNullable<LaneTarget['route']> & { tool: string; args: Record<string, unknown> | undefined };

/** The stdio front's sink: everything goes out on the one stdout, in order. */
export function stdioSink(t: { send(m: JSONRPCMessage): Promise<void>; sendRaw(line: Buffer): Promise<void> }): CallSink {
  return { send: (m) => t.send(m), answerRaw: (line) => t.sendRaw(line), answer: (m) => t.send(m) };
}

/** HostStdioTransport.interceptRaw for a fast path: lane calls, and cancellations of them. */
export function stdioIntercept(fast: FastPath, sink: CallSink): (line: Buffer) => boolean {
  return (line) => fast.callRaw(line, sink) !== undefined || fast.cancelledRaw(line);
}
