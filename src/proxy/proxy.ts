// Proxy mode's tool source: the downstream servers' tools under the catalog's names (README
// "Proxy mode"), every call forwarded with the caller's progress, cancellation and _meta through
// the call pipeline (./call.ts), which runs the routing hook after allowlisted tools. Calls go
// over the SDK client here, or over the lane (./lane.ts) when a front hands them to it; either
// way the pipeline decides. Downstream events (list changes, logging) are re-raised for every
// connected host. Resources, prompts and completions: ./forward-extras.ts. The servers' own
// requests (sampling, elicitation, roots) go to a host: ./host-route.ts.
import { CallToolResultSchema, ResultSchema } from '@modelcontextprotocol/core';
import { withInputRequired } from '@modelcontextprotocol/client';
import { ProtocolErrorCode, type CallToolResult, type ClientCapabilities, type InputRequiredResult, type LoggingMessageNotification, type ServerNotification, type Tool } from '@modelcontextprotocol/server';
import type { AppServer, AppServerOptions } from '../server/app.js';
import type { AppContext } from '../server/context.js';
import { DownstreamFailure, protocolError } from '../server/errors.js';
import { OWN_TOOL_NAMES } from '../server/own-tools.js';
import { isAppView } from '../server/app-views.js';
import type { CallExtra, CallScope, CreatedTask, HostEvent, HostListener, SourceEvent, TaskRequest, ToolSource } from '../server/sources.js';
import { systemTimers, type Timers } from '../time.js';
import { HandleError, WORKSPACE_META_KEY } from '../workspace/handle.js';
import type { WorkspaceSession } from '../workspace/session.js';
import type { RunTarget } from '../workspace/types.js';
import { BridgeError, InputBridge, type Round } from './bridge.js';
import { createAllowlist, type Allowlist } from './allowlist.js';
import { CallPipeline, answerLater, type CallTarget } from './call.js';
import { ProxiedTask, ProxiedTasks, serverTaskState } from './tasks.js';
import { chainDataset, toInner } from './chain.js';
import { buildCatalog, type Catalog, type CatalogEntry } from './catalog.js';
import { downstreamCapabilities } from './client-wiring.js';
import { Downstream, NO_SDK_TIMEOUT, type DownstreamOptions } from './downstream.js';
import { forwardedEnvelope, retryFields, stripEnvelope } from './envelope.js';
import { ExtrasForwarder } from './forward-extras.js';
import { Lane } from './lane.js';
import type { EarlyStarts } from './early-start.js';

export interface ProxyOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * How long the first tools/list waits for servers still starting, in ms (default 30000): long
   * enough for an npx-launched server to start, so a host that calls a tool from its first list
   * finds it. Servers that come up later are announced with tools/list_changed.
   */
  firstListWaitMs?: number;
  /** Passed to each downstream (tests shorten the pauses). */
  downstream?: Pick<DownstreamOptions, 'maxFailures' | 'coolDownMs' | 'maxCallWaitMs' | 'graceMs'>;
  /** Timers of call timeouts, restarts and backoff (default: the real ones). */
  timers?: Timers;
  /** Servers started while the proxy loaded (./early-start.ts): each first connection adopts its own. */
  early?: EarlyStarts;
}

