// `artifact-workspace serve`: read settings, build the context, start the transport.
import fs from 'node:fs';
import os from 'node:os';
import { configPathFrom, resolveSettings, type Flags, type Settings } from './config.js';
import { createLogger, type Logger } from './log.js';
import { downstreamSourceRoots } from './proxy/launch.js';
import { McpProxy } from './proxy/proxy.js';
import { createAppServer } from './server/app.js';
import { createContext } from './server/context.js';
import { serveStdio } from './transports/stdio.js';
import { Workspaces } from './workspace/layout.js';
import { chooseRoots } from './workspace/roots.js';

/** Settings from (config file, environment, flags); the file is read here, parsed purely. */
export function loadSettings(flags: Flags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const filePath = configPathFrom(flags, env, cwd, (p) => fs.existsSync(p));
  let fileText: string | undefined;
  if (filePath) {
    try {
      fileText = fs.readFileSync(filePath, 'utf8');
    } catch (e) {
      throw new Error(`cannot read config file ${filePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return resolveSettings({ fileText, filePath, env, flags, cwd });
}

/** The workspaces of the configured root, for the commands that read them. */
export async function openWorkspaces(flags: Flags): Promise<{ ws: Workspaces; settings: Settings }> {
  const settings = loadSettings(flags);
  // Read-only commands never create the root: an explicit one that is missing is an error.
  const root = settings.workspacesRoot ?? (await chooseRoots(settings)).workspacesRoot;
  return { ws: await Workspaces.open(root, undefined, { create: false }), settings };
}

export async function serve(flags: Flags, log: Logger = createLogger()): Promise<void> {
  const settings = loadSettings(flags);
  const servers = downstreamSourceRoots(settings.servers, { cwd: process.cwd(), home: os.homedir(), baseDir: settings.baseDir });
  servers.warnings.forEach((w) => log.warn(w));
  const ctx = await createContext(settings, log, { extraSourceRoots: servers.roots });
  log.info(`workspaces root ${ctx.workspaces.root} (mode ${settings.mode})${settings.configPath ? `, config ${settings.configPath}` : ''}`);
  if (settings.transport !== 'stdio') throw new Error('--transport http is not available yet; use stdio');
  // Proxy mode when the config names servers: they start connecting now, without holding up
  // the host's initialize; the first tools/list waits briefly for them.
  const proxy = Object.keys(settings.servers).length ? new McpProxy(ctx).start() : undefined;
  const stop = stopOnSignals(async () => {
    await proxy?.close();
  });
  try {
    const { server } = createAppServer(ctx, proxy?.appOptions() ?? {});
    await serveStdio(server);
  } finally {
    stop();
    await proxy?.close();
  }
}

/** On SIGINT/SIGTERM/SIGHUP, stop the downstream servers in steps before exiting. */
function stopOnSignals(cleanup: () => Promise<void>): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handler = (sig: NodeJS.Signals) => {
    void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  signals.forEach((s) => process.once(s, handler));
  return () => signals.forEach((s) => process.off(s, handler));
}
