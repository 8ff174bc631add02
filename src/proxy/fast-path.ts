// The host side of the pass-through lane. A `tools/call` for a downstream tool off the routing
// allowlist needs nothing from us but forwarding, so it skips the SDK on both sides: the request
// is re-addressed and written to the server, and its response line goes back to the host as bytes
// with only the id swapped. What the ordinary path does for such a call is kept: the caller's
// progress (re-tagged), cancellation, the per-server timeout reset by progress, a crash answered
// with an isError result carrying the server's stderr, the server's own requests routed to this
// host while the call runs, and a dataset named in the arguments made current before the answer.
// Anything else (our own tools, allowlisted tools, a server that is down or speaks HTTP) is left
// to the ordinary path. Each front supplies a CallSink: where this call's messages go.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import type { CallExtra } from '../server/app.js';
import type { HostLink } from '../server/sources.js';
import type { WorkspaceSession } from '../workspace/session.js';
import type { PassThrough } from './downstream.js';
import { failureResult, type DownstreamFailure } from './errors.js';
import { spliceId } from './fast-lane.js';
import { datasetHint } from './route-hook.js';
import type { CallSink, FastCalls } from '../transports/http-fast.js';

/**
 * Where one call's messages go (the stdio front writes them out; the HTTP front, on the call's
 * response): `send` for progress or the server's own request to the host, `answerRaw` for the
 * answer as the server wrote it (id already swapped), `answer` for one we made (a failure).
 */
export type { CallSink };

export interface FastPathDeps {
  /** The downstream and original name of a tool that needs no routing, if it can take the lane now. */
  target(name: string): { pass: PassThrough; original: string } | undefined;
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

type Params = { name?: unknown; arguments?: unknown; _meta?: { progressToken?: unknown } & Record<string, unknown> };

export class FastPath implements FastCalls {
  private readonly open = new Map<RequestId, Open>();

  constructor(private readonly d: FastPathDeps) {}

  /** Takes a `tools/call` request if it can go down the lane; false leaves it to the ordinary path. */
  call(msg: JSONRPCRequest, sink: CallSink): boolean {
    if (msg.method !== 'tools/call' || this.open.has(msg.id)) return false;
    const params = (msg.params ?? {}) as Params;
    if (typeof params.name !== 'string') return false;
    const t = this.d.target(params.name);
    if (!t) return false;
    this.forward(msg.id, params, t.pass, t.original, sink);
    return true;
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

  /** The sink of a call in flight, for messages the SDK server sends related to it. */
  sinkOf(requestId: RequestId | undefined): CallSink | undefined {
    return requestId === undefined ? undefined : this.open.get(requestId)?.sink;
  }

  private forward(hostId: RequestId, params: Params, pass: PassThrough, original: string, sink: CallSink): void {
    const { server, host, session } = this.d;
    const args = params.arguments as Record<string, unknown> | undefined;
    const hint = datasetHint(args, this.d.datasetArgs);
    // SPEC: a call naming a dataset makes its workspace current; settled before the answer.
    const hinted = hint === undefined ? undefined : session.ensure(hint).then(
      () => undefined,
      (e: unknown) => this.d.log.warn(`${String(params.name)}: could not open the workspace of "${hint}": ${(e as Error).message}`),
    );
    const { progressToken, ...meta } = params._meta ?? {};
    const entry: Open = { laneId: '', pass, sink, finish: () => settle() };
    // The signal is made only if something asks for it (a host-bound request): most calls never do.
    const extra = {
      get signal() {
        return (entry.abort ??= new AbortController()).signal;
      },
      requestId: hostId,
      _meta: params._meta,
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
    const reply = async (line: Buffer | undefined, failure?: DownstreamFailure): Promise<void> => {
      if (!settle()) return;
      await hinted;
      if (line) await sink.answerRaw(line);
      else if (failure) await sink.answer({ jsonrpc: '2.0', id: hostId, result: failureResult(failure) });
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        pass.lane.cancel(entry.laneId, 'timed out');
        void reply(undefined, pass.failure('timeout', ''));
      }, pass.timeoutMs);
      timer.unref();
    };
    this.open.set(hostId, entry);
    entry.laneId = pass.lane.request('tools/call', { ...params, name: original, _meta: meta }, {
      onResponse: (line, at, endAt) => {
        pass.succeeded();
        void reply(spliceId(line, at, endAt, hostId));
      },
      onProgress: (p) => {
        arm();
        if (progressToken !== undefined) void sink.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { ...p, progressToken } as never });
      },
      onGone: (why) => void reply(undefined, pass.failure('crashed', why)),
    });
    arm();
  }
}

/** The stdio front's sink: everything goes out on the one stdout, in order. */
export function stdioSink(t: { send(m: JSONRPCMessage): Promise<void>; sendRaw(line: Buffer): Promise<void> }): CallSink {
  return { send: (m) => t.send(m), answerRaw: (line) => t.sendRaw(line), answer: (m) => t.send(m) };
}

/** HostStdioTransport.intercept for a fast path: calls and their cancellations. */
export function stdioIntercept(fast: FastPath, sink: CallSink): (msg: JSONRPCMessage) => boolean {
  return (msg) => {
    if (!('method' in msg)) return false;
    if ('id' in msg) return fast.call(msg as JSONRPCRequest, sink);
    return msg.method === 'notifications/cancelled' && fast.cancelled(msg.params as { requestId?: RequestId; reason?: string });
  };
}
