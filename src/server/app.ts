// The MCP server a host talks to: a low-level SDK `Server` (so downstream JSON Schemas pass
// through unchanged in proxy mode) whose tools are our own three plus any extra tool sources, and
// whose resources, prompts and completions come from the sources it is given (src/server/sources.ts);
// their events (list changes, logging) are relayed to the host, and the host's own (ready, roots
// changed) to them. Every handler hands sources this session's HostLink in `extra.host`.
// Failures become one of the two MCP channels through ./errors.ts.
import { ResultSchema } from '@modelcontextprotocol/core';
import { CLIENT_CAPABILITIES_META_KEY, Server, ProtocolErrorCode, type CallToolResult, type ClientCapabilities, type ListPromptsResult, type ListResourcesResult, type ListResourceTemplatesResult, type ServerCapabilities, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Timers } from '../time.js';
import { PACKAGE_NAME, VERSION } from '../version.js';
import { ROOT_META_KEY } from '../workspace/handle.js';
import { WorkspaceSession } from '../workspace/session.js';
import type { AppContext } from './context.js';
import { toolError, protocolError } from './errors.js';
import { OWN_TOOLS, type CallInfo, type OwnTool } from './own-tools.js';
import { pageAcross } from './paging.js';
import { LocalTask, RELATED_TASK_META_KEY, TERMINAL, type Task } from './tasks.js';
import { unrefd } from '../time.js';
import type { CreatedTask, TaskRequest } from './sources.js';
import type { CallExtra, CallScope, CompletionSource, EventSource, HostEvent, HostLink, HostListener, PromptSource, ResourceSource, SourceEvent, ToolSource } from './sources.js';

export type { CallExtra, CallScope, CompletionSource, HostLink, PromptSource, ResourceSource, SourceEvent, ToolSource } from './sources.js';

export interface AppServer {
  server: Server;
  session: WorkspaceSession;
  /** This session's host, as sources see it. */
  host: HostLink;
}

export interface AppServerOptions {
  /** Tools besides our own three (the proxy's downstream catalog). */
  sources?: ToolSource[];
  /** Resources, in listing order (the workspace files belong here, first; then the proxy). */
  resourceSources?: ResourceSource[];
  promptSources?: PromptSource[];
  completionSources?: CompletionSource[];
  session?: WorkspaceSession;
  /**
   * Serves one MCP 2026-07-28 request (or stdio connection): no `initialize`, so the sources hear
   * the host is ready at its first request, with the capabilities its envelope declares; and no
   * unsolicited notifications from this instance (list changes reach 2026 hosts through
   * `subscriptions/listen`: on stdio the SDK's entry turns this instance's notifications into
   * them; over HTTP, where `perRequest` is set, the front publishes them).
   */
  stateless?: boolean;
  /** Serves exactly one HTTP request, then is closed: sends no notifications of its own. */
  perRequest?: boolean;
}

export const SERVER_INSTRUCTIONS =
  'Files that tools produce are kept in per-dataset workspaces, one folder per run. Call ensure_workspace with the dataset name first; route_artifacts files a tool result\'s outputs; get_workspace_info shows where everything is.';

