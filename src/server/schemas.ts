// Input and output schemas of our own tools: one zod source for validation, for the JSON Schemas
// advertised in tools/list, and for the types the handlers return.
import { z } from 'zod';
import { SUBDIRS } from '../workspace/types.js';

const subdirsShape = z.object(Object.fromEntries(SUBDIRS.map((s) => [s, z.string()])) as Record<(typeof SUBDIRS)[number], z.ZodString>);

const datasetArg = z.string().min(1).max(4096).describe('Dataset name or a path of its data file (tips.csv → "tips").');

const workspaceArg = z
  .string()
  .min(1)
  .max(128)
  .describe('A workspace handle, "{dataset}/{run_id}", as ensure_workspace returns it: names the run outright, with or without a session.');

export const EnsureInput = z.strictObject({
  dataset: datasetArg.optional(),
  path: z.string().min(1).max(4096).optional().describe('Path of the dataset file; used when `dataset` is absent.'),
  new_run: z.boolean().optional().describe('Start a new run even if this session already has one for the dataset.'),
  workspace: workspaceArg.optional().describe('Reuse the run this handle names (it must exist); it becomes the current workspace.'),
});

export const EnsureOutput = z.object({
  dataset: z.string(),
  run_id: z.string(),
  workspace: z.string().describe('The run\'s handle, "{dataset}/{run_id}": pass it as `workspace` to route_artifacts and get_workspace_info (or, through the proxy, in a call\'s _meta["artifact-workspace/workspace"]) to file into this run whatever the session.'),
  workspace_root: z.string().describe('The run folder.'),
  subdirs: subdirsShape,
  latest: z.string().nullable().describe('The run id the dataset\'s `latest` pointer names.'),
  created: z.boolean(),
});

const pathItem = z.union([
  z.string().min(1).max(4096),
  z.strictObject({ path: z.string().min(1).max(4096), type: z.string().max(64).optional(), label: z.string().max(256).optional() }),
]);

export const RouteInput = z.strictObject({
  tool: z.string().max(256).optional().describe('Name of the tool that produced the result (recorded in the manifest).'),
  result: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.string()]).optional().describe('A tool result (object, or its JSON text) to search for artifacts.'),
  paths: z.array(pathItem).max(10_000).optional().describe('Files or folders to route, as paths or {path, type, label}.'),
  type: z.string().max(64).optional().describe('Type for `paths` that carry none (model, report, plot, metrics, data, …).'),
  label: z.string().max(256).optional().describe('Label for `paths` that carry none.'),
  dataset: datasetArg.optional(),
  workspace: workspaceArg.optional(),
  mode: z.enum(['copy', 'move']).optional(),
});

const entry = z
  .object({
    tool: z.string(),
    type: z.string(),
    label: z.string(),
    src: z.string(),
    dst: z.string(),
    mode: z.string(),
    bytes: z.number(),
    sha256: z.string(),
    mime: z.string(),
    ts: z.string(),
    files: z.number().optional(),
    deduplicated: z.boolean().optional(),
    gpu_used: z.boolean().optional(),
    gpu_device: z.string().optional(),
  });

const skipped = z.object({ src: z.string(), reason: z.string() });

export const RouteOutput = z.object({
  dataset: z.string(),
  run_id: z.string(),
  workspace: z.string().describe('The handle of the run the artifacts went to.'),
  routed: z.array(entry),
  skipped: z.array(skipped),
  manifest: z.string().nullable().describe('The manifest file written for this event, if any.'),
});

export const InfoInput = z.strictObject({
  dataset: datasetArg.optional(),
  run_id: z.string().max(64).optional().describe('A run of the dataset (default: the session\'s, else `latest`).'),
  workspace: workspaceArg.optional(),
});

export const InfoOutput = z.object({
  active: z.boolean().describe('True when the session has a current run, or the asked-for run exists; a current dataset with no run yet is not active.'),
  workspaces_root: z.string(),
  root_fallback: z.string().optional().describe('Why the default root was not used.'),
  dataset: z.string().nullable(),
  run_id: z.string().nullable(),
  workspace: z.string().nullable().describe('The run\'s handle, "{dataset}/{run_id}".'),
  workspace_root: z.string().nullable(),
  subdirs: subdirsShape.nullable(),
  latest: z.string().nullable(),
  mode: z.enum(['copy', 'move']),
  counts: z.record(z.string(), z.number()).describe('Files per subfolder, recursive.'),
  bytes: z.number(),
  runs: z.array(z.string()).describe('Recent run ids of the dataset, newest first.'),
  recent: z.array(entry).describe('The last manifest entries, newest last.'),
});

const runIdArg = z.string().min(1).max(64);

export const CompareInput = z.strictObject({
  dataset: datasetArg,
  a: runIdArg.describe('The run compared from: a run id of the dataset ("20261130_101500"), or a handle "{dataset}/{run_id}".'),
  b: runIdArg.describe('The run compared to, the same way; deltas are b − a.'),
});

const metricValue = z.union([z.number(), z.string()]);

export const CompareOutput = z.object({
  dataset: z.string(),
  a: z.string(),
  b: z.string(),
  added: z.array(z.string()).describe('Files only in b, by path below the run ("plots/roc.png").'),
  removed: z.array(z.string()).describe('Files only in a.'),
  changed: z.array(z.string()).describe('Files in both whose content differs (by sha256).'),
  same: z.number().describe('How many files are in both with the same content.'),
  metrics: z
    .array(z.object({ file: z.string(), key: z.string(), a: metricValue.optional(), b: metricValue.optional(), delta: z.number().optional() }))
    .describe('Metrics JSON values of either run by file and dotted key, with b − a for numbers.'),
  plots: z.array(z.string()).describe('Plots of the same path in both runs, to look at side by side.'),
});

export type EnsureOut = z.infer<typeof EnsureOutput>;
export type CompareOut = z.infer<typeof CompareOutput>;
export type RouteOut = z.infer<typeof RouteOutput>;
export type InfoOut = z.infer<typeof InfoOutput>;

/**
 * The JSON Schema MCP advertises for a zod object (no `$schema` key; `type: "object"` at the top).
 * A nullable field is written `anyOf: [{type: X}, {type: "null"}]`, not `type: [X, "null"]`: some
 * hosts' schema handling takes only a single `type` (the MCP Inspector's --strict warns on the
 * array form as not portable).
 */
export function toolJsonSchema(schema: z.ZodType, io: 'input' | 'output'): { type: 'object'; [k: string]: unknown } {
  const js = portable(z.toJSONSchema(schema, { io, unrepresentable: 'any' })) as Record<string, unknown>;
  delete js.$schema;
  return { ...js, type: 'object' };
}

function portable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(portable);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = portable(v);
  if (Array.isArray(out.type)) {
    const { type, ...rest } = out;
    const types = type as string[];
    if (types.length === 1) return { ...rest, type: types[0] };
    return { ...rest, anyOf: types.map((t) => ({ type: t })) };
  }
  return out;
}
