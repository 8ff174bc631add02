// `verify [dataset[/run_id]]`: re-hash every routed file against its manifest entry.
// Exit 0 when all match; 1 naming each drifted or missing file.
import fs from 'node:fs/promises';
import path from 'node:path';
import { hashFile } from '../storage/local-io.js';
import { hashTree } from '../storage/local-tree.js';
import type { Workspaces } from '../workspace/layout.js';
import { readManifests } from '../workspace/manifest.js';
import { datasetSlug, isRunId } from '../workspace/slug.js';
import type { Print } from './inspect.js';
import type { Progress } from '../progress.js';

export interface VerifyProblem {
  dst: string;
  problem: 'missing' | 'drifted';
  detail: string;
}

/** The (dataset, run) pairs a target names: everything, a dataset, or one run. */
async function runsOf(ws: Workspaces, target?: string): Promise<[string, string][]> {
  if (target?.includes('/')) {
    const [ds, run] = target.split('/');
    if (!run || !isRunId(run)) throw new Error(`not a run id: ${JSON.stringify(run)} (expected dataset/YYYYMMDD_HHMMSS[_n])`);
    return [[datasetSlug(ds!), run]];
  }
  const datasets = target ? [datasetSlug(target)] : await ws.listDatasets();
  const out: [string, string][] = [];
  for (const d of datasets) for (const r of await ws.listRuns(d)) out.push([d, r]);
  return out;
}

export async function verifyRuns(ws: Workspaces, target: string | undefined, progress?: Progress): Promise<{ checked: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  let checked = 0;
  for (const [slug, runId] of await runsOf(ws, target)) {
    const run = ws.target(slug, runId);
    const seen = new Set<string>();
    for (const m of await readManifests(run.runDir)) {
      for (const e of m.entries) {
        // Only files inside this run are ours to vouch for; a hand-edited dst elsewhere is drift.
        if (seen.has(e.dst)) continue;
        seen.add(e.dst);
        checked++;
        progress?.tick(path.relative(ws.root, e.dst));
        if (path.relative(run.runDir, e.dst).startsWith('..') || !path.isAbsolute(e.dst)) {
          problems.push({ dst: e.dst, problem: 'drifted', detail: 'manifest points outside its run' });
          continue;
        }
        const st = await fs.lstat(e.dst).catch(() => undefined);
        if (!st) {
          problems.push({ dst: e.dst, problem: 'missing', detail: 'file is gone' });
          continue;
        }
        const got = st.isDirectory() ? await hashTree(e.dst) : st.isFile() ? await hashFile(e.dst) : undefined;
        if (!got) problems.push({ dst: e.dst, problem: 'drifted', detail: 'no longer a regular file or folder' });
        else if (got.sha256 !== e.sha256 || got.bytes !== e.bytes)
          problems.push({ dst: e.dst, problem: 'drifted', detail: `sha256 ${got.sha256.slice(0, 12)}… (${got.bytes} B), manifest says ${e.sha256.slice(0, 12)}… (${e.bytes} B)` });
      }
    }
  }
  progress?.done();
  return { checked, problems };
}

export async function verifyCommand(ws: Workspaces, target: string | undefined, opts: { json?: boolean }, print: Print, progress?: Progress): Promise<number> {
  const { checked, problems } = await verifyRuns(ws, target, progress);
  if (opts.json) print(JSON.stringify({ checked, ok: problems.length === 0, problems }, null, 2));
  else {
    for (const p of problems) print(`${p.problem.toUpperCase()}  ${p.dst}  (${p.detail})`);
    print(`${checked} file(s) checked, ${problems.length} problem(s)`);
  }
  return problems.length ? 1 : 0;
}