export class McpProxy implements ToolSource, HostListener {
  readonly downstreams: Downstream[];
  readonly extras: ExtrasForwarder;
  private readonly byName: Map<string, Downstream>;
  private readonly allowlist: Allowlist;
  private readonly listeners = new Set<(e: SourceEvent) => void>();
  private catalog: Catalog<Tool> = { entries: [], byName: new Map(), dropped: [] };
  private firstList?: Promise<unknown>;
  private readonly pipeline: CallPipeline;
  /** Calls held while a 2026-07-28 host answers what their server asked. */
  private readonly bridge: InputBridge;
  /** The servers' tasks that hosts know by our ids (./tasks.ts). */
  private readonly tasks: ProxiedTasks;
  /** start() was called: the first ready host launches the servers. */
  private armed = false;
  private launched = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly opts: ProxyOptions = {},
  ) {
    const { settings, log } = ctx;
    const emit = (e: SourceEvent) => this.listeners.forEach((l) => l(e));
    const entries = Object.entries(settings.servers).filter(([name, cfg]) => {
      if (cfg.disabled) log.info(`server "${name}" is disabled in the config; not starting it`);
      return !cfg.disabled;
    });
    this.downstreams = entries.map(
      ([name, config]) =>
        new Downstream({
          name,
          config,
          baseDir: settings.baseDir,
          env: opts.env ?? process.env,
          log,
          timers: opts.timers,
          early: opts.early,
          taskRoute: (s, id) => this.tasks.route(s, id),
          ...opts.downstream,
          events: {
            toolsChanged: () => {
              this.rebuild();
              emit({ kind: 'tools_changed' });
            },
            listChanged: (_s, what) => emit({ kind: what === 'resources' ? 'resources_changed' : 'prompts_changed' }),
            resourceUpdated: (_s, params) => emit({ kind: 'resource_updated', params }),
            log: (_s, params) => emit({ kind: 'log', params }),
            taskStatus: (s, params) => this.tasks.status(s, params),
            lost: (s) => this.tasks.lost(s),
          },
        }),
    );
    this.byName = new Map(this.downstreams.map((d) => [d.name, d]));
    this.allowlist = createAllowlist(settings.routingTools, Object.fromEntries(entries.map(([n, c]) => [n, c.routing?.tools])));
    this.extras = new ExtrasForwarder(this.downstreams, () => this.waitFirst(), (uri) => isAppView(uri) || (ctx.workspaces.store.keyOf(uri)?.length ?? 0) > 0);
    this.bridge = new InputBridge({ timers: opts.timers });
    this.tasks = new ProxiedTasks(ctx.tasks);
    this.pipeline = new CallPipeline({
      route: (req) => ctx.routing.route(req),
      mode: settings.mode,
      resultKeys: settings.resultKeys,
      datasetArgs: settings.datasetArgs,
      otherRoots: settings.otherRoots,
      log,
      timers: opts.timers ?? systemTimers,
    });
  }

  /** What createAppServer needs to offer this proxy's tools, resources, prompts and completions. */
  appOptions(): Required<Pick<AppServerOptions, 'sources' | 'resourceSources' | 'promptSources' | 'completionSources'>> {
    return { sources: [this], resourceSources: [this.extras], promptSources: [this.extras], completionSources: [this.extras] };
  }

  /**
   * Lets the servers start: they connect when the first host session is ready, each told what that
   * host declared (./client-wiring.ts), or at once with `capabilities` when given. Does not wait.
   */
  start(capabilities?: ClientCapabilities): this {
    this.armed = true;
    if (capabilities) this.launch(capabilities);
    return this;
  }

  private launch(capabilities: ClientCapabilities): void {
    if (this.launched) return;
    this.launched = true;
    const caps = downstreamCapabilities(capabilities);
    this.downstreams.forEach((d) => d.start(caps));
  }

  onEvent(listener: (e: SourceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listTools(): Promise<Tool[]> {
    await this.waitFirst();
    return this.catalog.entries.map((e) => e.item);
  }

  callTool(name: string, args: Record<string, unknown> | undefined, scope: CallScope): Promise<CallToolResult | InputRequiredResult> | undefined {
    const entry = this.catalog.byName.get(name);
    if (entry) return this.forward(entry, args, scope);
    if (!this.downstreams.some((d) => d.status === 'connecting' || d.status === 'idle')) return undefined;
    // A host may call a tool it knows from an earlier session before listing: wait as a first
    // tools/list would, then look again.
    return this.waitFirst().then(() => {
      const later = this.catalog.byName.get(name);
      if (!later) throw protocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
      return this.forward(later, args, scope);
    });
  }

  callToolAsTask(name: string, args: Record<string, unknown> | undefined, task: TaskRequest, scope: CallScope): Promise<CreatedTask> | undefined {
    const entry = this.catalog.byName.get(name);
    if (entry) return this.createTask(entry, args, task, scope);
    if (!this.downstreams.some((d) => d.status === 'connecting' || d.status === 'idle')) return undefined;
    return this.waitFirst().then(() => {
      const later = this.catalog.byName.get(name);
      if (!later) throw protocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
      return this.createTask(later, args, task, scope);
    });
  }

  async taskSupport(name: string): Promise<string | undefined> {
    const entry = this.catalog.byName.get(name) ?? (await this.waitFirst(), this.catalog.byName.get(name));
    return entry?.item.execution?.taskSupport;
  }

  /**
   * A task-augmented call (2025-11-25): the server makes the task, the board gives it our id.
   * The run its artifacts go to is decided now (README "Tasks"), as a call's would be.
   */
  private async createTask(entry: CatalogEntry<Tool>, args: Record<string, unknown> | undefined, task: TaskRequest, scope: CallScope): Promise<CreatedTask> {
    const ds = this.byName.get(entry.server)!;
    const support = entry.item.execution?.taskSupport;
    if (support !== 'optional' && support !== 'required') throw protocolError(ProtocolErrorCode.MethodNotFound, `${entry.exposed} does not run as a task (its server says taskSupport: ${support ?? 'forbidden'})`);
    if (ds.modern) throw protocolError(ProtocolErrorCode.MethodNotFound, `${entry.exposed} runs as a task only in MCP 2026-07-28's Tasks extension, which the proxy does not speak to servers yet; call it without \`task\``);
    const { extra, session } = scope;
    const target = this.targetOf(entry);
    const { progressToken, ...meta } = stripEnvelope(extra._meta);
    const named = (target.routes || ds.inner) && meta[WORKSPACE_META_KEY] !== undefined ? await adoptNamed(session, meta[WORKSPACE_META_KEY]) : undefined;
    const caller = { session, progressToken, notify: (n: ServerNotification) => extra.sendNotification(n), log: (params: LoggingMessageNotification['params']) => scope.log(params) };
    const call = this.pipeline.begin(target, args, caller, () => {}, named, chainDataset(meta));
    let run: RunTarget | undefined;
    try {
      // The run is decided now, as the task's files go where it was made (README "Tasks"); an
      // inner artifact-workspace hears of it as any call's.
      const chain = await call.chain();
      run = target.routes ? chain.run : undefined;
      if (ds.inner) toInner(meta, ds.inner, this.ctx.workspaces.store.identity, chain);
      const res = (await ds.request(
        { method: 'tools/call', params: { name: target.tool, ...(args !== undefined && { arguments: args }), task, ...(Object.keys(meta).length && { _meta: meta }) } } as never,
        ResultSchema,
        { caller: extra, timeoutMs: ds.callTimeoutMs, onprogress: (p) => call.progress(p) },
      )) as Record<string, unknown>;
      const made = res.task as Record<string, unknown> | undefined;
      const state = serverTaskState(made);
      if (!made || typeof made.taskId !== 'string' || !state) {
        // The server answered at once instead: a plain result, routed as usual.
        const result = res as CallToolResult;
        return { kind: 'result', result: (await call.answer(result)) ?? result };
      }
      const t = new ProxiedTask(ds, made.taskId, state, async (result, later) =>
        (await answerLater(this.pipeline, target, args, { ...caller, notify: (n) => later.sendNotification(n) }, run, result)) ?? result,
      );
      // A 2026-07-28 host is gone once answered: it polls, and hears nothing from us later.
      const id = this.ctx.tasks.add(scope.taskOwner ?? session, t, state, extra.modern ? undefined : extra.host);
      if (!extra.modern) t.host = extra.host;
      this.tasks.add(t, id);
      const { task: _t, content: _c, ...rest } = res;
      return { kind: 'task', id, ...(rest._meta !== undefined && { _meta: rest._meta as Record<string, unknown> }) };
    } catch (e) {
      if (e instanceof DownstreamFailure) return { kind: 'result', result: await call.failed(e) };
      throw await call.error(e);
    } finally {
      call.end();
    }
  }

  /** A host became ready or changed its roots: each server decides what that means for it. */
  onHost(e: HostEvent): void {
    if (e.kind === 'ready' && this.armed) this.launch(e.host.capabilities() ?? {});
    // A host that is one request (2026-07-28 over HTTP) is gone once answered: the servers' own
    // requests outside calls cannot go to it, and its arrival does not change their roots.
    if (e.kind === 'ready' && e.passing) return;
    this.downstreams.forEach((d) => d.hostEvent(e));
  }

  /** The lane for one session (./lane.ts): tool calls carried as bytes, decided by the same pipeline. */
  lane(app: AppServer, opts: { modern?: boolean; session?: () => WorkspaceSession } = {}): Lane {
    return new Lane({
      modern: opts.modern,
      target: (name) => {
        const entry = this.catalog.byName.get(name);
        const ds = entry && this.byName.get(entry.server)!;
        // A call to an inner artifact-workspace carries where its files go, and a tool that runs
        // only as a task becomes one (or is refused) here: the SDK path does both.
        const link = ds && !ds.inner && entry.item.execution?.taskSupport !== 'required' ? ds.lane() : undefined;
        return entry && link ? { link, target: this.targetOf(entry) } : undefined;
      },
      pipeline: this.pipeline,
      server: app.server,
      host: app.host,
      session: opts.session ?? app.session,
      log: this.ctx.log,
    });
  }

  /** True once close() has begun. */
  closing = false;

  async close(): Promise<void> {
    this.closing = true;
    this.opts.early?.stopAll();
    this.bridge.close();
    await Promise.all(this.downstreams.map((d) => d.close()));
  }

  /** Kills every server (and whatever it started) at once: for when there is no time to ask. */
  killNow(): void {
    this.downstreams.forEach((d) => d.killNow());
  }

  /** Hosts that list once right after connecting should see the tools of servers still starting. */
  private waitFirst(): Promise<unknown> {
    // Asked before any host said it was ready (a host that skipped `initialized`): start now.
    if (this.armed) this.launch({});
    const ms = this.opts.firstListWaitMs ?? 30_000;
    return (this.firstList ??= Promise.all(this.downstreams.map((d) => d.settled(ms))));
  }

  private rebuild(): void {
    const servers = this.downstreams.map((d) => ({ server: d.name, items: d.catalogTools, allow: d.config.tools?.allow, deny: d.config.tools?.deny }));
    this.catalog = buildCatalog(servers, OWN_TOOL_NAMES);
    for (const d of this.catalog.dropped) this.ctx.log.warn(`tool not exposed: ${d}`);
  }

  /** Each catalog entry's target, made once (a rebuilt catalog has new entries). */
  private readonly targets = new WeakMap<CatalogEntry<Tool>, CallTarget>();

  /** Where a catalog entry's calls go, and what the pipeline needs to know of it. */
  private targetOf(entry: CatalogEntry<Tool>): CallTarget {
    let target = this.targets.get(entry);
    if (!target) this.targets.set(entry, (target = this.newTarget(entry)));
    return target;
  }

  private newTarget(entry: CatalogEntry<Tool>): CallTarget {
    const ds = this.byName.get(entry.server)!;
    return {
      server: ds.name,
      tool: entry.original,
      exposed: entry.exposed,
      routes: this.allowlist.routes(ds.name, entry.original, entry.exposed),
      baseDir: ds.workDir(),
      timeoutMs: ds.callTimeoutMs,
    };
  }

  /**
   * A call over the SDK client: the pipeline keeps its clock and decides its answer. A host at
   * 2026-07-28 takes no requests from us, so what the server asks it during the call is bridged
   * into input_required rounds (./bridge.ts); its retry resumes the held call.
   */
  private async forward(entry: CatalogEntry<Tool>, args: Record<string, unknown> | undefined, scope: CallScope): Promise<CallToolResult | InputRequiredResult> {
    const { extra } = scope;
    if (!extra.modern) return this.run(entry, args, scope, extra, extra.signal);
    // A 2026-07-28 host and a 2026-07-28 server: their input_required rounds cross as they are
    // (the server's keys and its own requestState), and nothing is held here, so a retry may reach
    // any process. A retry whose requestState is one of ours belongs to a held call.
    const ours = extra.requestState !== undefined && this.bridge.holds(extra.requestState);
    if (!ours && this.byName.get(entry.server)?.modern) return this.run(entry, args, scope, extra, extra.signal, { inputResponses: extra.inputResponses, requestState: extra.requestState });
    let round: Round<CallToolResult>;
    const stop = new AbortController();
    // While the host waits for a round, its cancelling cancels the call.
    const onAbort = () => stop.abort(extra.signal.reason);
    extra.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (extra.requestState !== undefined) {
        round = await this.bridge.resume<CallToolResult>(extra.requestState, extra.inputResponses).catch((e: unknown) => {
          throw e instanceof BridgeError ? protocolError(ProtocolErrorCode.InvalidParams, `requestState: ${e.message}`) : e;
        });
      } else {
        // The server's call outlives this request: its own signal, and its questions go to the bridge.
        round = await this.bridge.start(
          (ask) => this.run(entry, args, scope, { ...extra, signal: stop.signal, sendRequest: (req) => ask(req) }, stop.signal) as Promise<CallToolResult>,
          () => stop.abort(new Error('the host did not come back with the input it was asked for')),
        );
      }
    } finally {
      extra.signal.removeEventListener('abort', onAbort);
    }
    if (round.kind === 'done') return round.value;
    return { resultType: 'input_required', inputRequests: round.inputRequests, requestState: round.requestState } as InputRequiredResult;
  }

  /**
   * One call to the server. With `relay` (a 2026-07-28 host and server), the host's retry fields
   * go to the server and an input_required answer comes back as it is, unrouted.
   */
  private async run(
    entry: CatalogEntry<Tool>,
    args: Record<string, unknown> | undefined,
    scope: CallScope,
    caller: CallExtra,
    signal: AbortSignal,
    relay?: { inputResponses?: Record<string, unknown>; requestState?: string },
  ): Promise<CallToolResult | InputRequiredResult> {
    const { session } = scope;
    const ds = this.byName.get(entry.server)!;
    const target = this.targetOf(entry);
    const { progressToken, ...meta } = stripEnvelope(caller._meta);
    // A 2026-07-28 server hears capabilities per request: exactly what this host declared, as far
    // as the proxy forwards it.
    if (caller.modern && ds.modern) Object.assign(meta, forwardedEnvelope(caller));
    // A run named by handle is checked before the tool runs: a bad one changes nothing.
    const named = (target.routes || ds.inner) && meta[WORKSPACE_META_KEY] !== undefined ? await adoptNamed(session, meta[WORKSPACE_META_KEY]) : undefined;
    const timedOut = new AbortController();
    const call = this.pipeline.begin(
      target,
      args,
      { session, progressToken, notify: (n) => caller.sendNotification(n), log: (params) => scope.log(params) },
      () => timedOut.abort(),
      named,
      chainDataset(meta),
    );
    // An inner artifact-workspace hears where this call's files go, in our words, not the host's.
    if (ds.inner) {
      try {
        toInner(meta, ds.inner, this.ctx.workspaces.store.identity, await call.chain());
      } catch (e) {
        call.end();
        throw await call.error(e);
      }
    }
    let result: CallToolResult | InputRequiredResult;
    try {
      result = await ds.request(
        {
          method: 'tools/call',
          params: {
            name: target.tool,
            ...(args !== undefined && { arguments: args }),
            ...(Object.keys(meta).length && { _meta: meta }),
            ...(relay && retryFields(relay)),
          },
        },
        relay ? withInputRequired(CallToolResultSchema) : CallToolResultSchema,
        {
          caller,
          ...(relay && { allowInputRequired: true }),
          signal: AbortSignal.any([signal, timedOut.signal]),
          timeoutMs: NO_SDK_TIMEOUT,
          // Always asked for, so progress resets the clock; passed on only if the caller wants it.
          onprogress: (p) => call.progress(p),
        },
      );
    } catch (e) {
      call.end();
      if (timedOut.signal.aborted) return call.failed(call.timedOut());
      if (e instanceof DownstreamFailure) return call.failed(e);
      throw await call.error(e);
    }
    call.end();
    if ((result as { resultType?: unknown }).resultType === 'input_required') return result as InputRequiredResult;
    return (await call.answer(result as CallToolResult)) ?? result;
  }
}

/** The run a call's `_meta["artifact-workspace/workspace"]` names, adopted by the session; a bad handle is the caller's error. */
async function adoptNamed(session: WorkspaceSession, handle: unknown): Promise<RunTarget> {
  try {
    return await session.adopt(handle);
  } catch (e) {
    if (e instanceof HandleError) throw protocolError(ProtocolErrorCode.InvalidParams, `_meta["${WORKSPACE_META_KEY}"]: ${e.message}`);
    throw e;
  }
}
