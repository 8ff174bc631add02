// Our own tools as data: name, schemas, annotations and a handler over a session.
// Handlers return plain objects; src/server/app.ts turns them into MCP results in one place.
import type { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/server';
import { detectArtifacts } from '../routing/detect.js';
import type { Candidate } from '../routing/types.js';
import { HandleError, handleOf, parseHandle } from '../workspace/handle.js';
import type { WorkspaceSession } from '../workspace/session.js';
import { datasetSlug } from '../workspace/slug.js';
import type { RunTarget } from '../workspace/types.js';
import type { AppContext } from './context.js';
import { ToolFailure } from './errors.js';
import { COMPARE_VIEW_URI, WORKSPACE_VIEW_URI } from './app-views.js';
import { compareRuns } from '../ui/model.js';
import { isRunId } from '../workspace/slug.js';
import { describeRun } from './info.js';
import { OWN_TOOL_SCHEMAS, type OwnToolSchemas } from './own-tool-schemas.js';
import {
  CompareInput,
  CompareOutput,
  EnsureInput,
  EnsureOutput,
  InfoInput,
  InfoOutput,
  RouteInput,
  RouteOutput,
  toolJsonSchema,
  type CompareOut,
  type EnsureOut,
  type InfoOut,
  type RouteOut,
} from './schemas.js';

export interface OwnTool {
  name: string;
  input: z.ZodType;
  output: z.ZodType;
  definition: Tool;
  run(args: unknown, session: WorkspaceSession, ctx: AppContext, call?: CallInfo): Promise<object>;
}

/** What a call brings besides its arguments. */
export interface CallInfo {
  /** Reports progress to the caller, when it asked for it (a progress token). */
  progress?: (p: { done: number; message: string }) => void;
  /** Aborted when the call is to stop (a cancelled task): work stops between files. */
  signal?: AbortSignal;
}

export { ToolFailure } from './errors.js';

/** A tool's JSON Schemas as MCP advertises them, made from its zod schemas. */
function jsonSchemas(input: z.ZodType, output: z.ZodType): OwnToolSchemas {
  return { inputSchema: toolJsonSchema(input, 'input'), outputSchema: toolJsonSchema(output, 'output') };
}

/** Every own tool's JSON Schemas, made now from its zod schemas (what ./own-tool-schemas.ts must hold). */
export function madeSchemas(): Record<string, OwnToolSchemas> {
  return Object.fromEntries(OWN_TOOLS.map((t) => [t.name, jsonSchemas(t.input, t.output)]));
}

function define<I extends z.ZodType, O extends z.ZodType>(
  name: string,
  input: I,
  output: O,
  meta: Omit<Tool, 'name' | 'inputSchema' | 'outputSchema'>,
  run: (args: z.infer<I>, session: WorkspaceSession, ctx: AppContext, call?: CallInfo) => Promise<z.infer<O>>,
): OwnTool {
  return {
    name,
    input,
    output,
    // Written at build time (./own-tool-schemas.ts): turning the zod schemas into JSON Schema cost
    // ~10 ms of every start.
    definition: { name, ...meta, ...(OWN_TOOL_SCHEMAS[name] ?? jsonSchemas(input, output)) },
    run: (args, session, ctx, call) => run(args as z.infer<I>, session, ctx, call) as Promise<object>,
  };
}

/**
 * The run a handle names, adopted by the session; any disagreement with a dataset the same call
 * names is refused rather than guessed at.
 */
async function byHandle(handle: string, session: WorkspaceSession, dataset?: string): Promise<RunTarget> {
  try {
    const { dataset: slug } = parseHandle(handle);
    if (dataset !== undefined && datasetSlug(dataset) !== slug) throw new HandleError(`\`workspace\` ${JSON.stringify(handle)} is a run of "${slug}", but \`dataset\` names "${datasetSlug(dataset)}"; pass one of them`);
    return await session.adopt(handle);
  } catch (e) {
    throw e instanceof HandleError ? new ToolFailure(e.message) : e;
  }
}

async function ensureWorkspace(args: z.infer<typeof EnsureInput>, session: WorkspaceSession, ctx: AppContext): Promise<EnsureOut> {
  if (args.workspace !== undefined && args.new_run) throw new ToolFailure('`workspace` names an existing run; `new_run` asks for a new one: pass one of them');
  const { run, created } =
    args.workspace !== undefined
      ? { run: await byHandle(args.workspace, session, args.dataset ?? args.path), created: false }
      : await session.ensure(args.dataset ?? args.path, { newRun: args.new_run });
  return {
    dataset: run.dataset,
    run_id: run.runId,
    workspace: handleOf(run),
    workspace_root: run.runDir,
    subdirs: run.subdirs,
    latest: (await ctx.workspaces.latest(run.dataset)) ?? null,
    created,
  };
}

function parseResult(result: unknown): unknown {
  if (typeof result !== 'string') return result;
  try {
    return JSON.parse(result);
  } catch {
    throw new ToolFailure('`result` is a string but not JSON text; pass the tool result as an object or as its JSON text');
  }
}

async function routeArtifacts(args: z.infer<typeof RouteInput>, session: WorkspaceSession, ctx: AppContext, call?: CallInfo): Promise<RouteOut> {
  if (args.result === undefined && !args.paths?.length) throw new ToolFailure('nothing to route: pass `result` (a tool result) or `paths`');
  const detection = args.result === undefined ? undefined : detectArtifacts(parseResult(args.result), { resultKeys: ctx.settings.resultKeys });
  const explicit: Candidate[] = (args.paths ?? []).map((p, i) =>
    typeof p === 'string'
      ? { kind: 'path', path: p, type: args.type, label: args.label ?? `paths[${i}]`, explicit: true }
      : { kind: 'path', path: p.path, type: p.type ?? args.type, label: p.label ?? args.label ?? `paths[${i}]`, explicit: true },
  );
  const run = args.workspace !== undefined ? await byHandle(args.workspace, session, args.dataset) : (await session.ensure(args.dataset)).run;
  const out = await ctx.routing.route({
    tool: args.tool ?? 'route_artifacts',
    candidates: [...explicit, ...(detection?.candidates ?? [])],
    inputs: [],
    mode: args.mode ?? ctx.settings.mode,
    run,
    gpu: detection?.gpu,
    onProgress: call?.progress,
    signal: call?.signal,
  });
  return { dataset: run.dataset, run_id: run.runId, workspace: handleOf(run), routed: out.routed, skipped: out.skipped, manifest: out.manifest };
}

async function getWorkspaceInfo(args: z.infer<typeof InfoInput>, session: WorkspaceSession, ctx: AppContext): Promise<InfoOut> {
  const base = { mode: ctx.settings.mode, rootFallback: ctx.roots.fallback };
  if (args.workspace !== undefined) {
    if (args.run_id !== undefined) throw new ToolFailure('`workspace` already names a run; pass it or `run_id`, not both');
    return describeRun(ctx.workspaces, await byHandle(args.workspace, session, args.dataset), base);
  }
  const slug = args.dataset !== undefined ? datasetSlug(args.dataset) : session.current;
  if (!slug) {
    if (args.run_id) throw new ToolFailure('`run_id` needs a `dataset` (this session has no current workspace)');
    return describeRun(ctx.workspaces, undefined, base);
  }
  const mine = session.runFor(slug);
  let runId = args.run_id;
  if (!runId) runId = mine ? (await mine).runId : await ctx.workspaces.latest(slug);
  if (!runId) {
    if (args.dataset !== undefined) throw new ToolFailure(`no workspace for dataset "${slug}" yet; call ensure_workspace first`);
    // The session's current dataset, named by a call, with no run made yet (nothing filed there).
    return describeRun(ctx.workspaces, undefined, { ...base, dataset: slug });
  }
  try {
    return await describeRun(ctx.workspaces, await ctx.workspaces.openRun(slug, runId), base);
  } catch (e) {
    throw new ToolFailure((e as Error).message);
  }
}

/** A run of `slug` named by its id or by a handle of that dataset. */
function runOf(slug: string, value: string, arg: 'a' | 'b'): string {
  let id = value;
  if (value.includes('/')) {
    let h;
    try {
      h = parseHandle(value);
    } catch (e) {
      throw new ToolFailure(`\`${arg}\`: ${(e as Error).message}`);
    }
    if (h.dataset !== slug) throw new ToolFailure(`\`${arg}\` ${JSON.stringify(value)} is a run of "${h.dataset}", but \`dataset\` names "${slug}"`);
    id = h.runId;
  }
  if (!isRunId(id)) throw new ToolFailure(`\`${arg}\` ${JSON.stringify(value)} is not a run id (like "20261130_101500" or "20261130_101500_2") nor a handle "{dataset}/{run_id}"`);
  return id;
}

async function compareRunsTool(args: z.infer<typeof CompareInput>, _session: WorkspaceSession, ctx: AppContext): Promise<CompareOut> {
  const slug = datasetSlug(args.dataset);
  const [a, b] = [runOf(slug, args.a, 'a'), runOf(slug, args.b, 'b')];
  const out = await compareRuns(ctx.workspaces, slug, a, b);
  if (!out) {
    // Only on failure: which of the two is missing, to say so.
    const missing = (await ctx.workspaces.findRun(slug, a)) ? b : a;
    throw new ToolFailure(`dataset "${slug}" has no run "${missing}"; get_workspace_info {dataset: "${slug}"} lists its runs`);
  }
  return out;
}

export const OWN_TOOLS: OwnTool[] = [
  define(
    'ensure_workspace',
    EnsureInput,
    EnsureOutput,
    {
      title: 'Ensure workspace',
      description:
        'Make (or reuse) the workspace of a dataset for this session: {root}/{dataset}/{run_id}/ with uploads, data, models, reports, plots, metrics, indexes, logs, tmp and manifests. The same dataset gives the same run until new_run is true (without a session, its latest run). Returns the run\'s handle, `workspace`, "{dataset}/{run_id}", which the other tools accept to name the run outright. It becomes the current workspace.',
      annotations: { title: 'Ensure workspace', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ensureWorkspace,
  ),
  define(
    'route_artifacts',
    RouteInput,
    RouteOutput,
    {
      title: 'Route artifacts',
      description:
        'File the artifacts of a tool result (model_path, report_path, plot_paths, artifacts[{path,type,label}], file:// links, images…) or explicit paths into the current workspace (or the run a `workspace` handle names), copying by default, and record them in a manifest. Reports what was routed and what was skipped, with reasons.',
      annotations: { title: 'Route artifacts', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      // A 10 GiB copy can run in the background as a task, its progress as the status message.
      execution: { taskSupport: 'optional' },
    },
    routeArtifacts,
  ),
  define(
    'get_workspace_info',
    InfoInput,
    InfoOutput,
    {
      title: 'Workspace info',
      description:
        'Describe the current workspace (or a dataset\'s run, or the run a `workspace` handle names): folders, file counts per folder, total bytes, recent runs and the last manifest entries. Read-only.',
      annotations: { title: 'Workspace info', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      // Hosts that render MCP Apps show the answer as a view (./app-views.ts).
      _meta: { ui: { resourceUri: WORKSPACE_VIEW_URI } },
    },
    getWorkspaceInfo,
  ),
  define(
    'compare_runs',
    CompareInput,
    CompareOutput,
    {
      title: 'Compare runs',
      description:
        'Compare two runs of a dataset: files added, removed or changed (by sha256), metrics JSON side by side with deltas (b − a), and the plots both runs have. Runs are named by run id or handle. Read-only.',
      annotations: { title: 'Compare runs', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      _meta: { ui: { resourceUri: COMPARE_VIEW_URI } },
    },
    compareRunsTool,
  ),
];

export const OWN_TOOL_NAMES = new Set(OWN_TOOLS.map((t) => t.name));
