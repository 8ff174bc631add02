// How to reach one downstream server, worked out from its config entry: pure (entry, env, folders
// in; a launch spec out). A stdio child inherits the proxy's whole environment plus the entry's
// env; `${VAR}` is expanded in args, env and headers; a relative cwd is relative to the config file.
import path from 'node:path';
import type { ServerConfig } from '../config.js';
import { expandList, expandMap } from './expand.js';

export type LaunchSpec =
  | { kind: 'stdio'; command: string; args: string[]; env: NodeJS.ProcessEnv; cwd?: string }
  | { kind: 'http'; url: string; headers: Record<string, string> };

export interface Launch {
  spec: LaunchSpec;
  /** `${VAR}`s that were not set, for a warning. */
  missing: string[];
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
      env: { ...env, ...extra.value },
      cwd: entry.cwd !== undefined ? path.resolve(baseDir, entry.cwd) : undefined,
    },
    missing: [...new Set([...args.missing, ...extra.missing])],
  };
}

/**
 * Folders artifacts may come from because a downstream works there (SPEC "Allowed sources"): each
 * explicit cwd, and the proxy's own cwd for stdio servers started without one, unless that is the
 * filesystem root or the home folder itself (Claude Desktop starts servers in `/`): that would
 * allow every file, so it is left out with a warning.
 */
export function downstreamSourceRoots(
  servers: Readonly<Record<string, ServerConfig>>,
  opts: { cwd: string; home: string; baseDir: string },
): { roots: string[]; warnings: string[] } {
  const roots = new Set<string>();
  const warnings: string[] = [];
  let inheritsCwd = false;
  for (const entry of Object.values(servers)) {
    if (entry.disabled) continue;
    if ('url' in entry) continue;
    if (entry.cwd !== undefined) roots.add(path.resolve(opts.baseDir, entry.cwd));
    else inheritsCwd = true;
  }
  if (inheritsCwd) {
    const cwd = path.resolve(opts.cwd);
    const tooBroad = cwd === path.parse(cwd).root ? 'the filesystem root' : cwd === path.resolve(opts.home) ? 'the home folder' : undefined;
    if (tooBroad) {
      warnings.push(
        `stdio servers without "cwd" run in ${cwd}, ${tooBroad}: not allowing artifacts from there (too broad); set "cwd" on those entries or add routing.sourceRoots`,
      );
    } else roots.add(cwd);
  }
  return { roots: [...roots], warnings };
}
