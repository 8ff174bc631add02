// The MCP server a host talks to: a low-level SDK `Server` (so downstream JSON Schemas pass
// through unchanged in proxy mode) whose tools are our own three plus any extra tool sources.
// Errors are converted to one of the two MCP channels here, and only here.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { PACKAGE_NAME, VERSION } from '../version.js';
import { WorkspaceSession } from '../workspace/session.js';
import type { AppContext } from './context.js';
import { OWN_TOOLS, ToolFailure, type OwnTool } from './own-tools.js';

export type CallExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Another provider of tools on the same server (the proxy's downstream catalog). */
export interface ToolSource {
  /** The tools it offers now, under the names the host sees. */
  listTools(): Tool[];
  /** Handles a call if the name is one of its tools; undefined otherwise. */
  callTool(name: string, args: Record<string, unknown> | undefined, extra: CallExtra, session: WorkspaceSession): Promise<CallToolResult> | undefined;
}

export interface AppServer {
  server: Server;
  session: WorkspaceSession;
}

export const SERVER_INSTRUCTIONS =
  'Files that tools produce are kept in per-dataset workspaces, one folder per run. Call ensure_workspace with the dataset name first; route_artifacts files a tool result\'s outputs; get_workspace_info shows where everything is.';

export function createAppServer(ctx: AppContext, opts: { sources?: ToolSource[]; session?: WorkspaceSession } = {}): AppServer {
  const session = opts.session ?? new WorkspaceSession(ctx.workspaces);
  const sources = opts.sources ?? [];
  const own = new Map(OWN_TOOLS.map((t) => [t.name, t]));
  const server = new Server(
    { name: PACKAGE_NAME, version: VERSION },
    { capabilities: { tools: { listChanged: true }, logging: {} }, instructions: SERVER_INSTRUCTIONS },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [...OWN_TOOLS.map((t) => t.definition), ...sources.flatMap((s) => s.listTools())],
  }));

  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const { name, arguments: args } = req.params;
    const tool = own.get(name);
    if (tool) return callOwn(tool, args, session, ctx);
    for (const s of sources) {
      const res = s.callTool(name, args, extra, session);
      if (res) return res;
    }
    throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  });

  return { server, session };
}

async function callOwn(tool: OwnTool, args: unknown, session: WorkspaceSession, ctx: AppContext): Promise<CallToolResult> {
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `${tool.name}: ${formatZod(parsed.error)}`);
  try {
    const out = (await tool.run(parsed.data, session, ctx)) as Record<string, unknown>;
    return { content: [{ type: 'text', text: JSON.stringify(out, null, 2) }], structuredContent: out };
  } catch (e) {
    return toolError(tool.name, e, ctx);
  }
}

/** The one place an unexpected error becomes a result the agent can act on. */
export function toolError(tool: string, e: unknown, ctx: Pick<AppContext, 'log'>): CallToolResult {
  if (e instanceof McpError) throw e;
  const msg = e instanceof ToolFailure ? e.message : `${tool} failed: ${(e as Error)?.message ?? String(e)}`;
  if (!(e instanceof ToolFailure)) ctx.log.error(`${tool}: ${(e as Error)?.stack ?? String(e)}`);
  return { isError: true, content: [{ type: 'text', text: msg }] };
}

function formatZod(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const at = i.path.length ? i.path.join('.') : 'arguments';
      if (i.code === 'unrecognized_keys') return `${at}: unknown argument(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      return `${at}: ${i.message}`;
    })
    .join('; ');
}