export function createAppServer(ctx: AppContext, opts: AppServerOptions = {}): AppServer {
  const session = opts.session ?? new WorkspaceSession(ctx.workspaces);
  const sources = opts.sources ?? [];
  const resources = opts.resourceSources ?? [];
  const prompts = opts.promptSources ?? [];
  const completions = opts.completionSources ?? [];
  const own = new Map(OWN_TOOLS.map((t) => [t.name, t]));
  // Each carries the root's identity: a proxy in front of this one recognises it by that.
  const ownDefinitions = OWN_TOOLS.map((t) => ({ ...t.definition, _meta: { ...t.definition._meta, [ROOT_META_KEY]: ctx.workspaces.store.identity } }));
  const capabilities: ServerCapabilities = { tools: { listChanged: true }, logging: {} };
  // Tasks (2025-11-25): tools/call may be task-augmented (our route_artifacts, and downstream
  // tools whose servers run them as tasks); tasks are listed and cancelled here.
  // At 2026-07-28 tasks are the Tasks extension, offered to hosts that declare it on a request.
  if (!opts.stateless) (capabilities as Record<string, unknown>).tasks = { list: {}, cancel: {}, requests: { tools: { call: {} } } };
  else (capabilities as Record<string, unknown>).extensions = { [TASKS_EXTENSION]: {} };
  if (resources.length) capabilities.resources = { listChanged: true, subscribe: resources.some((r) => r.subscribeResource) };
  if (prompts.length) capabilities.prompts = { listChanged: true };
  if (completions.length) capabilities.completions = {};
  const server = new Server({ name: PACKAGE_NAME, version: VERSION }, { capabilities, instructions: SERVER_INSTRUCTIONS });
  // What the transport cannot deliver (an answer JSON cannot encode, a host line that is not JSON).
  server.onerror = (e) => ctx.log.warn(`host connection: ${e.message}`);
  // At 2026-07-28 the host declares its capabilities on every request (the envelope); the SDK's
  // stdio entry does not copy them onto the server, so the latest request's are kept here.
  let declared: ClientCapabilities | undefined;
  const { host, ready } = linkHost(server, [...sources, ...resources, ...prompts, ...completions], !opts.stateless, opts.stateless ? () => declared ?? server.getClientCapabilities() : undefined, opts.perRequest);
  let told = !opts.stateless;
  // The SDK's context, as our sources take it.
  const x = (c: ServerContext): CallExtra => {
    if (opts.stateless) declared = envelopeCapabilities(c) ?? declared;
    if (!told) {
      told = true;
      ready();
    }
    return extraOf(c);
  };
  const extraOf = (c: ServerContext): CallExtra => ({
    get signal() {
      return c.mcpReq.signal;
    },
    requestId: c.mcpReq.id,
    _meta: c.mcpReq._meta as CallExtra['_meta'],
    host,
    sendRequest: (req, opts) => c.mcpReq.send(req, ResultSchema, opts),
    sendNotification: (n) => c.mcpReq.notify(n),
    ...(opts.stateless && { modern: true, inputResponses: c.mcpReq.inputResponses, requestState: c.mcpReq.requestState<string>() }),
  });

  server.setRequestHandler('tools/list', async (_req, c) => {
    x(c);
    const extra = await Promise.all(sources.map((s) => s.listTools()));
    return { tools: [...ownDefinitions, ...extra.flat()] };
  });
  server.setRequestHandler('tools/call', async (req, c) => {
    const { name, arguments: args } = req.params;
    const extra = x(c);
    const tool = own.get(name);
    const scope: CallScope = { extra, session, log: (params) => server.sendLoggingMessage(params, c.sessionId) };
    const task = (req.params as { task?: unknown }).task;
    if (task !== undefined && !opts.stateless) return createTask(name, args, taskRequest(task), scope);
    if (opts.stateless) {
      const modern = await modernTask(name, args, scope, !!envelopeCapabilities(c)?.extensions?.[TASKS_EXTENSION]);
      if (modern) return modern;
    }
    if (tool) return callOwn(tool, args, session, ctx, progressTo(extra, ctx.timers));
    for (const s of sources) {
      const res = s.callTool(name, args, scope);
      if (res) return res;
    }
    throw protocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
  });

  /** A task-augmented tools/call: a task on the board, as the CreateTaskResult the host gets. */
  const createTask = async (name: string, args: Record<string, unknown> | undefined, task: TaskRequest, scope: CallScope): Promise<CallToolResult> => {
    const tool = own.get(name);
    let made: CreatedTask | undefined;
    if (tool) {
      if (tool.definition.execution?.taskSupport !== 'optional' && tool.definition.execution?.taskSupport !== 'required') throw protocolError(ProtocolErrorCode.MethodNotFound, `${name} does not run as a task (taskSupport: forbidden)`);
      // Arguments are checked now: a bad call is refused, not made into a task that fails.
      if (!tool.input.safeParse(args ?? {}).success) return callOwn(tool, args, session, ctx);
      const local = new LocalTask((signal, progress) => callOwn(tool, args, session, ctx, (p) => progress(p.message), signal), task.ttl ?? null);
      const id = ctx.tasks.add(session, local, await local.state(), host);
      local.onChange = (st) => ctx.tasks.changed(id, st);
      made = { kind: 'task', id };
    } else {
      for (const s of sources) {
        const res = s.callToolAsTask?.(name, args, task, scope);
        if (res) {
          made = await res;
          break;
        }
      }
    }
    if (!made) throw protocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    if (made.kind === 'result') return made.result;
    // The state the task was made with: no poll, so a failing first poll cannot orphan it.
    const t = ctx.tasks.peek(session, made.id);
    // `content` only because the SDK's tools/call result check asks for it beside `task`.
    return { content: [], task: t, ...(made._meta && { _meta: made._meta }) } as CallToolResult;
  };

  /**
   * At 2026-07-28 the server decides per request whether a call becomes a task, and only for a
   * host whose request declares the Tasks extension: a tool its 2025 server runs only as a task
   * (taskSupport "required"), and our route_artifacts when it is still copying after a second.
   * Undefined: an ordinary call.
   */
  const modernTask = async (name: string, args: Record<string, unknown> | undefined, scope: CallScope, declared: boolean): Promise<CallToolResult | undefined> => {
    const tool = own.get(name);
    if (tool) {
      if (!declared || tool.definition.execution?.taskSupport !== 'optional' || !tool.input.safeParse(args ?? {}).success) return undefined;
      const local = new LocalTask((signal, progress) => callOwn(tool, args, session, ctx, (p) => progress(p.message), signal), null);
      const quick = await Promise.race([local.result().then((r) => ({ r })), new Promise<undefined>((r) => unrefd(ctx.timers.setTimeout(() => r(undefined), OWN_TASK_GRACE_MS)))]);
      if (quick) return quick.r;
      const id = ctx.tasks.add(MODERN_OWNER, local, await local.state());
      local.onChange = (st) => ctx.tasks.changed(id, st);
      return modernCreated(ctx.tasks.peek(MODERN_OWNER, id));
    }
    // One lookup by name, not a listing: this runs for every tools/call of a 2026-07-28 host.
    const required = (await Promise.all(sources.map((s) => s.taskSupport?.(name)))).includes('required');
    if (!required) return undefined;
    if (!declared) throw protocolError(-32021, `${name} runs only as a task: declare the ${TASKS_EXTENSION} extension in the request's client capabilities`, { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
    for (const s of sources) {
      const res = s.callToolAsTask?.(name, args, {}, { ...scope, taskOwner: MODERN_OWNER });
      if (!res) continue;
      const made = await res;
      if (made.kind === 'result') return made.result;
      return modernCreated(ctx.tasks.peek(MODERN_OWNER, made.id));
    }
    return undefined;
  };

  if (opts.stateless) {
    const taskId = { params: z.looseObject({ taskId: z.string() }) };
    server.setRequestHandler('tasks/get', taskId, async (p, c) => {
      const extra = x(c);
      const t = await ctx.tasks.get(MODERN_OWNER, p.taskId, extra);
      return { ...(await detailed(t, () => ctx.tasks.result(MODERN_OWNER, p.taskId, extra))) };
    });
    // Acknowledged whatever the task's state (the extension: cancellation is a request, not a promise).
    server.setRequestHandler('tasks/cancel', taskId, async (p, c) => {
      const extra = x(c);
      const t = await ctx.tasks.get(MODERN_OWNER, p.taskId, extra);
      if (!TERMINAL.has(t.status)) await ctx.tasks.cancel(MODERN_OWNER, p.taskId, extra);
      return {};
    });
    // Input a task asks for arrives with its result at 2025-11-25 servers: nothing is outstanding
    // here, so responses to keys we never issued are ignored, as the extension says.
    server.setRequestHandler('tasks/update', taskId, async (p, c) => {
      await ctx.tasks.get(MODERN_OWNER, p.taskId, x(c));
      return {};
    });
  }

  if (!opts.stateless) {
    // A session's tasks can be reached only by it: when it ends, they are let go.
    also(server, 'onclose', () => ctx.tasks.forgetOwner(session));
    const taskId = { params: z.looseObject({ taskId: z.string() }) };
    server.setRequestHandler('tasks/get', taskId, async (p, c) => ({ ...(await ctx.tasks.get(session, p.taskId, x(c))) }));
    server.setRequestHandler('tasks/result', taskId, async (p, c) => ctx.tasks.result(session, p.taskId, x(c)));
    server.setRequestHandler('tasks/cancel', taskId, async (p, c) => ({ ...(await ctx.tasks.cancel(session, p.taskId, x(c))) }));
    server.setRequestHandler('tasks/list', { params: z.looseObject({ cursor: z.string().optional() }).optional() }, async (p, c) => ctx.tasks.list(session, p?.cursor, x(c)));
  }

  if (resources.length) {
    server.setRequestHandler('resources/list', async (req, ctx) =>
      listAcross(resources, 'resources', (r, c): Promise<ListResourcesResult> => r.listResources(c, x(ctx)), req.params?.cursor) as Promise<ListResourcesResult>,
    );
    server.setRequestHandler('resources/templates/list', async (req, ctx) =>
      listAcross(resources, 'resourceTemplates', (r, c): Promise<ListResourceTemplatesResult> => r.listResourceTemplates(c, x(ctx)), req.params?.cursor) as Promise<ListResourceTemplatesResult>,
    );
    server.setRequestHandler('resources/read', async (req, ctx) => {
      const res = firstOf(resources, (r) => r.readResource(req.params.uri, x(ctx)));
      if (!res) throw protocolError(-32002, `Resource not found: ${req.params.uri}`, { uri: req.params.uri });
      return res;
    });
    server.setRequestHandler('resources/subscribe', async (req, ctx) => {
      // A URI that no source owns can never be updated: saying yes would be a promise not kept.
      const sub = firstOf(resources, (r) => r.subscribeResource?.(req.params.uri, x(ctx)));
      if (!sub) throw protocolError(-32002, `Resource not found: ${req.params.uri}`, { uri: req.params.uri });
      await sub;
      return {};
    });
    server.setRequestHandler('resources/unsubscribe', async (req, ctx) => {
      await firstOf(resources, (r) => r.unsubscribeResource?.(req.params.uri, x(ctx)));
      return {};
    });
  }

  if (prompts.length) {
    server.setRequestHandler('prompts/list', async (req, ctx) => listAcross(prompts, 'prompts', (p, c): Promise<ListPromptsResult> => p.listPrompts(c, x(ctx)), req.params?.cursor) as Promise<ListPromptsResult>);
    server.setRequestHandler('prompts/get', async (req, ctx) => {
      const res = firstOf(prompts, (p) => p.getPrompt(req.params.name, req.params.arguments, x(ctx)));
      if (!res) throw protocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${req.params.name}`);
      return res;
    });
  }

  if (completions.length) {
    server.setRequestHandler('completion/complete', async (req, ctx) => {
      return (await firstOf(completions, (c) => c.complete(req.params, x(ctx)))) ?? { completion: { values: [] } };
    });
  }

  if (!opts.perRequest) relayEvents(server, [...sources, ...resources, ...prompts, ...completions], !opts.stateless);
  return { server, session, host };
}

/** One page of a list (`key`) made of every source's own paged list. */
async function listAcross<S, K extends string, T>(
  sources: readonly S[],
  key: K,
  list: (s: S, cursor: string | undefined) => Promise<{ nextCursor?: string } & Record<K, T[]>>,
  cursor: string | undefined,
): Promise<{ nextCursor?: string } & Record<K, T[]>> {
  const page = await pageAcross(
    sources.map((s) => async (c: string | undefined) => {
      const res = await list(s, c);
      return { items: res[key], nextCursor: res.nextCursor };
    }),
    cursor,
  );
  return { [key]: page.items, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) } as { nextCursor?: string } & Record<K, T[]>;
}

/** The first source that claims the request (returns a promise), or undefined. */
function firstOf<S, R>(list: readonly S[], ask: (s: S) => Promise<R> | undefined): Promise<R> | undefined {
  for (const s of list) {
    const r = ask(s);
    if (r) return r;
  }
  return undefined;
}

/**
 * Passes the sources' events on to this host as notifications, once it has finished initializing
 * (a notification before `initialized` may confuse it); stops when the connection closes.
 */
function relayEvents(server: Server, candidates: readonly unknown[], afterInitialize: boolean): void {
  const emitters = [...new Set(candidates)].filter((s): s is EventSource => typeof (s as Partial<EventSource>).onEvent === 'function');
  if (!emitters.length) return;
  let ready = !afterInitialize;
  const send = (e: SourceEvent): Promise<void> => {
    switch (e.kind) {
      case 'tools_changed':
        return server.sendToolListChanged();
      case 'resources_changed':
        return server.sendResourceListChanged();
      case 'prompts_changed':
        return server.sendPromptListChanged();
      case 'resource_updated':
        return server.sendResourceUpdated(e.params);
      case 'log':
        // Filtered by this session's logging/setLevel (the SDK keys levels by transport session).
        // The level is deliberately not forwarded to downstream servers: one connection to each
        // serves every session, so one host's level would silence the others. Servers log at their
        // own default and each session filters here.
        return server.sendLoggingMessage(e.params, server.transport?.sessionId);
    }
  };
  const unsubscribe = emitters.map((s) =>
    s.onEvent((e) => {
      // A failed notification (host gone, capability not declared) must not reach the source.
      if (ready) void Promise.resolve().then(() => send(e)).catch(() => {});
    }),
  );
  also(server, 'oninitialized', () => (ready = true));
  also(server, 'onclose', () => {
    ready = false;
    unsubscribe.forEach((u) => u());
  });
}

/**
 * This session's host as sources see it; the listeners hear when it is ready (after initialize,
 * or when `ready` is called) and when its roots change.
 */
function linkHost(
  server: Server,
  candidates: readonly unknown[],
  initialized: boolean,
  capabilities?: () => ClientCapabilities | undefined,
  passing = false,
): { host: HostLink; ready: () => void } {
  const listeners = [...new Set(candidates)].filter((s): s is HostListener => typeof (s as Partial<HostListener>).onHost === 'function');
  let open = true;
  const host: HostLink = {
    capabilities: capabilities ?? (() => server.getClientCapabilities()),
    isOpen: () => open,
    request: (req, opts) => server.request(req, ResultSchema, opts),
    notify: (n) => server.notification(n),
  };
  const tell = (e: HostEvent) => listeners.forEach((l) => l.onHost(e));
  server.setNotificationHandler('notifications/roots/list_changed', () => tell({ kind: 'roots_changed', host }));
  if (initialized) also(server, 'oninitialized', () => tell({ kind: 'ready', host }));
  also(server, 'onclose', () => (open = false));
  return { host, ready: () => tell({ kind: 'ready', host, ...(passing && { passing: true }) }) };
}

/** The capabilities a 2026-07-28 request's envelope declares. */
function envelopeCapabilities(c: ServerContext): ClientCapabilities | undefined {
  const envelope = c.mcpReq.envelope as Record<string, unknown> | undefined;
  const caps = envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? c.mcpReq._meta?.[CLIENT_CAPABILITIES_META_KEY];
  return caps && typeof caps === 'object' ? (caps as ClientCapabilities) : undefined;
}

/** Adds to one of the server's single-slot callbacks, keeping what was there. */
function also(server: Server, slot: 'oninitialized' | 'onclose', fn: () => void): void {
  const prev = server[slot];
  server[slot] = () => {
    fn();
    prev?.();
  };
}

/** Progress notifications to the caller of a request, if it sent a token; at most ten a second. */
function progressTo(extra: CallExtra, timers: Pick<Timers, 'now'>): CallInfo['progress'] {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let last = 0;
  return ({ done, message }) => {
    const now = timers.now();
    if (now - last < 100) return;
    last = now;
    void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: done, message } }).catch(() => {});
  };
}

async function callOwn(tool: OwnTool, args: unknown, session: WorkspaceSession, ctx: AppContext, progress?: CallInfo['progress'], signal?: AbortSignal): Promise<CallToolResult> {
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) throw protocolError(ProtocolErrorCode.InvalidParams, `${tool.name}: ${formatZod(parsed.error)}`);
  try {
    const out = (await tool.run(parsed.data, session, ctx, { progress, signal })) as Record<string, unknown>;
    return { content: [{ type: 'text', text: JSON.stringify(out, null, 2) }], structuredContent: out };
  } catch (e) {
    return toolError(tool.name, e, ctx.log);
  }
}

/** The 2026-07-28 Tasks extension's name (SEP-2663). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** How long route_artifacts runs as an ordinary call for a 2026-07-28 host before it becomes a task. */
export const OWN_TASK_GRACE_MS = 1000;
/**
 * Who owns the tasks of 2026-07-28 hosts: nobody in particular (there are no sessions); a task is
 * reached by its id alone, a random UUID, as a handle is by its name.
 */
const MODERN_OWNER = {};

/** A task as the 2026-07-28 Tasks extension's CreateTaskResult. */
function modernCreated(t: Task): CallToolResult {
  return { resultType: 'task', ...modernTask_(t) } as unknown as CallToolResult;
}

function modernTask_(t: Task): Record<string, unknown> {
  const { ttl, pollInterval, ...rest } = t;
  return { ...rest, ttlMs: ttl, ...(pollInterval !== undefined && { pollIntervalMs: pollInterval }) };
}

/** A task as tasks/get answers at 2026-07-28: its result inline once completed, its error once failed. */
async function detailed(t: Task, result: () => Promise<CallToolResult>): Promise<Record<string, unknown>> {
  const base = modernTask_(t);
  if (t.status === 'completed') {
    const { _meta, ...res } = await result();
    const { [RELATED_TASK_META_KEY]: _r, ...meta } = (_meta ?? {}) as Record<string, unknown>;
    return { ...base, result: { ...res, ...(Object.keys(meta).length && { _meta: meta }) } };
  }
  if (t.status === 'failed') return { ...base, error: { code: ProtocolErrorCode.InternalError, message: t.statusMessage ?? 'the task failed' } };
  return base;
}

/** A task-augmented call's `task`: an object with an optional non-negative ttl, else the caller's error. */
function taskRequest(v: unknown): TaskRequest {
  const ttl = v && typeof v === 'object' ? (v as { ttl?: unknown }).ttl : undefined;
  if (!v || typeof v !== 'object' || Array.isArray(v) || (ttl !== undefined && ttl !== null && !(typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 0))) {
    throw protocolError(ProtocolErrorCode.InvalidParams, '`task` is an object {ttl?: ms}');
  }
  return typeof ttl === 'number' ? { ttl } : {};
}

function formatZod(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const at = i.path.length ? i.path.join('.') : 'arguments';
      if (i.code === 'unrecognized_keys') return `${at}: unknown argument(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      return `${at}: ${i.message}`;
    })
    .join('; ');
}
