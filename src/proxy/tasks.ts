// A downstream server's task, as one of ours on the board (src/server/tasks.ts; README "Tasks").
// The host knows it by our id only; here it is the server's id on one connection. It is asked of
// the server on each poll, except when that connection is gone: a crash or restart takes a
// server's tasks with it, so the task ends `failed` with the server's stderr tail at once (and the
// host hears so), never polled forever. Its result is routed like any allowlisted call's, once,
// into the run that was current (or named) when the task was made.
import { ResultSchema } from '@modelcontextprotocol/core';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { failureResult, type DownstreamFailure } from '../server/errors.js';
import type { CallExtra, HostLink } from '../server/sources.js';
import { RELATED_TASK_META_KEY, TERMINAL, taskState, type TaskBackend, type TaskBoard, type TaskState, type TaskStatus } from '../server/tasks.js';
import { NO_SDK_TIMEOUT, type Downstream } from './downstream.js';

const STATUSES: ReadonlySet<string> = new Set(['working', 'input_required', 'completed', 'failed', 'cancelled']);

/** A task as a server described it: its fields checked, nothing else kept (never its id: ours replaces it). */
export function serverTaskState(v: unknown, fallback?: TaskState): TaskState | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const t = v as Record<string, unknown>;
  if (typeof t.status !== 'string' || !STATUSES.has(t.status)) return undefined;
  const str = (x: unknown, max: number) => (typeof x === 'string' && x.length <= max ? x : undefined);
  const createdAt = str(t.createdAt, 64) ?? fallback?.createdAt ?? new Date().toISOString();
  const ttl = t.ttl === null ? null : typeof t.ttl === 'number' && Number.isFinite(t.ttl) && t.ttl >= 0 ? t.ttl : (fallback?.ttl ?? null);
  const pollInterval = typeof t.pollInterval === 'number' && Number.isFinite(t.pollInterval) && t.pollInterval >= 0 ? t.pollInterval : undefined;
  const statusMessage = str(t.statusMessage, 4096);
  return {
    status: t.status as TaskStatus,
    createdAt,
    lastUpdatedAt: str(t.lastUpdatedAt, 64) ?? new Date().toISOString(),
    ttl,
    ...(statusMessage !== undefined && { statusMessage }),
    ...(pollInterval !== undefined && { pollInterval }),
  };
}

export class ProxiedTask implements TaskBackend {
  /** Our id, once the board gave one. */
  id?: string;
  /** Told when the board forgets the task. */
  onForget?: () => void;
  /** The session that made it (a 2025-11-25 host): the server's requests about it go there. */
  host?: HostLink;
  private last: TaskState;
  private final?: Promise<CallToolResult>;

  constructor(
    readonly ds: Downstream,
    /** The server's own id. */
    readonly taskId: string,
    initial: TaskState,
    /** Turns the server's final result into the host's (the routing hook, once). */
    private readonly answer: (result: CallToolResult, extra: CallExtra) => Promise<CallToolResult>,
    private readonly generation = ds.generation,
  ) {
    this.last = initial;
  }

  forget(): void {
    this.onForget?.();
    this.final = undefined;
  }

  /** The connection the task was made on has ended: why, else undefined. */
  private lost(): DownstreamFailure | undefined {
    if (this.ds.generation === this.generation && this.ds.status === 'ready') return undefined;
    return this.ds.lastLoss ?? undefined;
  }

  /** The task as the board shows it when its server is gone. */
  failedState(f: DownstreamFailure): TaskState {
    const text = (failureResult(f).content[0] as { text: string }).text;
    return taskState('failed', this.last.createdAt, this.last.ttl, { statusMessage: text, ...(this.last.pollInterval !== undefined && { pollInterval: this.last.pollInterval }) });
  }

  /** What the server said last (a status notification), kept for the next poll. */
  heard(state: TaskState): void {
    if (!TERMINAL.has(this.last.status)) this.last = state;
  }

  async state(extra: CallExtra): Promise<TaskState> {
    const gone = this.lost();
    if (gone) return (this.last = this.failedState(gone));
    const res = await this.ask('tasks/get', extra);
    if (res.gone) return (this.last = this.failedState(res.gone));
    this.last = serverTaskState(res.value, this.last) ?? this.last;
    return this.last;
  }

