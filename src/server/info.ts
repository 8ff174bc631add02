// What get_workspace_info (and the `info` command) report about a run. Read-only: it never makes
// a folder, and it never follows a symlink while counting. Counts come from the run's counts index
// (src/storage/local-index.ts), which re-reads exactly the folders that changed; `recent` reads only
// the newest manifests; `runs` lists run names without statting every run.
import { recentEntries } from '../workspace/manifest.js';
import type { Workspaces } from '../workspace/layout.js';
import { handleOf } from '../workspace/handle.js';
import type { RunTarget } from '../workspace/types.js';
import type { InfoOut } from './schemas.js';

const RECENT_ENTRIES = 10;
const RECENT_RUNS = 20;

/** What a run holds; with no run, what is known: the root, and the current dataset if there is one (no run made yet). */
export async function describeRun(
  workspaces: Workspaces,
  run: RunTarget | undefined,
  base: { mode: 'copy' | 'move'; rootFallback?: string; dataset?: string },
): Promise<InfoOut> {
  const common = {
    workspaces_root: workspaces.root,
    ...(base.rootFallback ? { root_fallback: base.rootFallback } : {}),
    mode: base.mode,
  };
  if (!run) {
    return { active: false, ...common, dataset: base.dataset ?? null, run_id: null, workspace: null, workspace_root: null, subdirs: null, latest: null, counts: {}, bytes: 0, runs: [], recent: [] };
  }
  const [stats, runs, latest] = await Promise.all([workspaces.counts(run), workspaces.recentRuns(run.dataset, RECENT_RUNS), workspaces.latest(run.dataset)]);
  const recent = await recentEntries(workspaces.store, run, RECENT_ENTRIES, stats.manifests);
  return {
    active: true,
    ...common,
    dataset: run.dataset,
    run_id: run.runId,
    workspace: handleOf(run),
    workspace_root: run.runDir,
    subdirs: run.subdirs,
    latest: latest ?? null,
    counts: stats.counts,
    bytes: stats.bytes,
    runs,
    recent,
  };
}
