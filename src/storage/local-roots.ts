// Choosing the workspaces root. A host may start us with `/` as the working folder (Claude Desktop
// does), where the default `./.uploaded/_workspaces` cannot be written: then we fall back to a
// per-user data folder and say so. A root the user chose explicitly never falls back: it is an error.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRemoteRoot } from './paths.js';

export interface RootChoice {
  workspacesRoot: string;
  uploadRoot: string;
  /** Why the default was not used, when it was not. */
  fallback?: string;
}

/** The per-user data folder for this app on each platform. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform, home = os.homedir()): string {
  if (platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'artifact-workspace-mcp');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'artifact-workspace-mcp');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'artifact-workspace-mcp');
}

async function writable(dir: string): Promise<string | undefined> {
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.access(dir, fs.constants.W_OK);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

export async function chooseRoots(settings: { workspacesRoot?: string; uploadRoot: string }, dataDir = userDataDir()): Promise<RootChoice> {
  if (settings.workspacesRoot) {
    // An object store is checked by the store itself when it opens.
    if (isRemoteRoot(settings.workspacesRoot)) return { workspacesRoot: settings.workspacesRoot, uploadRoot: settings.uploadRoot };
    const err = await writable(settings.workspacesRoot);
    if (err) throw new Error(`workspaces root ${settings.workspacesRoot} cannot be written (${err})`);
    return { workspacesRoot: settings.workspacesRoot, uploadRoot: settings.uploadRoot };
  }
  const wanted = path.join(settings.uploadRoot, '_workspaces');
  const err = await writable(wanted);
  if (!err) return { workspacesRoot: wanted, uploadRoot: settings.uploadRoot };
  const uploadRoot = path.join(dataDir, 'uploads');
  const workspacesRoot = path.join(uploadRoot, '_workspaces');
  const err2 = await writable(workspacesRoot);
  if (err2) throw new Error(`neither ${wanted} (${err}) nor ${workspacesRoot} (${err2}) can be written; set WORKSPACES_ROOT`);
  return { workspacesRoot, uploadRoot, fallback: `${wanted} is not writable (${err})` };
}
