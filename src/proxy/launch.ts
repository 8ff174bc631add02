// How to reach one downstream server, worked out from its config entry: pure (entry, env, folders
// in; a launch spec out). A stdio child inherits the proxy's environment plus the entry's env,
// minus what is the proxy's own (INHERIT_NOT); `${VAR}` is expanded in args, env and headers; a
// relative cwd is relative to the config file.
import path from 'node:path';
import type { ServerConfig } from '../config.js';
import { broadRootReason } from '../routing/policy.js';
import { expandList, expandMap } from './expand.js';

export type LaunchSpec =
  | { kind: 'stdio'; command: string; args: string[]; env: NodeJS.ProcessEnv; cwd?: string }
  | { kind: 'http'; url: string; headers: Record<string, string> };

export interface Launch {
  spec: LaunchSpec;
  /** `${VAR}`s that were not set, for a warning. */
  missing: string[];
}

/**
 * Not passed on to a downstream unless its entry sets it: the HTTP front's bearer token (a
 * downstream has no business holding the key to every tool), and what npm and npx set for the
 * proxy's own run (`npm_config_*` pointing at the proxy's package or prefix breaks an
 * npx-launched downstream).
 */
export const INHERIT_NOT = (name: string): boolean => name === 'ARTIFACT_WORKSPACE_TOKEN' || /^npm_/i.test(name) || name === 'INIT_CWD';

export function inheritedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !INHERIT_NOT(k)));
}

export function launchSpec(entry: ServerConfig, env: NodeJS.ProcessEnv, baseDir: string): Launch {
  if ('url' in entry) {
    const headers = expandMap(entry.headers, env);
    return { spec: { kind: 'http', url: entry.url, headers: headers.value }, missing: headers.missing };
  }
  const args = expandList(entry.args, env);
  const extra = expandMap(entry.env, env);
  return {
    spec: {
      kind: 'stdio',
      command: entry.command,
      args: args.value,
      env: { ...inheritedEnv(env), ...extra.value },
      cwd: entry.cwd !== undefined ? path.resolve(baseDir, entry.cwd) : undefined,
    },
    missing: [...new Set([...args.missing, ...extra.missing])],
  };
}

/**
 * Folders artifacts may come from because a downstream works there (README "Allowed sources"):
 * each explicit cwd, and the proxy's own cwd for stdio servers started without one. A folder that
 * is too broad (the filesystem root, the home folder or one holding it: Claude Desktop starts
 * servers in `/`) would allow every file, so it is left out with a warning, whether inherited or
 * written in the config.
 */
export function downstreamSourceRoots(
  servers: Readonly<Record<string, ServerConfig>>,
  opts: { cwd: string; home: string; baseDir: string; platform?: NodeJS.Platform },
): { roots: string[]; warnings: string[] } {
  const roots = new Set<string>();
  const warnings: string[] = [];
  let inheritsCwd = false;
  for (const [name, entry] of Object.entries(servers)) {
    if (entry.disabled) continue;
    if ('url' in entry) continue;
    if (entry.cwd === undefined) {
      inheritsCwd = true;
      continue;
    }
    const cwd = path.resolve(opts.baseDir, entry.cwd);
    const broad = broadRootReason(cwd, opts.home, opts.platform);
    if (broad) warnings.push(`server "${name}" has "cwd": ${cwd}, ${broad}: not allowing artifacts from there (too broad); use a folder inside it, or add routing.sourceRoots`);
    else roots.add(cwd);
  }
  if (inheritsCwd) {
    const cwd = path.resolve(opts.cwd);
    const broad = broadRootReason(cwd, opts.home, opts.platform);
    if (broad) {
      warnings.push(
        `stdio servers without "cwd" run in ${cwd}, ${broad}: not allowing artifacts from there (too broad); set "cwd" on those entries or add routing.sourceRoots`,
      );
    } else roots.add(cwd);
  }
  return { roots: [...roots], warnings };
}
