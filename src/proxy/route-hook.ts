// The routing hook: after an allowlisted tool returns, file its artifacts into the session's
// workspace and tell the host. A decision, not a side channel: it returns {kind: 'pass'} (the
// result goes back untouched) or {kind: 'routed'} with the result to send. Routing never breaks
// a call: any failure becomes a `skipped` entry in `_meta` and a line on stderr, and the tool's
// own content, structuredContent and isError are never changed, only appended to.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CallToolResult, ResourceLink } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import type { ResultKeys } from '../routing/classify.js';
import { argumentPaths, detectArtifacts } from '../routing/detect.js';
import { gpuFacts } from '../routing/gpu.js';
import type { KeptFile, RouteOutcome, RouteRequest } from '../routing/router.js';
import { storedByInner } from './chain.js';
import type { ManifestEntry, RouteMode, RunTarget, Skipped } from '../workspace/types.js';

export const ROUTED_META_KEY = 'artifact-workspace/routed';
export const LOGGER_NAME = 'artifact-workspace';

export interface RoutedMeta {
  entries: ManifestEntry[];
  skipped: Skipped[];
  manifest: string | null;
}

export type HookOutcome =
  | { kind: 'pass'; why: string }
  | { kind: 'routed'; result: CallToolResult; meta: RoutedMeta; run?: RunTarget; message?: string };

export interface HookCall {
  tool: string;
  args: Record<string, unknown> | undefined;
  result: CallToolResult;
  /** The run to route into (the dataset the call named, else the session's current one). */
  run: () => Promise<RunTarget>;
  /** Where relative paths in the result point (the downstream's working folder). */
  baseDir?: string;
}

export interface HookDeps {
  route: (req: RouteRequest) => Promise<RouteOutcome>;
  mode: RouteMode;
  log: Logger;
  /** Result keys the config adds (`routing.resultKeys`). */
  resultKeys?: ResultKeys;
  /** Files an inner artifact-workspace stored under another root: copied (default) or left linked there. */
  otherRoots?: 'copy' | 'link';
}

export async function routeResult(call: HookCall, deps: HookDeps): Promise<HookOutcome> {
  // A tool that reports an error has not produced its outputs: what it names are partial files
  // or its inputs, and filing them would put a failed run's debris into the workspace as if it
  // were a result. The error goes back to the agent untouched.
  if (call.result.isError) return { kind: 'pass', why: 'the tool reported an error' };
  const detection = detectArtifacts(call.result, { resultKeys: deps.resultKeys });
  if (detection.candidates.length === 0) {
    // The tool is on the allowlist, so it was expected to make files: say so, with the way out.
    deps.log.info(`${call.tool}: nothing to route in its result (no known path keys, file:// links or inline files); if it writes files, name their result keys in routing.resultKeys`);
    return { kind: 'pass', why: 'no artifacts in the result' };
  }
  let run: RunTarget | undefined;
  let meta: RoutedMeta;
  let kept: KeptFile[] = [];
  try {
    const out = await deps.route({
      tool: call.tool,
      candidates: detection.candidates,
      inputs: argumentPaths(call.args),
      mode: deps.mode,
      // Made only when something is filed (or refused) there: files already stored make no run.
      run: call.run,
      keep: { inner: storedByInner(call.result._meta, ROUTED_META_KEY), otherRoots: deps.otherRoots ?? 'copy' },
      gpu: await gpuFacts(call.args, detection.gpu),
      limits: detection.limits,
      baseDir: call.baseDir,
    });
    run = out.run;
    kept = out.kept ?? [];
    meta = { entries: out.routed, skipped: out.skipped, manifest: out.manifest };
  } catch (e) {
    const reason = `routing failed: ${(e as Error)?.message ?? String(e)}`;
    deps.log.error(`${call.tool}: ${reason}${(e as Error)?.stack ? `\n${(e as Error).stack}` : ''}`);
    meta = { entries: [], skipped: [{ src: '(routing)', reason }], manifest: null };
  }
  const content = Array.isArray(call.result.content) ? call.result.content : [];
  // One link per URI: what the result already links (an inner server's links) is not linked again.
  const linked = new Set(content.flatMap((b) => (b && typeof b === 'object' && b.type === 'resource_link' && typeof b.uri === 'string' ? [b.uri] : [])));
  const links: ResourceLink[] = [];
  for (const f of [...meta.entries, ...kept]) {
    const uri = pathToFileURL(f.dst).href;
    if (linked.has(uri)) continue;
    linked.add(uri);
    links.push({ type: 'resource_link', uri, name: path.basename(f.dst), ...(f.mime && { mimeType: f.mime }) });
  }
  const filed = meta.entries.length > 0 || meta.skipped.length > 0;
  // Only the call's own inputs were named, or files already stored and linked: nothing to add.
  if (!filed && links.length === 0) return { kind: 'pass', why: kept.length ? 'its files are already stored and linked' : 'nothing but the call\'s inputs in the result' };
  for (const s of meta.skipped) deps.log.info(`${call.tool}: not routed ${s.src}: ${s.reason}`);
  const result: CallToolResult = {
    ...call.result,
    content: [...content, ...links],
    // Nothing filed here: the result's own account (an inner server's) stays as it is.
    ...(filed && { _meta: { ...call.result._meta, [ROUTED_META_KEY]: meta } }),
  };
  const n = meta.entries.length;
  const message = n && run ? `routed ${n} file${n === 1 ? '' : 's'} to ${run.dataset}/${run.runId}` : undefined;
  return { kind: 'routed', result, meta, run, message };
}

// Argument names that name any file, not only a dataset (a filesystem server's `path`): their
// value counts as a dataset hint only when it looks like a data file.
const GENERIC_KEYS = new Set(['path', 'file_path', 'filePath', 'file', 'filename']);
const DATA_FILE = /\.(csv|tsv|parquet|feather|arrow|xlsx|xls|orc|avro|jsonl|ndjson|h5|hdf5)(\.(gz|bz2|xz|zst|zip))?$/i;

/**
 * The dataset a call's arguments name (README "Proxy mode", dataset hints: csv_path, dataset,
 * data_path, file_path, path by default, in that order). A generic key (`path`, `file_path`)
 * counts only for a data file (`tips.csv`, `sales.parquet`), so reading `notes.md` or listing a
 * folder names no dataset.
 */
export function datasetHint(args: Record<string, unknown> | undefined, keys: readonly string[]): string | undefined {
  if (!args || typeof args !== 'object') return undefined;
  for (const k of keys) {
    const v = Object.prototype.hasOwnProperty.call(args, k) ? args[k] : undefined;
    if (typeof v !== 'string' || v.trim() === '') continue;
    if (GENERIC_KEYS.has(k) && !DATA_FILE.test(v.trim())) continue;
    return v;
  }
  return undefined;
}
