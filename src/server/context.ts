// Everything a server instance shares across sessions: settings, the workspaces root, the source
// policy and the store. Built once at startup from Settings; sessions hold their own state.
import os from 'node:os';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import { terminalProgress } from '../progress.js';
import { broadRootReason, createSourcePolicy } from '../routing/policy.js';
import { routeCandidates, type RouteRequest, type RouteOutcome } from '../routing/router.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../time.js';
import { Workspaces } from '../workspace/layout.js';
import { TaskBoard } from './tasks.js';
import type { RunTarget } from '../workspace/types.js';
import { chooseRoots, type RootChoice } from '../storage/local-roots.js';
import { isRemoteRoot, type StoreOptions } from '../storage/open.js';

export interface RoutingService {
  route(req: RouteRequest): Promise<RouteOutcome>;
  /** Called after every event that wrote files (workspace resources re-list, subscribers hear). Returns unsubscribe. */
  onRouted(listener: (e: RoutedEvent) => void): () => void;
}

export interface RoutedEvent {
  run: RunTarget;
  /** Absolute paths written: every entry's dst and the manifest. */
  written: string[];
}

export interface AppContext {
  settings: Settings;
  roots: RootChoice;
  workspaces: Workspaces;
  routing: RoutingService;
  log: Logger;
  clock: Clock;
  timers: Timers;
  /** Every task this process runs or forwards, across sessions (./tasks.ts). */
  tasks: TaskBoard;
}

export async function createContext(
  settings: Settings,
  log: Logger,
  opts: { clock?: Clock; timers?: Timers; dataDir?: string; extraSourceRoots?: string[]; homeDir?: string } = {},
): Promise<AppContext> {
  const clock = opts.clock ?? systemClock;
  const timers = opts.timers ?? systemTimers;
  const roots = await chooseRoots(settings, opts.dataDir);
  if (roots.fallback) log.warn(`${roots.fallback}; using ${roots.workspacesRoot}`);
  const workspaces = await openWorkspaces(roots.workspacesRoot, clock, { maxBytes: settings.maxArtifactBytes, ...settings.s3 }, log);
  const homeDir = opts.homeDir ?? os.homedir();
  const sourceRoots = settings.sourceRoots.filter((r) => {
    const broad = broadRootReason(r, homeDir);
    if (broad) log.warn(`routing.sourceRoots: ${r} is ${broad}: not allowing artifacts from there (too broad); name a folder inside it`);
    return !broad;
  });
  const policy = await createSourcePolicy({
    // An object-store root holds no local files to route from: only a local root is a source root.
    roots: [roots.uploadRoot, ...(isRemoteRoot(workspaces.root) ? [] : [workspaces.root]), os.tmpdir(), ...sourceRoots, ...(opts.extraSourceRoots ?? [])],
    homeDir,
  });
  const store = workspaces.store;
  return {
    settings,
    roots,
    workspaces,
    log,
    clock,
    timers,
    tasks: new TaskBoard(timers),
    routing: routingService((req) => routeCandidates(req, { store, policy, clock, log }), log),
  };
}

function routingService(route: (req: RouteRequest) => Promise<RouteOutcome>, log: Logger): RoutingService {
  const listeners = new Set<(e: RoutedEvent) => void>();
  // A person watching the server in a terminal sees long copies move (never in logs or pipes).
  const tty = terminalProgress('routing');
  return {
    async route(req) {
      const caller = req.onProgress;
      const onProgress = tty || caller ? (p: { done: number; message: string }) => (tty?.show(p.message), caller?.(p)) : undefined;
      const out = await route({ ...req, onProgress }).finally(() => tty?.done());
      const written = [...out.routed.filter((e) => !e.deduplicated).map((e) => e.dst), ...(out.manifest ? [out.manifest] : [])];
      if (written.length && out.run) {
        for (const l of listeners) {
          try {
            l({ run: out.run, written });
          } catch (e) {
            log.warn(`routed-event listener failed: ${(e as Error).message}`);
          }
        }
      }
      return out;
    },
    onRouted(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * The workspaces, opened for a server. An object store that cannot be reached or used at start
 * (a missing bucket, refused credentials, an endpoint down) does not stop the server: the reason
 * is logged, and every tool call answers with it until it is fixed (README "S3 workspaces").
 */
async function openWorkspaces(root: string, clock: Clock, opts: StoreOptions, log: Logger): Promise<Workspaces> {
  try {
    return await Workspaces.open(root, clock, opts);
  } catch (e) {
    if (!isRemoteRoot(root)) throw e;
    log.warn(`${(e as Error).message}; serving anyway: tool calls will answer with this reason until it is fixed`);
    return Workspaces.open(root, clock, { ...opts, probe: false });
  }
}
