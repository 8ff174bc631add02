// Proxy mode's tool source: the downstream servers' tools under SPEC's names, every call
// forwarded with the caller's progress, cancellation and _meta, and the routing hook run after
// allowlisted tools. Tools off the allowlist take the short path: the downstream's result object
// goes back as it came, never inspected. Downstream events (list changes, logging) are re-raised
// for every connected host. Resources, prompts and completions: ./forward-extras.ts. The servers'
// own requests (sampling, elicitation, roots) go to a host: ./host-route.ts.
import { CallToolResultSchema, ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AppServer, AppServerOptions } from '../server/app.js';
import { FastPath } from './fast-path.js';
import type { AppContext } from '../server/context.js';
import { OWN_TOOL_NAMES } from '../server/own-tools.js';
import type { CallScope, HostEvent, HostListener, SourceEvent, ToolSource } from '../server/sources.js';
import type { RunTarget } from '../workspace/types.js';
import { createAllowlist, type Allowlist } from './allowlist.js';
import { buildCatalog, type Catalog } from './catalog.js';
import { Downstream, DownstreamFailure, type DownstreamOptions } from './downstream.js';
import { failureResult, passThroughError } from './errors.js';
import { ExtrasForwarder } from './forward-extras.js';
import { LOGGER_NAME, datasetHint, routeResult } from './route-hook.js';

export interface ProxyOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * How long the first tools/list waits for servers still starting, in ms (default 30000): long
   * enough for an npx-launched server to start, so a host that calls a tool from its first list
   * finds it. Servers that come up later are announced with tools/list_changed.
   */
  firstListWaitMs?: number;
  /** Passed to each downstream (tests shorten the pauses). */
  downstream?: Pick<DownstreamOptions, 'maxFailures' | 'coolDownMs' | 'maxCallWaitMs' | 'graceMs'>;
}

