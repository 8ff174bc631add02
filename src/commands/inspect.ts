// `info` and `ls`: what get_workspace_info says, for a person (tables), or as JSON (--json).
import path from 'node:path';
import { describeRun } from '../server/info.js';
import type { InfoOut } from '../server/schemas.js';
import type { Workspaces } from '../workspace/layout.js';
import { datasetSlug } from '../workspace/slug.js';
import { humanBytes } from './tree.js';

export type Print = (s: string) => void;

/** Fixed-width text table; the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Files and bytes of a run, from the counts index (no walk of an unchanged run). */
async function runSize(ws: Workspaces, slug: string, runId: string): Promise<{ files: number; bytes: number }> {
  const c = await ws.counts(ws.target(slug, runId));
  return { files: Object.values(c.counts).reduce((a, b) => a + b, 0), bytes: c.bytes };
}

/** The run `info` describes: the one named, else the dataset's `latest`, else its newest. */
async function pickRun(ws: Workspaces, target: string): Promise<{ slug: string; runId?: string }> {
  const [ds, run] = target.split('/');
  const slug = datasetSlug(ds ?? '');
  if (run) return { slug, runId: run };
  const runs = await ws.listRuns(slug);
  return { slug, runId: (await ws.latest(slug)) ?? runs[runs.length - 1] };
}

export async function infoCommand(ws: Workspaces, target: string | undefined, opts: { json?: boolean; mode: 'copy' | 'move' }, print: Print): Promise<number> {
  if (!target) {
    const datasets = await ws.listDatasets();
    const rows = [['dataset', 'runs', 'latest', 'files', 'size']];
    const json: Record<string, unknown>[] = [];
    for (const slug of datasets) {
      const runs = await ws.listRuns(slug);
      const size = { files: 0, bytes: 0 };
      for (const r of runs) {
        const c = await runSize(ws, slug, r);
        size.files += c.files;
        size.bytes += c.bytes;
      }
      const latest = (await ws.latest(slug)) ?? null;
      json.push({ dataset: slug, runs: runs.length, latest, files: size.files, bytes: size.bytes });
      rows.push([slug, String(runs.length), latest ?? '-', String(size.files), humanBytes(size.bytes)]);
    }
    if (opts.json) print(JSON.stringify({ workspaces_root: ws.root, datasets: json }, null, 2));
    else print(datasets.length ? `${ws.root}\n\n${table(rows)}` : `${ws.root}\n\n(no workspaces yet)`);
    return 0;
  }
  const { slug, runId } = await pickRun(ws, target);
  if (!runId) {
    print(`no runs for dataset "${slug}" under ${ws.root}`);
    return 1;
  }
  const run = await ws.findRun(slug, runId);
  if (!run) {
    print(`no run ${runId} for dataset "${slug}" under ${ws.root}`);
    return 1;
  }
  const info = await describeRun(ws, run, { mode: opts.mode });
  print(opts.json ? JSON.stringify(info, null, 2) : formatInfo(info));
  return 0;
}

export function formatInfo(i: InfoOut): string {
  const lines = [
    `dataset    ${i.dataset}`,
    `run        ${i.run_id}${i.run_id === i.latest ? '  (latest)' : ''}`,
    `folder     ${i.workspace_root}`,
    `mode       ${i.mode}`,
    `size       ${humanBytes(i.bytes)}`,
    '',
    table([['folder', 'files'], ...Object.entries(i.counts).map(([k, v]) => [`${k}/`, String(v)])]),
  ];
  if (i.recent.length) {
    lines.push('', 'recent artifacts:');
    lines.push(table([['tool', 'type', 'file', 'size'], ...i.recent.map((e) => [e.tool, e.type, path.relative(i.workspace_root ?? '', e.dst), humanBytes(e.bytes)])]));
  }
  if (i.runs.length > 1) lines.push('', `other runs: ${i.runs.filter((r) => r !== i.run_id).slice(0, 10).join(', ')}`);
  return lines.join('\n');
}

export async function lsCommand(ws: Workspaces, dataset: string | undefined, opts: { json?: boolean }, print: Print): Promise<number> {
  if (!dataset) return infoCommand(ws, undefined, { json: opts.json, mode: 'copy' }, print);
  const slug = datasetSlug(dataset);
  const runs = (await ws.listRuns(slug)).reverse();
  const latest = await ws.latest(slug);
  const rows = [['run', 'files', 'size', '']];
  const json: Record<string, unknown>[] = [];
  for (const r of runs) {
    const c = await runSize(ws, slug, r);
    json.push({ run_id: r, files: c.files, bytes: c.bytes, latest: r === latest });
    rows.push([r, String(c.files), humanBytes(c.bytes), r === latest ? 'latest' : '']);
  }
  if (opts.json) print(JSON.stringify({ dataset: slug, runs: json }, null, 2));
  else print(runs.length ? table(rows) : `no runs for dataset "${slug}"`);
  return runs.length ? 0 : 1;
}
