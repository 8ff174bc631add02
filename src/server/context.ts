// Everything a server instance shares across sessions: settings, the workspaces root, the source
// policy and the store. Built once at startup from Settings; sessions hold their own state.
import os from 'node:os';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import { createSourcePolicy } from '../routing/policy.js';
import { routeCandidates, type RouteRequest, type RouteOutcome } from '../routing/router.js';
import { LocalStore } from '../storage/local.js';
import { systemClock, type Clock } from '../time.js';
import { Workspaces } from '../workspace/layout.js';
import { chooseRoots, type RootChoice } from '../workspace/roots.js';

export interface RoutingService {
  route(req: RouteRequest): Promise<RouteOutcome>;
}

export interface AppContext {
  settings: Settings;
  roots: RootChoice;
  workspaces: Workspaces;
  routing: RoutingService;
  log: Logger;
  clock: Clock;
}

export async function createContext(
  settings: Settings,
  log: Logger,
  opts: { clock?: Clock; dataDir?: string; extraSourceRoots?: string[]; homeDir?: string } = {},
): Promise<AppContext> {
  const clock = opts.clock ?? systemClock;
  const roots = await chooseRoots(settings, opts.dataDir);
  if (roots.fallback) log.warn(`${roots.fallback}; using ${roots.workspacesRoot}`);
  const workspaces = await Workspaces.open(roots.workspacesRoot, clock);
  const policy = await createSourcePolicy({
    roots: [roots.uploadRoot, workspaces.root, os.tmpdir(), ...settings.sourceRoots, ...(opts.extraSourceRoots ?? [])],
    homeDir: opts.homeDir ?? os.homedir(),
  });
  const store = new LocalStore({ maxBytes: settings.maxArtifactBytes });
  return {
    settings,
    roots,
    workspaces,
    log,
    clock,
    routing: { route: (req) => routeCandidates(req, { store, policy, clock, log }) },
  };
}
