// One zod schema for mcp.config.json, and the pure function that layers environment and flags
// over it (flag > environment > file). No fs here: the caller reads the file and passes its text,
// so tests can hand in any (file, env, flags) triple. The JSON Schema for editors is generated
// from `ConfigSchema` (scripts/gen-schema.mjs), so the two cannot drift.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { expandPath } from './expand.js';

const stringMap = z.record(z.string(), z.string());

const toolFilter = z.strictObject({
  allow: z.array(z.string()).optional().describe('Globs of downstream tool names to expose (default: all).'),
  deny: z.array(z.string()).optional().describe('Globs of downstream tool names to hide; beats allow.'),
});

const serverRouting = z.strictObject({
  tools: z.array(z.string()).optional().describe('Names or globs of this server\'s tools whose results are routed; "@default" is the built-in list.'),
});

const serverCommon = {
  routing: serverRouting.optional(),
  tools: toolFilter.optional(),
  timeoutMs: z.number().int().positive().optional().describe('Per-call timeout in ms, reset by progress (default 300000).'),
  disabled: z.boolean().optional().describe('Keep the entry but do not start it.'),
  protocol: z
    .enum(['auto', '2025-11-25', '2026-07-28'])
    .optional()
    .describe('MCP revision to speak to it: "auto" (default) is 2025-11-25, or 2026-07-28 if the server refuses that; a revision pins it.'),
  description: z.string().optional(),
};

export const StdioServerSchema = z.strictObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1).describe('Program to start; ${VAR} is not expanded here, use args/env.'),
  args: z.array(z.string()).optional().describe('Arguments; ${VAR} is expanded from the environment.'),
  env: stringMap.optional().describe('Added to the proxy\'s own environment; ${VAR} is expanded.'),
  cwd: z.string().optional().describe('Working folder; relative to the config file.'),
  ...serverCommon,
});

export const HttpServerSchema = z.strictObject({
  type: z.enum(['http', 'streamable-http']),
  url: z.string().url(),
  headers: stringMap.optional().describe('Sent with every request; ${VAR} is expanded.'),
  ...serverCommon,
});

export const ServerSchema = z.union([StdioServerSchema, HttpServerSchema]);

export const ConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  workspace: z
    .strictObject({
      root: z.string().optional().describe('WORKSPACES_ROOT: where the dataset folders live. Default {uploadRoot}/_workspaces.'),
      uploadRoot: z.string().optional().describe('UPLOAD_ROOT: default .uploaded beside this file.'),
      maxArtifactBytes: z.number().int().positive().optional().describe('Largest single artifact routed (default 10 GiB).'),
      s3: z
        .strictObject({
          forcePathStyle: z.boolean().optional().describe('Path-style addressing (https://endpoint/bucket/key). Default: on when AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL names an endpoint, else off.'),
          partMiB: z.number().int().min(5).max(5120).optional().describe('Multipart part size in MiB, and the size above which uploads are multipart (default 8).'),
          parallelParts: z.number().int().min(1).max(64).optional().describe('Parts of one upload in flight at once (default 4); memory is about (parallelParts + 1) × partMiB per upload.'),
        })
        .optional()
        .describe('For an s3://BUCKET/PREFIX root.'),
    })
    .optional(),
  routing: z
    .strictObject({
      mode: z.enum(['copy', 'move']).optional().describe('ARTIFACT_ROUTING_MODE: copy (default) keeps originals.'),
      tools: z.array(z.string()).optional().describe('Allowlist of artifact-generating tools: names, globs, "@default".'),
      datasetArgs: z.array(z.string()).optional().describe('Argument names that name a dataset (default csv_path, dataset, data_path, file_path, path).'),
      sourceRoots: z.array(z.string()).optional().describe('Extra folders artifacts may be routed from; ~ and ${VAR} are expanded.'),
      resultKeys: z
        .union([z.array(z.string()), z.record(z.string(), z.string())])
        .optional()
        .describe('More result keys that name artifact paths: a list of names (typed by extension), or name → type (model, report, plot, metrics, data, …).'),
      otherRoots: z
        .enum(['copy', 'link'])
        .optional()
        .describe('Files an inner artifact-workspace (a proxy behind this one) stored under another root: copy them into this root (default), or link them where they are.'),
    })
    .optional(),
  mcpServers: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'server names are 1-64 of A-Z a-z 0-9 _ . -'), ServerSchema).optional(),
});

export type ConfigFile = z.infer<typeof ConfigSchema>;
export type StdioServerConfig = z.infer<typeof StdioServerSchema>;
export type HttpServerConfig = z.infer<typeof HttpServerSchema>;
export type ServerConfig = z.infer<typeof ServerSchema>;

export const DEFAULT_DATASET_ARGS = ['csv_path', 'dataset', 'data_path', 'file_path', 'path'];
export const DEFAULT_MAX_ARTIFACT_BYTES = 10 * 1024 ** 3;

