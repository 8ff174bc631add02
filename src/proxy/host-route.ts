// Which host a downstream server's own requests (sampling, elicitation, roots) go to, and sending
// them there. JSON-RPC does not say which of our calls a server's request belongs to, so:
// 1. while host calls to that server are in flight, the newest live one: the request goes through
//    that call's `extra.sendRequest`, so it reaches that call's session and, over Streamable HTTP,
//    travels on the call's own stream, related to it (with concurrent calls from several sessions
//    the newest is a guess; one session's calls all reach the right host);
// 2. otherwise the session that last talked to the server (made a call, became ready first, or
//    changed its roots);
// 3. otherwise nobody: the server gets a JSON-RPC error saying so.
// A request that names one of the server's tasks (`io.modelcontextprotocol/related-task`) goes to
// the session that made the task instead, on a call of its own when one is in flight, and names
// the task by the id that session knows (ours, src/server/tasks.ts).
// Cancellation crosses both ways: the server cancelling its request, or the host cancelling the call
// it belongs to, cancels the request to the host.
import { getSupportedElicitationModes, ProtocolErrorCode } from '@modelcontextprotocol/client';
import type { ClientCapabilities, CreateMessageRequest, ElicitRequest, ListRootsRequest, Result, ClientContext } from '@modelcontextprotocol/client';
import type { CallExtra } from '../server/sources.js';
import type { HostLink, HostRequestOptions } from '../server/sources.js';
import { toProtocolError, protocolError } from '../server/errors.js';
import { RELATED_TASK_META_KEY } from '../server/tasks.js';

export type HostBoundRequest = CreateMessageRequest | ElicitRequest | ListRootsRequest;
export type DownstreamExtra = ClientContext;
type Route = { kind: 'call'; extra: CallExtra; host?: HostLink } | { kind: 'session'; host: HostLink };

export class HostRoutes {
  /** Host requests to the server now in flight, oldest first. */
  private readonly calls = new Set<{ extra: CallExtra }>();
  private last?: HostLink;
  /** The session that owns one of the server's tasks, by the server's id, and our id for it. */
  forTask?: (taskId: string) => { host: HostLink; id: string } | undefined;

  /** A host's request to the server starts (and counts as talking to it); returns its end. */
  begin(caller: CallExtra | undefined): () => void {
    if (!caller) return () => {};
    if (caller.host) this.last = caller.host;
    const entry = { extra: caller };
    this.calls.add(entry);
    return () => this.calls.delete(entry);
  }

  /** Makes `host` the session requests go to outside calls; unless `always`, only when there is none alive. Says whether it did. */
  adopt(host: HostLink, always: boolean): boolean {
    if (!always && this.last?.isOpen()) return false;
    this.last = host;
    return true;
  }

  pick(host?: HostLink): Route | undefined {
    if (host) {
      const own = [...this.calls].reverse().find((c) => !c.extra.signal.aborted && c.extra.host === host);
      if (own) return { kind: 'call', extra: own.extra, host };
      return host.isOpen() ? { kind: 'session', host } : undefined;
    }
    const live = [...this.calls].reverse().find((c) => !c.extra.signal.aborted);
    if (live) return { kind: 'call', extra: live.extra, host: live.extra.host };
    if (this.last?.isOpen()) return { kind: 'session', host: this.last };
    return undefined;
  }
}

export interface AskOptions {
  server: string;
  /** Backstop in ms; the server's own timeout, or its cancelling, usually comes first. */
  timeoutMs: number;
}

/** Sends a downstream's request to the host its route names; the host's answer or error comes back unchanged. */
export async function askHost(routes: HostRoutes, req: HostBoundRequest, dsExtra: DownstreamExtra, o: AskOptions): Promise<Result> {
  const meta = req.params?._meta as Record<string, unknown> | undefined;
  const related = meta?.[RELATED_TASK_META_KEY] as { taskId?: unknown } | undefined;
  const task = typeof related?.taskId === 'string' ? routes.forTask?.(related.taskId) : undefined;
  const route = task ? routes.pick(task.host) : routes.pick();
  if (!route) {
    throw protocolError(ProtocolErrorCode.InternalError, `proxy: no host session to forward ${req.method} to (server "${o.server}" asked outside any call, and no host is connected)`);
  }
  const caps = route.host?.capabilities();
  const missing = caps && lacking(req, caps);
  if (missing) throw protocolError(missing.code, `proxy: the host did not declare ${missing.what}, so server "${o.server}" cannot use ${req.method} through it`);

  const params = task ? { ...req.params, _meta: { ...meta, [RELATED_TASK_META_KEY]: { taskId: task.id } } } : req.params;
  const forwarded = { method: req.method, params } as HostBoundRequest;
  const token = req.params?._meta?.progressToken;
  const opts: HostRequestOptions = {
    signal: route.kind === 'call' ? AbortSignal.any([dsExtra.mcpReq.signal, route.extra.signal]) : dsExtra.mcpReq.signal,
    timeout: o.timeoutMs,
    // The SDK puts its own token on the request; the host's progress goes back under the server's.
    ...(token !== undefined && {
      onprogress: (p) => void dsExtra.mcpReq.notify({ method: 'notifications/progress', params: { ...p, progressToken: token } }).catch(() => {}),
    }),
  };
  try {
    return route.kind === 'call' ? await route.extra.sendRequest(forwarded, opts) : await route.host.request(forwarded, opts);
  } catch (e) {
    throw toProtocolError(e);
  }
}

/** What the host would need to declare for this request and did not, with the error code to answer. */
function lacking(req: HostBoundRequest, caps: ClientCapabilities): { what: string; code: number } | undefined {
  switch (req.method) {
    case 'sampling/createMessage':
      if (!caps.sampling) return { what: 'sampling', code: ProtocolErrorCode.MethodNotFound };
      if ((req.params.tools || req.params.toolChoice) && !caps.sampling.tools) return { what: 'sampling.tools', code: ProtocolErrorCode.InvalidParams };
      return undefined;
    case 'elicitation/create': {
      if (!caps.elicitation) return { what: 'elicitation', code: ProtocolErrorCode.MethodNotFound };
      const mode = req.params.mode ?? 'form';
      const { supportsFormMode, supportsUrlMode } = getSupportedElicitationModes(caps.elicitation);
      if (mode === 'form' ? !supportsFormMode : !supportsUrlMode) return { what: `elicitation.${mode}`, code: ProtocolErrorCode.InvalidParams };
      return undefined;
    }
    case 'roots/list':
      return caps.roots ? undefined : { what: 'roots', code: ProtocolErrorCode.MethodNotFound };
  }
}
