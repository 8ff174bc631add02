// Settings as the command line reads them (config file, environment, flags) and the workspaces
// of the configured root, for every command. Kept apart from the server (./serve.ts), so that a
// command that only reads the workspaces, or prints the version, does not load the MCP SDK.
import fs from 'node:fs';
import { configPathFrom, resolveSettings, type Flags, type Settings } from './config.js';
import { chooseRoots } from './storage/local-roots.js';
import { Workspaces } from './workspace/layout.js';

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
  return { ws: await Workspaces.open(root, undefined, { create: false, ...settings.s3 }), settings };
}
