// `${VAR}` expansion for server entries (args, env, headers), pure: the environment is a
// parameter. `${VAR:-fallback}` uses the fallback when VAR is unset or empty, as shells do.
// An unset variable without a fallback becomes '' and is reported, so the caller can say which
// entry named it instead of starting a server with a silently empty argument.

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Expanded<T> {
  value: T;
  /** Variables that were named but not set (no fallback given). */
  missing: string[];
}

export function expandString(s: string, env: NodeJS.ProcessEnv): Expanded<string> {
  const missing: string[] = [];
  const value = s.replace(PATTERN, (_m, name: string, fallback: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    if (v === undefined) missing.push(name);
    return '';
  });
  return { value, missing };
}

export function expandList(list: readonly string[] | undefined, env: NodeJS.ProcessEnv): Expanded<string[]> {
  const missing: string[] = [];
  const value = (list ?? []).map((s) => {
    const r = expandString(s, env);
    missing.push(...r.missing);
    return r.value;
  });
  return { value, missing };
}

/** Expands the values of a map; keys are taken literally. */
export function expandMap(map: Readonly<Record<string, string>> | undefined, env: NodeJS.ProcessEnv): Expanded<Record<string, string>> {
  const missing: string[] = [];
  const value: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) {
    const r = expandString(v, env);
    missing.push(...r.missing);
    value[k] = r.value;
  }
  return { value, missing };
}

/**
 * A path as people write it in a config: `${VAR}` expanded, and a leading `~` (alone or before a
 * separator) standing for the home folder ($HOME, else %USERPROFILE%). Other text is kept.
 */
export function expandPath(p: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || env.USERPROFILE || '';
  const s = expandString(p, env).value;
  return home && (s === '~' || s.startsWith('~/') || s.startsWith('~\\')) ? home + s.slice(1) : s;
}