  /** The final result, fetched and routed once; asked again, the same answer. */
  result(extra: CallExtra): Promise<CallToolResult> {
    const gone = this.lost();
    if (gone && !this.final) return Promise.resolve(failureResult(gone));
    return (this.final ??= this.fetch(extra).catch((e: unknown) => {
      // A fetch that did not get the result (the host gave up, the server went away) may be tried again.
      this.final = undefined;
      throw e;
    }));
  }

  private async fetch(extra: CallExtra): Promise<CallToolResult> {
    let res: CallToolResult;
    try {
      // tasks/result waits until the task is over: the server's clock, not ours.
      res = (await this.ds.request({ method: 'tasks/result', params: { taskId: this.taskId } } as never, ResultSchema, { caller: extra, timeoutMs: NO_SDK_TIMEOUT })) as CallToolResult;
    } catch (e) {
      const gone = this.lost();
      if (gone) return failureResult(gone);
      throw e;
    }
    // The server's related-task key names its own id: the board puts ours there.
    const { [RELATED_TASK_META_KEY]: _theirs, ...meta } = (res._meta ?? {}) as Record<string, unknown>;
    const clean: CallToolResult = { ...res, content: Array.isArray(res.content) ? res.content : [] };
    if (Object.keys(meta).length) clean._meta = meta;
    else delete clean._meta;
    return this.answer(clean, extra);
  }

  async cancel(extra: CallExtra): Promise<TaskState> {
    const gone = this.lost();
    if (gone) return (this.last = this.failedState(gone));
    const res = await this.ask('tasks/cancel', extra);
    if (res.gone) return (this.last = this.failedState(res.gone));
    this.last = serverTaskState(res.value, this.last) ?? { ...this.last, status: 'cancelled', lastUpdatedAt: new Date().toISOString() };
    return this.last;
  }

  /** One request about the task; a connection that ends meanwhile is the task's end, not the caller's error. */
  private async ask(method: 'tasks/get' | 'tasks/cancel', extra: CallExtra): Promise<{ value: unknown; gone?: undefined } | { gone: DownstreamFailure }> {
    try {
      return { value: await this.ds.request({ method, params: { taskId: this.taskId } } as never, ResultSchema, { caller: extra }) };
    } catch (e) {
      const gone = this.lost();
      if (gone) return { gone };
      throw e;
    }
  }
}

/** The proxy's tasks by server and the server's id: where status notifications and crashes find them. */
export class ProxiedTasks {
  private readonly byServer = new Map<string, Map<string, ProxiedTask>>();

  constructor(private readonly board: TaskBoard) {}

  add(t: ProxiedTask, id: string): void {
    t.id = id;
    let m = this.byServer.get(t.ds.name);
    if (!m) this.byServer.set(t.ds.name, (m = new Map()));
    m.set(t.taskId, t);
    const byId = m;
    t.onForget = () => {
      if (byId.get(t.taskId) === t) byId.delete(t.taskId);
    };
  }

  /** The session that owns a server's task, and our id for it. */
  route(server: string, taskId: string): { host: HostLink; id: string } | undefined {
    const t = this.byServer.get(server)?.get(taskId);
    return t?.host && t.id ? { host: t.host, id: t.id } : undefined;
  }

  /** A server's `notifications/tasks/status`: the host hears it under our id. */
  status(server: string, params: Record<string, unknown>): void {
    const t = this.byServer.get(server)?.get(String(params.taskId));
    const state = t && serverTaskState(params);
    if (!t || !state || !t.id) return;
    t.heard(state);
    this.board.changed(t.id, state);
  }

  /** A server's connection ended: each of its tasks fails now, with the reason, and the host hears it. */
  lost(server: string): void {
    const m = this.byServer.get(server);
    if (!m) return;
    this.byServer.delete(server);
    for (const t of m.values()) {
      const why = t.ds.lastLoss;
      if (why && t.id) this.board.changed(t.id, t.failedState(why));
    }
  }
}
