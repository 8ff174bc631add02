// `artifact-workspace serve`: read settings, build the context, start the transport.
import os from 'node:os';
import type { Flags } from './config.js';
import { loadSettings } from './settings.js';
import { createLogger, type Logger } from './log.js';
import { downstreamSourceRoots } from './proxy/launch.js';
import { stdioLane, stdioSink } from './proxy/lane.js';
import { McpProxy } from './proxy/proxy.js';
import type { EarlyStarts } from './proxy/early-start.js';
import { createAppServer, type AppServer } from './server/app.js';
import { createContext, type AppContext } from './server/context.js';
import type { EventSource } from './server/sources.js';
import type { ServerNotifier } from '@modelcontextprotocol/server';
import { WorkspacePrompts } from './server/prompts.js';
import { WorkspaceResources } from './server/resources.js';
import { AppViews } from './server/app-views.js';
import { startTempSweep } from './workspace/sweep.js';
import { isLoopback } from './transports/http-guard.js';
import { serveStdio } from './transports/stdio.js';
import { createUi } from './ui/server.js';
import { WorkspaceSession } from './workspace/session.js';

/** The MCP App views (./server/app-views.ts): stateless, one for every session. */
const APP_VIEWS = new AppViews();

/**
 * One host connection's server: our tools and workspace resources, plus the proxy's sources. A
 * stateless one (MCP 2026-07-28: one request, or one stdio connection) files by handle or into a
 * dataset's latest run (README "Workspaces and state").
 */
export function sessionServer(ctx: AppContext, proxy: McpProxy | undefined, opts: { stateless?: boolean; perRequest?: boolean; resources?: WorkspaceResources } = {}): AppServer {
  const px = proxy?.appOptions();
  const resources = opts.resources ?? new WorkspaceResources(ctx.workspaces.store, ctx.routing);
  const prompts = new WorkspacePrompts(ctx.workspaces, ctx.settings.mode);
  return createAppServer(ctx, {
    ...px,
    session: new WorkspaceSession(ctx.workspaces, { stateless: opts.stateless }),
    stateless: opts.stateless,
    perRequest: opts.perRequest,
    // Ours before the servers': a `ui://` view of ours is read from us, even when an inner
    // artifact-workspace behind the proxy offers the same URI (README "Chaining").
    resourceSources: [resources, APP_VIEWS, ...(px?.resourceSources ?? [])],
    promptSources: [prompts, ...(px?.promptSources ?? [])],
    completionSources: [prompts, ...(px?.completionSources ?? [])],
  });
}

