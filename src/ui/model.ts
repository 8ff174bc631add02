// What the workspace browser shows (README "Workspace browser"), as data: datasets and their runs,
// one run's files with their manifest entries, metrics as tables, and the comparison of two runs.
// Everything is read through the store (src/storage/store.ts), by key: no path is built here, so
// the browser shows a local root and an object store alike, under the same containment rules.
import mime from 'mime-types';
import type { Key, WorkspaceStore } from '../storage/store.js';
import type { Workspaces } from '../workspace/layout.js';
import { readManifestFiles, type ReadManifest } from '../workspace/manifest.js';
import { datasetSlug, isRunId } from '../workspace/slug.js';
import type { ManifestEntry, RunTarget, Subdir } from '../workspace/types.js';

/** Folders a run shows, in this order (manifests are shown per file instead; tmp is scratch). */
export const SHOWN: readonly Subdir[] = ['plots', 'reports', 'metrics', 'models', 'data', 'indexes', 'logs', 'uploads'];
/** Files listed per run at most (a run of 1,000 plots is fine; a runaway folder is cut). */
export const MAX_FILES = 5000;
/** Metrics files read at most, and their size. */
const MAX_METRICS_FILES = 50;
const MAX_METRICS_BYTES = 1024 ** 2;
const MAX_METRIC_KEYS = 500;

export interface RunSummary {
  dataset: string;
  runId: string;
  files: number;
  bytes: number;
  /** Tools that filed into it, from its manifests. */
  tools: string[];
  latest: boolean;
}

export interface FileView {
  folder: Subdir;
  /** Path below the folder (a folder artifact's members have more than one segment). */
  rel: string[];
  key: Key;
  size: number;
  mime: string;
  /** Its newest manifest entry, when one names it. */
  entry?: ManifestEntry;
}

export interface RunView {
  summary: RunSummary;
  files: FileView[];
  /** More files than MAX_FILES: the list is cut. */
  truncated: boolean;
  metrics: { name: string; values: Record<string, number | string> }[];
  skipped: { src: string; reason: string }[];
}

/** A dataset and run named in a URL, checked: the slug and run id exactly as the store names them. */
export function parseRunRef(dataset: string, runId: string): { dataset: string; runId: string } | undefined {
  if (dataset === '' || datasetSlug(dataset) !== dataset || !isRunId(runId)) return undefined;
  return { dataset, runId };
}

export async function overview(ws: Workspaces): Promise<{ dataset: string; runs: RunSummary[] }[]> {
  const out: { dataset: string; runs: RunSummary[] }[] = [];
  for (const dataset of await ws.listDatasets()) {
    const latest = await ws.latest(dataset);
    const runs = (await ws.listRuns(dataset)).reverse();
    out.push({ dataset, runs: await Promise.all(runs.map((r) => summary(ws, ws.target(dataset, r), latest))) });
  }
  return out;
}

/** `manifests`: the run's, when the caller read them already. */
async function summary(ws: Workspaces, run: RunTarget, latest: string | undefined, manifests?: ReadManifest[]): Promise<RunSummary> {
  const c = await ws.counts(run);
  const files = Object.entries(c.counts).reduce((n, [k, v]) => (k === 'manifests' ? n : n + v), 0);
  const tools = new Set<string>();
  for (const m of manifests ?? (await readManifestFiles(ws.store, run))) if (m.manifest) tools.add(m.manifest.tool);
  return { dataset: run.dataset, runId: run.runId, files, bytes: c.bytes, tools: [...tools].sort(), latest: latest === run.runId };
}

/** One run: its files by folder (with their manifest entries), metrics, and what was skipped. */
export async function runView(ws: Workspaces, dataset: string, runId: string): Promise<RunView | undefined> {
  const run = await ws.findRun(dataset, runId);
  if (!run) return undefined;
  const store = ws.store;
  const manifests = await readManifestFiles(store, run);
  const byKey = new Map<string, ManifestEntry>();
  const skipped: RunView['skipped'] = [];
  for (const m of manifests) {
    for (const e of m.manifest?.entries ?? []) {
      const key = store.keyOf(e.dst);
      if (key) byKey.set(key.join('/'), e);
    }
    skipped.push(...(m.manifest?.skipped ?? []));
  }
  const files: FileView[] = [];
  let truncated = false;
  for (const folder of SHOWN) {
    truncated ||= await walk(store, [...run.key, folder], [], (rel, key, size) => {
      if (files.length >= MAX_FILES) return false;
      // A folder artifact's entry names the folder: its members show it too.
      const entry = byKey.get(key.join('/')) ?? byKey.get([...run.key, folder, rel[0]!].join('/'));
      files.push({ folder, rel, key, size, mime: mime.lookup(rel[rel.length - 1]!) || 'application/octet-stream', ...(entry && { entry }) });
      return true;
    });
  }
  const metrics: RunView['metrics'] = [];
  for (const f of files.filter((f) => f.folder === 'metrics' && f.rel.length === 1 && /\.json$/i.test(f.rel[0]!) && f.size <= MAX_METRICS_BYTES).slice(0, MAX_METRICS_FILES)) {
    try {
      metrics.push({ name: f.rel[0]!, values: flatten(JSON.parse((await store.read(f.key, MAX_METRICS_BYTES)).toString('utf8'))) });
    } catch {
      // Not JSON after all: shown as a file, not as a table.
    }
  }
  const latest = await ws.latest(dataset);
  return { summary: await summary(ws, run, latest, manifests), files, truncated, metrics, skipped };
}

