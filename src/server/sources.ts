// What the app server can be given besides its own tools: sources of tools, resources, prompts
// and completions (the proxy is all four; the workspace resources are a resource source), the
// events they raise, and the host link a source uses to ask the host something itself (the proxy
// forwards its servers' sampling, elicitation and roots requests). Each `handle…` returns
// undefined when the name or URI is not the source's, so the server can ask the next one. Pure
// interfaces: no SDK classes, only the protocol's types.
import type {
  CallToolResult,
  ClientCapabilities,
  CompleteRequest,
  CompleteResult,
  GetPromptResult,
  InputRequiredResult,
  ListPromptsResult,
  ListResourcesResult,
  ListResourceTemplatesResult,
  LoggingMessageNotification,
  Progress,
  ReadResourceResult,
  RequestId,
  ResourceUpdatedNotification,
  Result,
  ServerNotification,
  ServerRequest,
  Tool,
} from '@modelcontextprotocol/server';
import type { WorkspaceSession } from '../workspace/session.js';

/**
 * One request from the host, as a source sees it: ours, not the SDK's handler context, so the
 * SDK's shape never leaks past the app server (src/server/app.ts) and the lane (src/proxy/lane.ts),
 * which build it.
 */
export interface CallExtra {
  /** Aborted when the host cancels the request or goes away. */
  readonly signal: AbortSignal;
  requestId: RequestId;
  /** The request's own `_meta` (progress token, and at 2026-07-28 the client's envelope). */
  _meta?: Record<string, unknown> & { progressToken?: string | number };
  /** The session's host. */
  host: HostLink;
  /** A request to the host that belongs to this call (it reaches this call's session and stream). */
  sendRequest(req: ServerRequest, opts?: HostRequestOptions): Promise<Result>;
  /** A notification to the host that belongs to this call. */
  sendNotification(n: ServerNotification): Promise<void>;
  /**
   * The host speaks MCP 2026-07-28: it takes no requests of ours, so a request that must reach it
   * becomes an `input_required` result of its own request (src/proxy/bridge.ts).
   */
  modern?: boolean;
  /** At 2026-07-28, a retried request's answers to what we asked, by key. */
  inputResponses?: Record<string, unknown>;
  /** At 2026-07-28, the `requestState` a retried request echoes back. */
  requestState?: string;
}

/** Something a source tells every connected host. */
export type SourceEvent =
  | { kind: 'tools_changed' }
  | { kind: 'resources_changed' }
  | { kind: 'prompts_changed' }
  | { kind: 'resource_updated'; params: ResourceUpdatedNotification['params'] }
  | { kind: 'log'; params: LoggingMessageNotification['params'] };

export interface EventSource {
  /** Returns the unsubscribe function. */
  onEvent(listener: (e: SourceEvent) => void): () => void;
}

/** The host at the other end of one session. */
export interface HostLink {
  /** What the host declared in initialize (undefined before that). */
  capabilities(): ClientCapabilities | undefined;
  /** False once the session has closed. */
  isOpen(): boolean;
  /** A request to the host that belongs to none of its calls (a call's own goes through its `extra.sendRequest`). */
  request(req: ServerRequest, opts: HostRequestOptions): Promise<Result>;
  /** A notification that belongs to none of its calls (a task's status). */
  notify?(n: ServerNotification): Promise<void>;
}

export interface HostRequestOptions {
  signal?: AbortSignal;
  /** In ms. */
  timeout?: number;
  onprogress?: (p: Progress) => void;
}

/** Something a host did that a source may act on: finished initializing, or changed its roots. */
export type HostEvent =
  /** `passing`: the host is one 2026-07-28 request, gone once answered: not one to send anything to later. */
  | { kind: 'ready'; host: HostLink; passing?: boolean }
  | { kind: 'roots_changed'; host: HostLink };

export interface HostListener {
  onHost(e: HostEvent): void;
}

/** What a tool call gets besides its arguments. */
export interface CallScope {
  extra: CallExtra;
  session: WorkspaceSession;
  /** A logging message to this caller, honouring the level it set. */
  log(params: LoggingMessageNotification['params']): Promise<void>;
  /** Who owns a task this call makes (src/server/tasks.ts): the session, unless set. */
  taskOwner?: object;
}

export interface ToolSource extends Partial<EventSource> {
  /** The tools it offers now, under the names the host sees (may wait briefly for servers still starting). */
  listTools(): Tool[] | Promise<Tool[]>;
  /** Handles a call if the name is one of its tools; undefined otherwise. */
  callTool(name: string, args: Record<string, unknown> | undefined, scope: CallScope): Promise<CallToolResult | InputRequiredResult> | undefined;
  /**
   * Handles a task-augmented call (MCP 2025-11-25 `params.task`) if the name is one of its tools:
   * the id of the task it put on the board (src/server/tasks.ts), or a plain result when the
   * server answered without making one. Undefined when the name is not its.
   */
  callToolAsTask?(name: string, args: Record<string, unknown> | undefined, task: TaskRequest, scope: CallScope): Promise<CreatedTask> | undefined;
  /** The `execution.taskSupport` of one of its tools, by the name the host sees; undefined when it has none or the name is not its. */
  taskSupport?(name: string): Promise<string | undefined>;
}

/** What a task-augmented call asked for. */
export interface TaskRequest {
  /** ms the requestor would like the task kept. */
  ttl?: number;
}

/** A task made for a call, or the plain result its server gave instead. */
export type CreatedTask = { kind: 'task'; id: string; _meta?: Record<string, unknown> } | { kind: 'result'; result: CallToolResult };

export interface ResourceSource extends Partial<EventSource> {
  /** One page; `cursor` is the source's own (the server composes cursors across sources). */
  listResources(cursor: string | undefined, extra: CallExtra): Promise<ListResourcesResult>;
  listResourceTemplates(cursor: string | undefined, extra: CallExtra): Promise<ListResourceTemplatesResult>;
  readResource(uri: string, extra: CallExtra): Promise<ReadResourceResult> | undefined;
  subscribeResource?(uri: string, extra: CallExtra): Promise<void> | undefined;
  unsubscribeResource?(uri: string, extra: CallExtra): Promise<void> | undefined;
}

export interface PromptSource extends Partial<EventSource> {
  listPrompts(cursor: string | undefined, extra: CallExtra): Promise<ListPromptsResult>;
  getPrompt(name: string, args: Record<string, string> | undefined, extra: CallExtra): Promise<GetPromptResult> | undefined;
}

export interface CompletionSource {
  complete(params: CompleteRequest['params'], extra: CallExtra): Promise<CompleteResult> | undefined;
}
