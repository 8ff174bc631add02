// Shapes of the routing core: what detection finds in a tool result. Pure data: no fs, no SDK.

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
