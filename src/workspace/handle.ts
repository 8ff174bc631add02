// Workspace handles: a run named explicitly, "{dataset}/{run_id}", so that a call can say where its
// artifacts go without any session (MCP 2026-07-28 has none; README "Workspaces and state").
// Pure string logic: whether the run exists is the store's to say (Workspaces.openRun).
import type { RunTarget } from './types.js';
import { datasetSlug, isRunId } from './slug.js';

/** The `_meta` key a proxied call names its run by. */
export const WORKSPACE_META_KEY = 'artifact-workspace/workspace';

/**
 * The `_meta` key a proxied call names its dataset by, for a server whose root is not the
 * caller's (a handle would name a run it does not have): a dataset hint from the proxy in front,
 * used when the call's arguments name none (README "Chaining").
 */
export const DATASET_META_KEY = 'artifact-workspace/dataset';

/**
 * The `_meta` key on our own tools that says which workspaces root answers them (the store's
 * opaque identity): a proxy in front learns from it that this server is an artifact-workspace,
 * and whether the two share a root (README "Chaining").
 */
export const ROOT_META_KEY = 'artifact-workspace/root';

export interface Handle {
  dataset: string;
  runId: string;
}

export class HandleError extends Error {
  override name = 'HandleError';
}

const MAX_HANDLE = 128;

/** The handle of a run. */
export function handleOf(run: Pick<RunTarget, 'dataset' | 'runId'>): string {
  return `${run.dataset}/${run.runId}`;
}

/**
 * A handle's dataset slug and run id. Anything else is refused with a reason: a handle is never
 * reinterpreted (no slugging of its dataset part, no path separators beyond the one, no `..`).
 */
export function parseHandle(value: unknown): Handle {
  if (typeof value !== 'string') throw new HandleError(`a workspace handle is a string "{dataset}/{run_id}", not ${value === null ? 'null' : typeof value}`);
  if (value.length > MAX_HANDLE) throw new HandleError(`workspace handle longer than ${MAX_HANDLE} characters`);
  const parts = value.split('/');
  if (parts.length !== 2) throw new HandleError(`not a workspace handle: ${JSON.stringify(value)} (expected "{dataset}/{run_id}", as ensure_workspace returns it)`);
  const [dataset, runId] = parts as [string, string];
  if (dataset === '' || dataset !== datasetSlug(dataset)) throw new HandleError(`not a workspace handle: ${JSON.stringify(value)} (its dataset part is not a dataset slug)`);
  if (!isRunId(runId)) throw new HandleError(`not a workspace handle: ${JSON.stringify(value)} (its run id is not YYYYMMDD_HHMMSS[_n])`);
  return { dataset, runId };
}
