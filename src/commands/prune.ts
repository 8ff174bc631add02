// `prune --keep N [dataset]`: delete all but the newest N runs of each dataset, never the run
// `latest` names. --dry-run prints the same plan and deletes nothing.
import type { Workspaces } from '../workspace/layout.js';
import { datasetSlug } from '../workspace/slug.js';
import type { Print } from './inspect.js';
import { humanBytes } from './tree.js';

export interface PrunePlan {
  dataset: string;
  remove: string[];
  keep: string[];
}

export async function planPrune(ws: Workspaces, keep: number, dataset?: string): Promise<PrunePlan[]> {
  const datasets = dataset ? [datasetSlug(dataset)] : await ws.listDatasets();
  const plans: PrunePlan[] = [];
  for (const slug of datasets) {
    // A dataset folder that is a symlink would lead the deletes out of the root.
    const there = await ws.store.stat([slug]);
    if (there && there.kind !== 'folder') throw new Error(`refusing to prune ${slug}: not a plain folder inside ${ws.root} (a symlink or a file stands there)`);
    const runs = await ws.listRuns(slug); // oldest first
    const latest = await ws.latest(slug);
    const kept = new Set(runs.slice(Math.max(0, runs.length - keep)));
    if (latest) kept.add(latest);
    plans.push({ dataset: slug, remove: runs.filter((r) => !kept.has(r)), keep: runs.filter((r) => kept.has(r)) });
  }
  return plans;
}

export async function pruneCommand(ws: Workspaces, opts: { keep: number; dataset?: string; dryRun?: boolean; json?: boolean }, print: Print): Promise<number> {
  if (!Number.isInteger(opts.keep) || opts.keep < 0) throw new Error(`--keep: expected a whole number >= 0, got ${opts.keep}`);
  let freed = 0;
  const removed: { dataset: string; run_id: string; bytes: number }[] = [];
  for (const plan of await planPrune(ws, opts.keep, opts.dataset)) {
    for (const runId of plan.remove) {
      const run = ws.target(plan.dataset, runId);
      const { bytes } = await ws.counts(run);
      // The store removes from inside the open dataset folder, each level entered by descriptor:
      // a dataset or run folder swapped for a symlink meanwhile loses only the link.
      if (!opts.dryRun) {
        await ws.store.removeTree(run.key);
        await ws.store.forgetRun(run.key);
      }
      freed += bytes;
      removed.push({ dataset: plan.dataset, run_id: runId, bytes });
      if (!opts.json) print(`${opts.dryRun ? 'would remove' : 'removed'} ${plan.dataset}/${runId}  (${humanBytes(bytes)})`);
    }
  }
  if (opts.json) print(JSON.stringify({ dry_run: !!opts.dryRun, removed, bytes_freed: freed }, null, 2));
  else print(`${opts.dryRun ? 'would free' : 'freed'} ${humanBytes(freed)} in ${removed.length} run(s)`);
  return 0;
}
