// How to reach one downstream server, worked out from its config entry: pure (entry, env, folders
// in; a launch spec out). A stdio child inherits the proxy's environment plus the entry's env,
// minus what is the proxy's own (INHERIT_NOT); `${VAR}` is expanded in args, env and headers. It
// runs in its `cwd` (relative to the config file, `~` and `${VAR}` expanded), else in the config
// file's folder, so that relative paths in its args resolve as written wherever the host starts
// the proxy (Claude Desktop starts it in `/`).
import path from 'node:path';
import type { ServerConfig } from '../config.js';
import { broadRootReason } from '../routing/policy.js';
import type { LaunchSpec } from '../transports/types.js';
import { expandList, expandMap, expandPath } from '../expand.js';

export type { LaunchSpec };

export interface Launch {
  spec: LaunchSpec;
  /** `${VAR}`s that were not set, for a warning. */
  missing: string[];
}

/** Where a stdio server runs: its cwd, else the config file's folder. */
export function workDirOf(entry: ServerConfig, baseDir: string, env: NodeJS.ProcessEnv): string {
  return 'cwd' in entry && entry.cwd !== undefined ? path.resolve(baseDir, expandPath(entry.cwd, env)) : baseDir;
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
      cwd: workDirOf(entry, baseDir, env),
    },
    missing: [...new Set([...args.missing, ...extra.missing])],
  };
}

/**
 * Folders artifacts may come from because a downstream works there (README "Allowed sources"):
 * each stdio server's working folder (./workDirOf). A folder that is too broad (the filesystem
 * root, the home folder or one holding it) would allow every file, so it is left out with a
 * warning.
 */
export function downstreamSourceRoots(
  servers: Readonly<Record<string, ServerConfig>>,
  opts: { home: string; baseDir: string; env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform },
): { roots: string[]; warnings: string[] } {
  const roots = new Set<string>();
  const warnings: string[] = [];
  for (const [name, entry] of Object.entries(servers)) {
    if (entry.disabled || 'url' in entry) continue;
    const dir = workDirOf(entry, opts.baseDir, opts.env ?? {});
    const broad = broadRootReason(dir, opts.home, opts.platform);
    if (!broad) roots.add(dir);
    else {
      const how = entry.cwd !== undefined ? `has "cwd": ${dir}` : `runs in ${dir} (the config file's folder)`;
      warnings.push(`server "${name}" ${how}, ${broad}: not allowing artifacts from there (too broad); set "cwd" to a folder of its own, or add routing.sourceRoots`);
    }
  }
  return { roots: [...roots], warnings };
}