export async function serve(flags: Flags, log: Logger = createLogger(), opts: { early?: EarlyStarts } = {}): Promise<void> {
  const settings = loadSettings(flags);
  settings.warnings.forEach((w) => log.warn(w));
  // One failed promise somewhere in a forwarded call must not take every session down with it:
  // it is logged with its stack, and the server keeps serving.
  process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
  const servers = downstreamSourceRoots(settings.servers, { home: os.homedir(), baseDir: settings.baseDir, env: process.env });
  servers.warnings.forEach((w) => log.warn(w));
  const ctx = await createContext(settings, log, { extraSourceRoots: servers.roots });
  log.info(`workspaces root ${ctx.workspaces.root} (mode ${settings.mode})${settings.configPath ? `, config ${settings.configPath}` : ''}`);
  // Temps left by a writer killed mid-copy; in the background, so initialize is not held up.
  void startTempSweep(ctx.workspaces.store, log);
  // Proxy mode when the config names servers: they start connecting now, without holding up
  // the host's initialize; the first tools/list waits briefly for them. One proxy serves every
  // session; each session has its own server and workspace state.
  const proxy = Object.keys(settings.servers).length ? new McpProxy(ctx, { early: opts.early }).start() : undefined;

  if (settings.transport === 'http') {
    // Off loopback, the Host check only stops browsers: anyone on the network could call every
    // tool (and every downstream's). That needs a token.
    if (!isLoopback(settings.host) && !settings.token) {
      throw new Error(`--host ${settings.host} would expose every tool to the network without authentication; set --token (or ARTIFACT_WORKSPACE_TOKEN), or bind 127.0.0.1`);
    }
    // Loaded only here: the HTTP stack costs ~10 MB of memory a stdio server never needs.
    const { startHttpFront } = await import('./transports/http.js');
    const sharedResources = new WorkspaceResources(ctx.workspaces.store, ctx.routing);
    let frontPort = settings.port;
    // The workspace browser, at /ui on the same port, under the same rules (README "Workspace browser").
    const ui = createUi({
      ws: ctx.workspaces,
      base: '/ui',
      host: settings.host,
      port: () => frontPort,
      allowedHosts: settings.allowedHosts,
      allowedOrigins: settings.allowedOrigins,
      token: settings.token,
      log,
      onRouted: (tell) => ctx.routing.onRouted((e) => tell({ dataset: e.run.dataset, runId: e.run.runId })),
    });
    const front = await startHttpFront({
      host: settings.host,
      port: settings.port,
      other: ui,
      token: settings.token,
      allowedHosts: settings.allowedHosts,
      allowedOrigins: settings.allowedOrigins,
      log,
      createSession: () => {
        const app = sessionServer(ctx, proxy);
        return { server: app.server, lane: proxy?.lane(app) };
      },
      // MCP 2026-07-28: a server per request; the workspace resources are shared, so that their
      // changes are published once to every subscriptions/listen stream.
      createStateless: () => sessionServer(ctx, proxy, { stateless: true, perRequest: true, resources: sharedResources }).server,
      // 2026-07-28 pass-through calls as bytes; each call gets its own stateless session.
      statelessLane: proxy?.lane(sessionServer(ctx, proxy, { stateless: true, perRequest: true, resources: sharedResources }), {
        modern: true,
        session: () => new WorkspaceSession(ctx.workspaces, { stateless: true }),
      }),
      onNotifier: (notify) => publishChanges([sharedResources, proxy], notify),
    });
    frontPort = front.port;
    log.info(`Streamable HTTP at ${front.url}${settings.token ? ' (bearer token required)' : ''}`);
    log.info(`workspace browser at ${front.url.replace(/\/mcp$/, '/ui/')}${settings.token ? ' (open it once with ?token=…)' : ''}`);
    await untilSignal();
    await front.close();
    await proxy?.close();
    await ctx.workspaces.store.close();
    return;
  }

  const stop = stopOnSignals(proxy);
  try {
    await serveStdio(
      (era, transport) => {
        const app = sessionServer(ctx, proxy, { stateless: era === 'modern' });
        // The lane carries calls to 2025 servers as bytes, for hosts of either revision.
        const lane = proxy?.lane(app, { modern: era === 'modern' });
        transport.lane = lane && stdioLane(lane, stdioSink(transport));
        return app.server;
      },
      { onerror: (e) => log.warn(`host connection: ${e.message}`) },
    );
  } finally {
    // The host closed our stdin: stop the servers in steps. The signal handlers stay until they
    // are stopped, because hosts follow the closed stdin with SIGTERM a moment later.
    await proxy?.close();
    await ctx.workspaces.store.close();
    stop();
  }
}

/** The sources' list changes, published to 2026-07-28 subscribers (logging has no such channel). */
function publishChanges(sources: (EventSource | undefined)[], notify: ServerNotifier): () => void {
  const offs = sources.map((s) =>
    s?.onEvent((e) => {
      if (e.kind === 'tools_changed') notify.toolsChanged();
      else if (e.kind === 'resources_changed') notify.resourcesChanged();
      else if (e.kind === 'prompts_changed') notify.promptsChanged();
      else if (e.kind === 'resource_updated') notify.resourceUpdated(e.params.uri);
    }),
  );
  return () => offs.forEach((off) => off?.());
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => resolve());
  });
}

/**
 * On SIGINT/SIGTERM/SIGHUP, stop the downstream servers in steps before exiting; a second signal
 * (or one that comes while they are already being stopped) kills what is left at once, so that
 * nothing outlives us whatever the host does.
 */
function stopOnSignals(proxy: McpProxy | undefined): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let seen = 0;
  const handler = (sig: NodeJS.Signals) => {
    const code = sig === 'SIGINT' ? 130 : 143;
    if (++seen > 1 || proxy?.closing) {
      proxy?.killNow();
      process.exit(code);
    }
    void (proxy?.close() ?? Promise.resolve()).finally(() => process.exit(code));
  };
  signals.forEach((s) => process.on(s, handler));
  return () => signals.forEach((s) => process.off(s, handler));
}
