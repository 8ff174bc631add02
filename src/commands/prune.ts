// `prune --keep N [dataset]`: delete all but the newest N runs of each dataset, never the run
// `latest` names. --dry-run prints the same plan and deletes nothing.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isWithin } from '../routing/policy.js';
import { countFiles } from '../server/info.js';
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
    // Refuses a dataset folder that is a symlink (it would lead the deletes out of the root).
    await ws.datasetDir(slug, false);
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
      const dir = path.join(ws.root, plan.dataset, runId);
      const { bytes } = await countFiles(dir);
      // fs.rm removes symlinks themselves and never follows them out of the run.
      if (!opts.dryRun) {
        // Checked again right before the delete: a plain folder whose real path is inside the root.
        const st = await fs.lstat(dir).catch(() => undefined);
        const real = await fs.realpath(dir).catch(() => '');
        if (!st?.isDirectory() || !isWithin(real, ws.root) || real !== dir) throw new Error(`refusing to remove ${dir}: not a plain run folder inside ${ws.root}`);
        await fs.rm(dir, { recursive: true, force: true });
        await ws.index.forget(dir);
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