/** Command-line flags that overlay the file and the environment. */
export interface Flags {
  config?: string;
  root?: string;
  uploadRoot?: string;
  mode?: string;
  transport?: string;
  host?: string;
  port?: string | number;
  token?: string;
}

export interface Settings {
  /** Absolute path of the config file read, if any. */
  configPath?: string;
  /** Relative paths in the config resolve against this (the config's folder, else cwd). */
  baseDir: string;
  uploadRoot: string;
  /** Set when the user chose the workspaces root (flag, env or file); otherwise it is derived and may fall back. */
  workspacesRoot?: string;
  mode: 'copy' | 'move';
  routingTools: string[];
  datasetArgs: string[];
  sourceRoots: string[];
  /** Result keys that name artifacts, besides the built-in ones: name → type ('' = by extension). */
  resultKeys: Record<string, string>;
  /** Files an inner artifact-workspace stored under another root: copied here, or linked there. */
  otherRoots: 'copy' | 'link';
  maxArtifactBytes: number;
  /** For an s3:// root (README "S3 workspaces"). */
  s3: { forcePathStyle?: boolean; partBytes?: number; queue?: number };
  servers: Record<string, ServerConfig>;
  transport: 'stdio' | 'http';
  host: string;
  port: number;
  /** Bearer token the HTTP front requires (--token, else $ARTIFACT_WORKSPACE_TOKEN). */
  token?: string;
  /** Extra Host / Origin values the HTTP front accepts besides loopback ($ARTIFACT_WORKSPACE_ALLOWED_HOSTS / _ORIGINS, comma-separated). */
  allowedHosts: string[];
  allowedOrigins: string[];
  /** What was read but not used (keys of another program's config), for the log. */
  warnings: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly problems: string[],
    where?: string,
  ) {
    super(`${where ? `${where}: ` : ''}${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export { configPathFrom } from './config-path.js';

/**
 * Parses and validates a config file's text. Errors name the exact key and what was expected. A
 * top-level key that is not ours and not a near-miss of one (a whole claude_desktop_config.json
 * pasted as it is: `globalShortcut`, `preferences`) is ignored with a warning; inside our sections
 * every unknown key is an error.
 */
export function parseConfigText(text: string, where = 'mcp.config.json', warnings: string[] = []): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`not valid JSON (${(e as Error).message})`], where);
  }
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const known = Object.keys(ConfigSchema.shape);
    const foreign = Object.keys(raw).filter((k) => !known.includes(k) && !closest(k, known));
    if (foreign.length) {
      raw = Object.fromEntries(Object.entries(raw).filter(([k]) => !foreign.includes(k)));
      warnings.push(`${where}: ignoring ${foreign.map((k) => JSON.stringify(k)).join(', ')} (not settings of artifact-workspace)`);
    }
  }
  const res = ConfigSchema.safeParse(raw);
  if (!res.success) throw new ConfigError(res.error.issues.flatMap((i) => describeIssue(i, raw)), where);
  return res.data;
}

export function resolveSettings(input: {
  fileText?: string;
  filePath?: string;
  env: NodeJS.ProcessEnv;
  flags: Flags;
  cwd: string;
}): Settings {
  const { env, flags, cwd } = input;
  const warnings: string[] = [];
  const file = input.fileText !== undefined ? parseConfigText(input.fileText, input.filePath, warnings) : {};
  const configPath = input.filePath ? path.resolve(cwd, input.filePath) : undefined;
  const baseDir = configPath ? path.dirname(configPath) : cwd;
  const problems: string[] = [];
  const pick = <T>(...vals: (T | undefined | '')[]): T | undefined => vals.find((v) => v !== undefined && v !== '') as T | undefined;

  const uploadRoot = path.resolve(
    flags.uploadRoot ? cwd : env.UPLOAD_ROOT ? cwd : baseDir,
    expandPath(pick(flags.uploadRoot, env.UPLOAD_ROOT, file.workspace?.uploadRoot) ?? '.uploaded', env),
  );
  const rootPicked = pick(flags.root, env.WORKSPACES_ROOT, file.workspace?.root);
  const rootRaw = rootPicked === undefined ? undefined : expandPath(rootPicked, env);
  const rootBase = flags.root || env.WORKSPACES_ROOT ? cwd : baseDir;
  // An object store's URI is a root as it is; any other scheme is a mistake, not a folder named `gs:`.
  const rootIsUri = rootRaw !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(rootRaw) && !/^file:\/\//i.test(rootRaw);
  if (rootIsUri && !/^s3:\/\//i.test(rootRaw)) problems.push(`workspaces root ${rootRaw}: only a local folder or s3://BUCKET/PREFIX is supported`);
  // A file:// root is the folder it names; one naming another host (or not a file URL) is refused.
  let rootPath = rootRaw;
  if (rootRaw !== undefined && /^file:\/\//i.test(rootRaw)) {
    try {
      rootPath = fileURLToPath(rootRaw);
    } catch (e) {
      problems.push(`workspaces root ${rootRaw}: not a local file URL (${(e as Error).message})`);
    }
  }

  const modeRaw = pick(flags.mode, env.ARTIFACT_ROUTING_MODE, file.routing?.mode) ?? 'copy';
  const modeSource = flags.mode ? '--mode' : env.ARTIFACT_ROUTING_MODE ? 'ARTIFACT_ROUTING_MODE' : 'routing.mode';
  if (modeRaw !== 'copy' && modeRaw !== 'move') problems.push(`${modeSource}: expected "copy" or "move", got ${JSON.stringify(modeRaw)}`);

  const transport = flags.transport ?? 'stdio';
  if (transport !== 'stdio' && transport !== 'http') problems.push(`--transport: expected "stdio" or "http", got ${JSON.stringify(transport)}`);
  const port = flags.port === undefined ? 3000 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`--port: expected an integer 0-65535, got ${JSON.stringify(flags.port)}`);

  if (problems.length) throw new ConfigError(problems);
  return {
    configPath,
    baseDir,
    uploadRoot,
    workspacesRoot: rootRaw ? (rootIsUri ? rootRaw : path.resolve(rootBase, rootPath!)) : undefined,
    mode: modeRaw as 'copy' | 'move',
    routingTools: file.routing?.tools ?? ['@default'],
    datasetArgs: file.routing?.datasetArgs ?? DEFAULT_DATASET_ARGS,
    sourceRoots: (file.routing?.sourceRoots ?? []).map((p) => path.resolve(baseDir, expandPath(p, env))),
    resultKeys: Array.isArray(file.routing?.resultKeys) ? Object.fromEntries(file.routing.resultKeys.map((k) => [k, ''])) : { ...(file.routing?.resultKeys ?? {}) },
    otherRoots: file.routing?.otherRoots ?? 'copy',
    maxArtifactBytes: file.workspace?.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES,
    s3: {
      ...(file.workspace?.s3?.forcePathStyle !== undefined && { forcePathStyle: file.workspace.s3.forcePathStyle }),
      ...(file.workspace?.s3?.partMiB !== undefined && { partBytes: file.workspace.s3.partMiB * 1024 ** 2 }),
      ...(file.workspace?.s3?.parallelParts !== undefined && { queue: file.workspace.s3.parallelParts }),
    },
    servers: file.mcpServers ?? {},
    transport: transport as 'stdio' | 'http',
    host: flags.host ?? '127.0.0.1',
    port,
    token: pick(flags.token, env.ARTIFACT_WORKSPACE_TOKEN),
    allowedHosts: list(env.ARTIFACT_WORKSPACE_ALLOWED_HOSTS),
    allowedOrigins: list(env.ARTIFACT_WORKSPACE_ALLOWED_ORIGINS),
    warnings,
  };
}

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

