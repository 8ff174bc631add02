// Starting the stdio servers of the config while the proxy itself is still loading. A host waits
// for the first tools/list that has the servers' tools; started one after the other (our modules,
// then each server's), the two start-ups add up. So `serve` reads the config file as plain JSON
// first (before the config schema and the SDK load), starts each stdio entry's process, and the
// server's transport later adopts it (./connect.ts) when it is exactly the process the checked
// config asks for: same command, arguments, folder and environment (README "Start-up").
//
// Nothing is decided here: the process only waits on its stdin. The entry is checked as usual
// afterwards; initialize still waits for the first host (so the server hears what that host
// declared). A child no connection adopts (the entry changed in the check, the server is
// disabled, the config is refused, the proxy stops first) is stopped, and so is every early
// child left when this process exits.
import fs from 'node:fs';
import path from 'node:path';
import type { ServerConfig } from '../config.js';
import { configPathFrom } from '../config-path.js';
import type { AdoptedChild } from '../transports/child-stdio.js';
import { sameSpec, signalChild, spawnChild, type ChildSpec } from '../transports/spawn-child.js';
import { isObject } from './call-request.js';
import { launchSpec } from './launch.js';

interface Early extends AdoptedChild {
  spec: ChildSpec;
  /** It exited or failed to start: not adoptable. */
  gone: boolean;
}

export class EarlyStarts {
  private readonly pool = new Map<string, Early>();
  private readonly onExit = () => this.stopAll();
  private listening = false;

  /** Starts `spec` for the server `name` now. */
  add(name: string, spec: ChildSpec): void {
    if (!this.listening) process.once('exit', this.onExit);
    this.listening = true;
    const child = spawnChild(spec);
    const early: Early = { spec, child, gone: false, spawned: Promise.resolve() };
    early.spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e) => {
        early.gone = true;
        reject(e);
      });
    });
    early.spawned.catch(() => {});
    child.once('exit', () => (early.gone = true));
    // Until a transport adopts it, a failing pipe must not become an uncaught error.
    for (const s of [child.stdin, child.stdout, child.stderr]) s?.on('error', () => {});
    this.pool.set(name, early);
  }

  /** The names with a child waiting. */
  names(): string[] {
    return [...this.pool.keys()];
  }

  /**
   * The running child started for `name`, when it is exactly `spec`; it is then the caller's.
   * Asked once per name: a child that does not match, or has exited, is stopped.
   */
  take(name: string, spec: ChildSpec): AdoptedChild | undefined {
    const early = this.pool.get(name);
    if (!early) return undefined;
    this.pool.delete(name);
    if (!early.gone && sameSpec(early.spec, spec)) return { child: early.child, spawned: early.spawned };
    this.stop(early);
    return undefined;
  }

  /** Stops every child not adopted. */
  stopAll(): void {
    for (const early of this.pool.values()) this.stop(early);
    this.pool.clear();
    process.removeListener('exit', this.onExit);
    this.listening = false;
  }

  private stop(early: Early): void {
    if (early.child.exitCode !== null || early.child.signalCode !== null || early.child.pid === undefined) return;
    early.child.stdin?.end();
    signalChild(early.child, 'SIGTERM');
  }
}

/**
 * Reads the config file `serve` will read and starts its stdio servers. Anything unexpected (no
 * file, not JSON, an entry of the wrong shape) starts nothing: the checked config decides, later,
 * with its own clear errors.
 */
export function startEarly(flags: { config?: string }, env: NodeJS.ProcessEnv, cwd: string): EarlyStarts {
  return startFrom(configFile(flags, env, cwd), env);
}

const configFile = (flags: { config?: string }, env: NodeJS.ProcessEnv, cwd: string): string | undefined => configPathFrom(flags, env, cwd, (p) => fs.existsSync(p));

function startFrom(file: string | undefined, env: NodeJS.ProcessEnv): EarlyStarts {
  const early = new EarlyStarts();
  if (!file) return early;
  let servers: unknown;
  try {
    servers = (JSON.parse(fs.readFileSync(file, 'utf8')) as { mcpServers?: unknown })?.mcpServers;
  } catch {
    return early;
  }
  if (!isObject(servers)) return early;
  for (const [name, entry] of Object.entries(servers)) {
    const stdio = stdioEntry(entry);
    if (!stdio) continue;
    const { spec } = launchSpec(stdio, env, path.dirname(file));
    if (spec.kind !== 'stdio') continue;
    try {
      early.add(name, spec);
    } catch {
      // Started later, by the transport, with its error reported there.
    }
  }
  return early;
}

/** The config named by the flags the early start was begun with, and its children. */
let begun: { config: string | undefined; early: EarlyStarts } | undefined;

/** Starts the servers as `serve` with these flags would, before the command line is parsed (src/main.ts). */
export function beginEarly(flags: { config?: string }, env: NodeJS.ProcessEnv, cwd: string): void {
  const config = configFile(flags, env, cwd);
  begun = { config, early: startFrom(config, env) };
}

/**
 * The early children for `serve` with the parsed flags: those begun from the raw arguments when
 * they name the same config file, else (the raw reading was wrong) started now.
 */
export function earlyFor(flags: { config?: string }, env: NodeJS.ProcessEnv, cwd: string): EarlyStarts {
  const was = begun;
  begun = undefined;
  const config = configFile(flags, env, cwd);
  if (was && was.config === config) return was.early;
  was?.early.stopAll();
  return startFrom(config, env);
}

const strings = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
const stringMap = (v: unknown): boolean => v === undefined || (isObject(v) && Object.values(v).every((x) => typeof x === 'string'));

/** An enabled stdio entry whose launch fields have the schema's types, else undefined. */
export function stdioEntry(entry: unknown): ServerConfig | undefined {
  if (!isObject(entry) || entry.disabled === true) return undefined;
  if ((entry.type !== undefined && entry.type !== 'stdio') || 'url' in entry) return undefined;
  if (typeof entry.command !== 'string' || !entry.command) return undefined;
  if (!strings(entry.args) || !stringMap(entry.env) || (entry.cwd !== undefined && typeof entry.cwd !== 'string')) return undefined;
  return { command: entry.command, args: entry.args as string[] | undefined, env: entry.env as Record<string, string> | undefined, cwd: entry.cwd as string | undefined };
}
