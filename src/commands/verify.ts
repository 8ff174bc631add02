// `verify [dataset[/run_id]]`: re-hash every routed file against its manifest entry, reading
// through the store (nothing outside the root is ever opened: a manifest's `dst` must name a place
// inside its own run, and no symlink on the way is followed). Exit 0 when all match; 1 naming
// each drifted or missing file and each manifest that cannot be trusted.
import { StoreRefusal } from '../storage/store.js';
import type { Workspaces } from '../workspace/layout.js';
import { readManifestFiles } from '../workspace/manifest.js';
import { datasetSlug, isRunId } from '../workspace/slug.js';
import type { RunTarget } from '../workspace/types.js';
import type { Print } from './inspect.js';
import type { Progress } from '../progress.js';

export interface VerifyProblem {
  dst: string;
  problem: 'missing' | 'drifted' | 'manifest';
  detail: string;
}

/** The runs a target names: everything, a dataset, or one run. An unknown dataset or run is an error. */
async function runsOf(ws: Workspaces, target?: string): Promise<RunTarget[]> {
  if (target?.includes('/')) {
    const [ds, run] = target.split('/');
    if (!run || !isRunId(run)) throw new Error(`not a run id: ${JSON.stringify(run)} (expected dataset/YYYYMMDD_HHMMSS[_n])`);
    const found = await ws.findRun(datasetSlug(ds!), run);
    if (!found) throw new Error(`no run ${run} for dataset "${datasetSlug(ds!)}" under ${ws.root}`);
    return [found];
  }
  const datasets = target ? [datasetSlug(target)] : await ws.listDatasets();
  const out: RunTarget[] = [];
  for (const d of datasets) for (const r of await ws.listRuns(d)) out.push(ws.target(d, r));
  if (target && !out.length) throw new Error(`no runs for dataset "${datasetSlug(target)}" under ${ws.root}`);
  return out;
}

const within = (key: readonly string[], prefix: readonly string[]): boolean => key.length > prefix.length && prefix.every((s, i) => key[i] === s);

export async function verifyRuns(ws: Workspaces, target: string | undefined, progress?: Progress): Promise<{ checked: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  const { store } = ws;
  let checked = 0;
  for (const run of await runsOf(ws, target)) {
    const seen = new Set<string>();
    for (const m of await readManifestFiles(store, run)) {
      for (const p of m.problems) problems.push({ dst: m.file, problem: 'manifest', detail: p });
      for (const e of m.manifest?.entries ?? []) {
        if (seen.has(e.dst)) continue;
        seen.add(e.dst);
        checked++;
        progress?.tick(e.dst);
        // Only files inside this run are ours to vouch for; a hand-edited dst elsewhere is drift.
        const key = store.keyOf(e.dst);
        if (!key || !within(key, run.key)) {
          problems.push({ dst: e.dst, problem: 'drifted', detail: 'manifest points outside its run' });
          continue;
        }
        let got: { bytes: number; sha256: string } | undefined;
        try {
          got = await store.digest(key);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') problems.push({ dst: e.dst, problem: 'missing', detail: 'file is gone' });
          else problems.push({ dst: e.dst, problem: 'drifted', detail: err instanceof StoreRefusal ? `no longer a regular file or folder (${err.message})` : `cannot be read (${code ?? (err as Error).message})` });
          continue;
        }
        if (got.sha256 !== e.sha256 || got.bytes !== e.bytes) {
          problems.push({ dst: e.dst, problem: 'drifted', detail: `sha256 ${got.sha256.slice(0, 12)}… (${got.bytes} B), manifest says ${e.sha256.slice(0, 12)}… (${e.bytes} B)` });
        }
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
