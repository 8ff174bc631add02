// Shared shapes of the routing core. Pure data: no fs, no SDK.

/** The ten run subfolders, in SPEC order. */
export const SUBDIRS = ['uploads', 'data', 'models', 'reports', 'plots', 'metrics', 'indexes', 'logs', 'tmp', 'manifests'] as const;
export type Subdir = (typeof SUBDIRS)[number];

/** Where an artifact should go; `manifests` is never a routing target. */
export type TargetSubdir = Exclude<Subdir, 'manifests'>;

/**
 * Something a tool result names as an artifact.
 * - `path`: a file or folder on disk, still hostile until the source policy clears it.
 * - `inline`: bytes carried in the result itself (image/audio/embedded resource blocks).
 */
export type Candidate =
  | {
      kind: 'path';
      path: string;
      /** Declared type (`artifacts[].type`) or the type implied by the key (`plot_path` → plot). */
      type?: string;
      /** The key or label it was found under (`plot_paths`, `artifacts[0]`, an explicit label). */
      label: string;
      /** Named in `artifacts[]` (or passed to route_artifacts): overrides the "input, not artifact" rule. */
      explicit: boolean;
    }
  | {
      kind: 'inline';
      blockType: 'image' | 'audio' | 'resource';
      /** base64 (image, audio, resource blob) or utf-8 text (resource text); decoded only by the store. */
      encoding: 'base64' | 'utf8';
      data: string;
      mime?: string;
      /** A file name suggested by the block (the last segment of a resource URI), unsanitised. */
      name?: string;
      label: string;
    };

export interface Detection {
  candidates: Candidate[];
  /** Bounds that were hit while walking the result (depth, node count, candidate count). */
  limits: string[];
  /** GPU facts the result itself states (`gpu_used`, `gpu_device`, `device: "cuda:0"` …). */
  gpu?: { used: boolean; device?: string };
}

export type RouteMode = 'copy' | 'move';

/** One manifest entry (SPEC "Manifest"). */
export interface ManifestEntry {
  tool: string;
  type: string;
  label: string;
  src: string;
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

/** The run folder a routing event writes into (made by src/workspace). */
export interface RunTarget {
  dataset: string;
  runId: string;
  /** Absolute, real (symlink-free) path of `{root}/{dataset}/{runId}`. */
  runDir: string;
  subdirs: Record<Subdir, string>;
}