/** Calls `visit` for each file below `key`, depth first, sorted; false from it stops. Returns whether it stopped early. */
async function walk(store: WorkspaceStore, key: Key, rel: string[], visit: (rel: string[], key: Key, size: number) => boolean): Promise<boolean> {
  const entries = (await store.list(key)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = entries.filter((e) => e.kind === 'file' && e.size === undefined).map((e) => e.name);
  const sized = new Map(names.length ? (await store.sizes(key, names)).map((n, i) => [names[i]!, n] as const) : []);
  for (const e of entries) {
    if (e.kind === 'file') {
      if (!visit([...rel, e.name], [...key, e.name], e.size ?? sized.get(e.name) ?? 0)) return true;
    } else if (e.kind === 'folder') {
      if (await walk(store, [...key, e.name], [...rel, e.name], visit)) return true;
    }
  }
  return false;
}

/** Numeric and short string leaves of a metrics document, by dotted path. */
export function flatten(v: unknown, prefix = '', out: Record<string, number | string> = {}): Record<string, number | string> {
  if (Object.keys(out).length >= MAX_METRIC_KEYS) return out;
  if (typeof v === 'number' && Number.isFinite(v)) out[prefix || 'value'] = v;
  else if (typeof v === 'string' && v.length <= 80) out[prefix || 'value'] = v;
  else if (typeof v === 'boolean') out[prefix || 'value'] = String(v);
  else if (Array.isArray(v)) v.slice(0, 50).forEach((x, i) => flatten(x, prefix ? `${prefix}.${i}` : String(i), out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

export interface Comparison {
  dataset: string;
  a: string;
  b: string;
  /** By path below the run (`plots/x.png`): only in b, only in a, in both with other content. */
  added: string[];
  removed: string[];
  changed: string[];
  same: number;
  /** Metrics of the same file and key in either run, with b − a for numbers. */
  metrics: { file: string; key: string; a?: number | string; b?: number | string; delta?: number }[];
  /** Plots of the same name in both runs. */
  plots: string[];
}

/** Two runs of a dataset compared by content (sha256 where a manifest has it, else size and digest). */
export async function compareRuns(ws: Workspaces, dataset: string, a: string, b: string): Promise<Comparison | undefined> {
  const [va, vb] = await Promise.all([runView(ws, dataset, a), runView(ws, dataset, b)]);
  if (!va || !vb) return undefined;
  const path = (f: FileView) => [f.folder, ...f.rel].join('/');
  const sha = async (f: FileView) => (f.entry && f.entry.dst && ws.store.keyOf(f.entry.dst)?.join('/') === f.key.join('/') ? f.entry.sha256 : (await ws.store.digest(f.key)).sha256);
  const ma = new Map(va.files.map((f) => [path(f), f]));
  const mb = new Map(vb.files.map((f) => [path(f), f]));
  const out: Comparison = { dataset, a, b, added: [], removed: [], changed: [], same: 0, metrics: [], plots: [] };
  for (const [p, fb] of mb) {
    const fa = ma.get(p);
    if (!fa) out.added.push(p);
    else if (fa.size !== fb.size || (await sha(fa)) !== (await sha(fb))) out.changed.push(p);
    else out.same++;
    if (fa && fb.folder === 'plots' && /^image\//.test(fb.mime)) out.plots.push(p);
  }
  for (const p of ma.keys()) if (!mb.has(p)) out.removed.push(p);
  const mMetrics = (v: RunView) => new Map(v.metrics.map((m) => [m.name, m.values]));
  const [xa, xb] = [mMetrics(va), mMetrics(vb)];
  for (const file of [...new Set([...xa.keys(), ...xb.keys()])].sort()) {
    const ka = xa.get(file) ?? {};
    const kb = xb.get(file) ?? {};
    for (const key of [...new Set([...Object.keys(ka), ...Object.keys(kb)])]) {
      const [x, y] = [ka[key], kb[key]];
      out.metrics.push({ file, key, ...(x !== undefined && { a: x }), ...(y !== undefined && { b: y }), ...(typeof x === 'number' && typeof y === 'number' && { delta: y - x }) });
    }
  }
  return out;
}