export class McpProxy implements ToolSource, HostListener {
  readonly downstreams: Downstream[];
  readonly extras: ExtrasForwarder;
  private readonly byName: Map<string, Downstream>;
  private readonly allowlist: Allowlist;
  private readonly listeners = new Set<(e: SourceEvent) => void>();
  private catalog: Catalog<Tool> = { entries: [], byName: new Map(), dropped: [] };
  private firstList?: Promise<unknown>;

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
          ...opts.downstream,
          events: {
            toolsChanged: () => {
              this.rebuild();
              emit({ kind: 'tools_changed' });
            },
            listChanged: (_s, what) => emit({ kind: what === 'resources' ? 'resources_changed' : 'prompts_changed' }),
            resourceUpdated: (_s, params) => emit({ kind: 'resource_updated', params }),
            log: (_s, params) => emit({ kind: 'log', params }),
          },
        }),
    );
    this.byName = new Map(this.downstreams.map((d) => [d.name, d]));
    this.allowlist = createAllowlist(settings.routingTools, Object.fromEntries(entries.map(([n, c]) => [n, c.routing?.tools])));
    this.extras = new ExtrasForwarder(this.downstreams, () => this.waitFirst());
  }

  /** What createAppServer needs to offer this proxy's tools, resources, prompts and completions. */
  appOptions(): Required<Pick<AppServerOptions, 'sources' | 'resourceSources' | 'promptSources' | 'completionSources'>> {
    return { sources: [this], resourceSources: [this.extras], promptSources: [this.extras], completionSources: [this.extras] };
  }

  /** Starts connecting to every server; does not wait for them. */
  start(): this {
    this.downstreams.forEach((d) => d.start());
    return this;
  }

  onEvent(listener: (e: SourceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listTools(): Promise<Tool[]> {
    await this.waitFirst();
    return this.catalog.entries.map((e) => e.item);
  }

  callTool(name: string, args: Record<string, unknown> | undefined, scope: CallScope): Promise<CallToolResult> | undefined {
    const entry = this.catalog.byName.get(name);
    if (entry) return this.forward(this.byName.get(entry.server)!, entry.original, entry.exposed, args, scope);
    if (!this.downstreams.some((d) => d.status === 'connecting')) return undefined;
    // A host may call a tool it knows from an earlier session before listing: wait as a first
    // tools/list would, then look again.
    return this.waitFirst().then(() => {
      const later = this.catalog.byName.get(name);
      if (!later) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
      return this.forward(this.byName.get(later.server)!, later.original, later.exposed, args, scope);
    });
  }

  /** A host became ready or changed its roots: each server decides what that means for it. */
  onHost(e: HostEvent): void {
    this.downstreams.forEach((d) => d.hostEvent(e));
  }

  /** The pass-through lane for one session (./fast-path.ts). */
  fastPath(app: AppServer): FastPath {
    return new FastPath({
      target: (name) => {
        const entry = this.catalog.byName.get(name);
        if (!entry) return undefined;
        const ds = this.byName.get(entry.server)!;
        const pass = ds.passThrough();
        if (!pass) return undefined;
        const routes = this.allowlist.routes(ds.name, entry.original, entry.exposed);
        return { pass, original: entry.original, route: routes ? { baseDir: ds.workDir(this.opts.cwd ?? process.cwd()) } : undefined };
      },
      hook: { route: this.ctx.routing.route, mode: this.ctx.settings.mode, log: this.ctx.log },
      server: app.server,
      host: app.host,
      session: app.session,
      datasetArgs: this.ctx.settings.datasetArgs,
      log: this.ctx.log,
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.downstreams.map((d) => d.close()));
  }

  /** Hosts that list once right after connecting should see the tools of servers still starting. */
  private waitFirst(): Promise<unknown> {
    const ms = this.opts.firstListWaitMs ?? 30_000;
    return (this.firstList ??= Promise.all(this.downstreams.map((d) => d.settled(ms))));
  }

  private rebuild(): void {
    const servers = this.downstreams.map((d) => ({ server: d.name, items: d.tools, allow: d.config.tools?.allow, deny: d.config.tools?.deny }));
    this.catalog = buildCatalog(servers, OWN_TOOL_NAMES);
    for (const d of this.catalog.dropped) this.ctx.log.warn(`tool not exposed: ${d}`);
  }

  private async forward(ds: Downstream, tool: string, exposed: string, args: Record<string, unknown> | undefined, scope: CallScope): Promise<CallToolResult> {
    const { extra, session } = scope;
    const hint = datasetHint(args, this.ctx.settings.datasetArgs);
    // SPEC: any call naming a dataset makes its workspace current (the upload callback's analogue).
    const hinted = hint === undefined ? undefined : session.ensure(hint).then((e) => e.run);
    // Awaited (after the call) before answering, so the caller's next call sees that workspace.
    const settled = hinted?.then(
      () => undefined,
      (e: unknown) => this.ctx.log.warn(`${exposed}: could not open the workspace of "${hint}": ${(e as Error).message}`),
    );
    const { progressToken, ...meta } = extra._meta ?? {};
    let result: CallToolResult;
    try {
      result = await ds.request(
        { method: 'tools/call', params: { name: tool, ...(args !== undefined && { arguments: args }), ...(Object.keys(meta).length && { _meta: meta }) } },
        CallToolResultSchema,
        {
          caller: extra,
          // Always asked for, so progress resets the timeout; passed on only if the caller wants it.
          onprogress: (p) => {
            if (progressToken !== undefined) void extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } }).catch(() => {});
          },
        },
      );
    } catch (e) {
      await settled;
      if (e instanceof DownstreamFailure) return failureResult(e);
      throw passThroughError(e);
    }
    await settled;
    if (!this.allowlist.routes(ds.name, tool, exposed)) return result;

    const outcome = await routeResult(
      { tool, args, result, run: () => hinted ?? this.currentRun(scope), baseDir: ds.workDir(this.opts.cwd ?? process.cwd()) },
      { route: this.ctx.routing.route, mode: this.ctx.settings.mode, log: this.ctx.log },
    );
    if (outcome.kind === 'pass') return result;
    if (outcome.message) {
      this.ctx.log.info(`${exposed}: ${outcome.message}`);
      await scope.log({ level: 'info', logger: LOGGER_NAME, data: outcome.message }).catch(() => {});
    }
    return outcome.result;
  }

  private async currentRun(scope: CallScope): Promise<RunTarget> {
    return (await scope.session.currentRun()) ?? (await scope.session.ensure()).run;
  }
}

