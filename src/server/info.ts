// What get_workspace_info (and the `info` command) report about a run. Read-only: it never makes
// a folder, and it never follows a symlink while counting. Counts come from the run's counts index
// (src/workspace/index.ts), which re-reads exactly the folders that changed; `recent` reads only
// the newest manifests; `runs` lists run names without statting every run.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RunTarget } from '../routing/types.js';
import { recentEntries } from '../workspace/manifest.js';
import type { Workspaces } from '../workspace/layout.js';
import type { InfoOut } from './schemas.js';

const RECENT_ENTRIES = 10;
const RECENT_RUNS = 20;

export async function countFiles(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    const names = await fs.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const n of names) {
      const p = path.join(d, n.name);
      if (n.isDirectory()) stack.push(p);
      else if (n.isFile()) {
        files++;
        bytes += (await fs.lstat(p).catch(() => undefined))?.size ?? 0;
      }
    }
  }
  return { files, bytes };
}

export async function describeRun(
  workspaces: Workspaces,
  run: RunTarget | undefined,
  base: { mode: 'copy' | 'move'; rootFallback?: string },
): Promise<InfoOut> {
  const common = {
    workspaces_root: workspaces.root,
    ...(base.rootFallback ? { root_fallback: base.rootFallback } : {}),
    mode: base.mode,
  };
  if (!run) {
    return { active: false, ...common, dataset: null, run_id: null, workspace_root: null, subdirs: null, latest: null, counts: {}, bytes: 0, runs: [], recent: [] };
  }
  const [stats, runs, latest] = await Promise.all([workspaces.index.counts(run.runDir), workspaces.recentRuns(run.dataset, RECENT_RUNS), workspaces.latest(run.dataset)]);
  const recent = await recentEntries(run.runDir, RECENT_ENTRIES, stats.manifests);
  return {
    active: true,
    ...common,
    dataset: run.dataset,
    run_id: run.runId,
    workspace_root: run.runDir,
    subdirs: run.subdirs,
    latest: latest ?? null,
    counts: stats.counts,
    bytes: stats.bytes,
    runs,
    recent,
  };
}
