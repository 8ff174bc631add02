// `artifact-workspace serve`: read settings, build the context, start the transport.
import fs from 'node:fs';
import { configPathFrom, resolveSettings, type Flags, type Settings } from './config.js';
import { createLogger, type Logger } from './log.js';
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
  const ctx = await createContext(settings, log);
  log.info(`workspaces root ${ctx.workspaces.root} (mode ${settings.mode})${settings.configPath ? `, config ${settings.configPath}` : ''}`);
  if (settings.transport !== 'stdio') throw new Error('--transport http is not available yet; use stdio');
  const { server } = createAppServer(ctx);
  await serveStdio(server);
}
