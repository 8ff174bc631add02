// The host side of the pass-through lane (stdio front only). A `tools/call` for a downstream tool
// off the routing allowlist needs nothing from us but forwarding, so it skips the SDK on both
// sides: the request is re-addressed and written to the server, and its response line goes back
// to the host as bytes with only the id swapped. What the ordinary path does for such a call is
// kept: the caller's progress (re-tagged), cancellation, the per-server timeout reset by progress,
// a crash answered with an isError result carrying the server's stderr, the server's own requests
// routed to this host while the call runs, and a dataset named in the arguments made current
// before the answer. Anything else (our own tools, allowlisted tools, a server that is down or
// speaks HTTP) returns false and takes the ordinary path.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import type { CallExtra } from '../server/app.js';
import type { HostLink } from '../server/sources.js';
import type { HostStdioTransport } from '../transports/host-stdio.js';
import type { WorkspaceSession } from '../workspace/session.js';
import type { PassThrough } from './downstream.js';
import { failureResult, type DownstreamFailure } from './errors.js';
import { spliceId } from './fast-lane.js';
import { datasetHint } from './route-hook.js';

export interface FastPathDeps {
  /** The downstream and original name of a tool that needs no routing, if it can take the lane now. */
  target(name: string): { pass: PassThrough; original: string } | undefined;
  transport: HostStdioTransport;
  server: Server;
  host: HostLink;
  session: WorkspaceSession;
  datasetArgs: readonly string[];
  log: Logger;
}

interface Open {
  laneId: string;
  pass: PassThrough;
  abort: AbortController;
  finish(): void;
}

type Params = { name?: unknown; arguments?: unknown; _meta?: { progressToken?: unknown } & Record<string, unknown> };

export class FastPath {
  private readonly open = new Map<RequestId, Open>();

  constructor(private readonly d: FastPathDeps) {}

  /** HostStdioTransport.intercept: true when the message was handled here. */
  take = (msg: JSONRPCMessage): boolean => {
    if (!('method' in msg)) return false;
    if (msg.method === 'notifications/cancelled' && !('id' in msg)) return this.cancelled(msg.params as { requestId?: RequestId; reason?: string });
    if (msg.method !== 'tools/call' || !('id' in msg)) return false;
    const params = (msg.params ?? {}) as Params;
    if (typeof params.name !== 'string') return false;
    const t = this.d.target(params.name);
    if (!t) return false;
    this.forward(msg.id, params, t.pass, t.original);
    return true;
  };

  private forward(hostId: RequestId, params: Params, pass: PassThrough, original: string): void {
    const { transport, server, host, session } = this.d;
    const args = params.arguments as Record<string, unknown> | undefined;
    const hint = datasetHint(args, this.d.datasetArgs);
    // SPEC: a call naming a dataset makes its workspace current; settled before the answer.
    const hinted = hint === undefined ? undefined : session.ensure(hint).then(
      () => undefined,
      (e: unknown) => this.d.log.warn(`${String(params.name)}: could not open the workspace of "${hint}": ${(e as Error).message}`),
    );
    const { progressToken, ...meta } = params._meta ?? {};
    const abort = new AbortController();
    const extra = {
      signal: abort.signal,
      requestId: hostId,
      _meta: params._meta,
      host,
      sendRequest: (req, schema, opts) => server.request(req, schema, { ...opts, relatedRequestId: hostId }),
      sendNotification: (n) => server.notification(n, { relatedRequestId: hostId }),
    } as CallExtra;
    const end = pass.begin(extra);
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        pass.lane.cancel(laneId, 'timed out');
        void reply(undefined, pass.failure('timeout', ''));
      }, pass.timeoutMs);
      timer.unref();
    };
    let done = false;
    const reply = async (line: Buffer | undefined, failure?: DownstreamFailure): Promise<void> => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      end();
      this.open.delete(hostId);
      await hinted;
      if (line) await transport.sendRaw(line);
      else if (failure) await transport.send({ jsonrpc: '2.0', id: hostId, result: failureResult(failure) });
    };
    const laneId = pass.lane.request('tools/call', { ...params, name: original, _meta: meta }, {
      onResponse: (line, at, endAt) => {
        pass.succeeded();
        void reply(spliceId(line, at, endAt, hostId));
      },
      onProgress: (p) => {
        arm();
        if (progressToken !== undefined) void transport.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { ...p, progressToken } as never });
      },
      onGone: (why) => void reply(undefined, pass.failure('crashed', why)),
    });
    this.open.set(hostId, {
      laneId,
      pass,
      abort,
      finish: () => {
        done = true;
        clearTimeout(timer);
        end();
      },
    });
    arm();
  }

  /** The host gave up on a call of ours: the server is told, and no answer is sent (JSON-RPC cancellation). */
  private cancelled(p: { requestId?: RequestId; reason?: string } | undefined): boolean {
    const o = p?.requestId !== undefined ? this.open.get(p.requestId) : undefined;
    if (!o) return false;
    this.open.delete(p!.requestId!);
    o.abort.abort(p?.reason);
    o.pass.lane.cancel(o.laneId, p?.reason ?? 'cancelled by the host');
    o.finish();
    return true;
  }
}