// ------------------------------------------------------------------ error messages

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue, raw: unknown): string[] {
  const at = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  if (issue.code === 'invalid_union' && issue.path[0] === 'mcpServers' && issue.path.length === 2) {
    // A server entry matched neither shape: explain against the one it was meant to be.
    const entry = (raw as { mcpServers: Record<string, unknown> }).mcpServers[String(issue.path[1])];
    const isHttp = !!entry && typeof entry === 'object' && 'url' in entry;
    const sub = (isHttp ? HttpServerSchema : StdioServerSchema).safeParse(entry);
    if (!sub.success) return sub.error.issues.flatMap((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] } as Issue, raw));
  }
  return [describeOne(issue, at)];
}

function describeOne(issue: Issue, at: string): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys
        .map((k) => {
          const near = closest(k, knownKeysAt(issue.path));
          const where = issue.path.length ? `${at}.${k}` : k;
          return `${where}: unknown key${near ? ` (did you mean "${near}"?)` : ''}`;
        })
        .join('; ');
    case 'invalid_type':
      return `${at}: expected ${issue.expected === 'object' ? 'an object' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
    case 'invalid_union':
      return `${at}: expected a stdio server {command, args?, env?, cwd?} or an HTTP server {type: "http", url, headers?}`;
    case 'invalid_value':
      return `${at}: expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}`;
    case 'invalid_key':
      return `${at}: invalid name (${issue.issues.map((i) => i.message).join('; ')})`;
    default:
      return `${at}: ${issue.message}`;
  }
}

/** The keys the schema allows at a path, for "did you mean". */
function knownKeysAt(p: PropertyKey[]): string[] {
  if (p[0] === 'mcpServers' && p.length === 2) {
    return [...Object.keys(StdioServerSchema.shape), ...Object.keys(HttpServerSchema.shape)];
  }
  if (p[0] === 'mcpServers' && p.length === 3) {
    const sub = String(p[2]);
    if (sub === 'tools') return Object.keys(toolFilter.shape);
    if (sub === 'routing') return Object.keys(serverRouting.shape);
    return [];
  }
  let schema: z.ZodType = ConfigSchema;
  for (const key of p) {
    while (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
    if (!(schema instanceof z.ZodObject)) return [];
    const next = (schema.shape as Record<string, z.ZodType>)[String(key)];
    if (!next) return [];
    schema = next;
  }
  while (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
