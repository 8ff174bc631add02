// How a downstream server's process is started, in one place for the two that start one: the
// stdio transport (./child-stdio.ts) and the early start (src/proxy/early-start.ts), so an early
// child is exactly the child the transport would have started. No SDK here: the early start runs
// before the SDK has loaded.
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';

/** Process groups (POSIX): the child and everything it starts are stopped together. */
export const GROUPS = process.platform !== 'win32';

export interface ChildSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

export function spawnChild(spec: ChildSpec, spawn: typeof nodeSpawn = nodeSpawn): ChildProcess {
  return spawn(spec.command, spec.args, {
    env: spec.env,
    cwd: spec.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    shell: false,
    windowsHide: true,
    detached: GROUPS,
  });
}

/** Signals the child and (on POSIX) everything in its process group; quiet when already gone. */
export function signalChild(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (GROUPS && child.pid !== undefined) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // Gone meanwhile.
  }
}

/** Same command, arguments, folder and environment. */
export function sameSpec(a: ChildSpec, b: ChildSpec): boolean {
  if (a.command !== b.command || (a.cwd ?? '') !== (b.cwd ?? '') || a.args.length !== b.args.length) return false;
  if (a.args.some((x, i) => x !== b.args[i])) return false;
  const ka = Object.keys(a.env).filter((k) => a.env[k] !== undefined);
  const kb = Object.keys(b.env).filter((k) => b.env[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => a.env[k] === b.env[k]);
}
