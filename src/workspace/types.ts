// Shapes shared by every room that touches a workspace: the run layout, manifests and their
// entries, and the pure rules for their names. Pure: it imports nothing but the store's Key type.

/** The ten run subfolders, in the order the README lists them. */
export const SUBDIRS = ['uploads', 'data', 'models', 'reports', 'plots', 'metrics', 'indexes', 'logs', 'tmp', 'manifests'] as const;
export type Subdir = (typeof SUBDIRS)[number];

/** Where an artifact should go; `manifests` is never a routing target. */
export type TargetSubdir = Exclude<Subdir, 'manifests'>;

export type RouteMode = 'copy' | 'move';

/** A place in the store, as path segments below the workspaces root: `[dataset, run_id, subdir, name]`. */
export type { Key } from '../storage/store.js';
import type { Key } from '../storage/store.js';

/** One manifest entry (README "Manifests"). */
export interface ManifestEntry {
  tool: string;
  type: string;
  label: string;
  src: string;
  /** Where the artifact is: an absolute path (a local root) or an `s3://` URI. */
  dst: string;
  mode: RouteMode | 'write';
  bytes: number;
  sha256: string;
  mime: string;
  ts: string;
  /** Folder artifacts only: number of regular files inside. */
  files?: number;
  /** The same content was already stored at `dst`; nothing new was written. */
  deduplicated?: boolean;
  gpu_used?: boolean;
  gpu_device?: string;
}

export interface Skipped {
  src: string;
  reason: string;
}

export interface Manifest {
  schema: 1;
  dataset: string;
  run_id: string;
  tool: string;
  ts: string;
  entries: ManifestEntry[];
  skipped: Skipped[];
}

/** One run: the workspace a routing event writes into (made by src/workspace). */
export interface RunTarget {
  dataset: string;
  runId: string;
  /** `[dataset, runId]`. */
  key: Key;
  /** Where the run is, as people see it: `{root}/{dataset}/{runId}` (a path, or an s3:// URI). */
  runDir: string;
  subdirs: Record<Subdir, string>;
}

/** Files and bytes of a run, per subfolder, with the newest manifest names. */
export interface RunCounts {
  counts: Record<Subdir, number>;
  bytes: number;
  /** Manifest file names newest first; `complete` when that is all of them. */
  manifests: { newest: string[]; complete: boolean };
}

const MANIFEST_NAME = /^manifest_(\d{8}_\d{6}_\d{3})(?:_(\d+))?\.json$/;

/**
 * A sort key of a manifest file name (stamp, then numeric suffix), computed once per name so that
 * ordering 100k names costs one regex each rather than one per comparison. Undefined for other names.
 */
export function manifestKey(name: string): string | undefined {
  const m = MANIFEST_NAME.exec(name);
  if (!m) return undefined;
  return `${m[1]}_${String(Number(m[2] ?? 0)).padStart(16, '0')}`;
}

/** Manifest file names among `names`, newest first, at most `limit` (sort keys computed once per name). */
export function newestManifestNames(names: string[], limit: number): string[] {
  const keyed: [string, string][] = [];
  for (const n of names) {
    const k = manifestKey(n);
    if (k !== undefined) keyed.push([k, n]);
  }
  keyed.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
  return keyed.slice(0, limit).map((e) => e[1]);
}
