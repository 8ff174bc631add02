// Dataset slugs and run ids: pure string logic, no fs.
import { runStamp } from '../time.js';

const MAX_SLUG = 64;
// Extensions a data file carries, possibly under a compression suffix (`tips.csv.gz` → `tips`).
const DATA_EXT = /\.(csv|tsv|txt|json|jsonl|parquet|feather|xlsx|xls|arrow|orc|avro|pkl|h5)$/i;
const COMPRESSION_EXT = /\.(gz|bz2|xz|zst|zip)$/i;
// Windows device names: a folder cannot carry one, whatever follows it.
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

/**
 * The slug of a dataset name or a file path: the file's stem, upload prefixes stripped,
 * lower-cased, reduced to [a-z0-9_-], at most 64 characters, never empty, `.` or `..`.
 */
export function datasetSlug(nameOrPath: string): string {
  let s = String(nameOrPath ?? '');
  s = s.split(/[\\/]/).filter(Boolean).pop() ?? '';
  s = s.replace(COMPRESSION_EXT, '');
  if (DATA_EXT.test(s)) s = s.replace(DATA_EXT, '');
  else s = s.replace(/\.[^.]{1,10}$/, '');
  // Upload prefixes the original design's uploader added: `uploaded_1697571234_tips`, `1697571234_tips`.
  s = s.replace(/^uploaded_\d+_/i, '').replace(/^\d{6,}[_-]/, '');
  s = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents dropped, not turned into `_`: `Café` → `cafe`
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, MAX_SLUG)
    .replace(/[_-]+$/g, '');
  // Windows refuses these names for a folder whatever follows them; a workspace may be copied there.
  if (RESERVED.test(s)) s = `${s}_dataset`;
  return s || 'default';
}

export const RUN_ID_RE = /^(\d{8}_\d{6})(?:_(\d+))?$/;

export function isRunId(s: string): boolean {
  return RUN_ID_RE.test(s);
}

/** The n-th run id of a second: n = 1 is the bare stamp, then `_2`, `_3`, … */
export function runIdFor(d: Date, n = 1): string {
  const stamp = runStamp(d);
  return n <= 1 ? stamp : `${stamp}_${n}`;
}

/** Orders run ids by timestamp, then by numeric suffix (a bare stamp is suffix 1). */
export function compareRunIds(a: string, b: string): number {
  const ma = RUN_ID_RE.exec(a);
  const mb = RUN_ID_RE.exec(b);
  if (!ma || !mb) return a < b ? -1 : a > b ? 1 : 0;
  if (ma[1] !== mb[1]) return ma[1]! < mb[1]! ? -1 : 1;
  return Number(ma[2] ?? 1) - Number(mb[2] ?? 1);
}
