// Tasks (MCP 2025-11-25, experimental; README "Tasks"): the board of every task this process
// runs or forwards, under ids it made. A task's work is its backend's: our own tool run in the
// background (LocalTask, below), or a downstream server's task (src/proxy/tasks.ts). The board
// owns what the host sees: ids (never a server's own, so two servers' ids never collide), who may
// see a task (the session that made it), the list, expiry after the task's ttl, and status
// notifications. Pure of the SDK: protocol types only.
import { randomUUID } from 'node:crypto';
import { ProtocolErrorCode, type CallToolResult } from '@modelcontextprotocol/server';
import { systemTimers, unrefd, type TimerHandle, type Timers } from '../time.js';
import { protocolError } from './errors.js';
import type { CallExtra, HostLink } from './sources.js';

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** A task as the protocol shows it, without its id. */
export interface TaskState {
  status: TaskStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  /** ms, or null for unlimited: what the task's owner (a server, or we) said. */
  ttl: number | null;
  pollInterval?: number;
}

export type Task = TaskState & { taskId: string };

/** The work behind one task. */
export interface TaskBackend {
  /** Its state now. */
  state(extra: CallExtra): Promise<TaskState>;
  /** What the request would have returned, once the task is over (waits until then). */
  result(extra: CallExtra): Promise<CallToolResult>;
  /** Asks it to stop; its state after. */
  cancel(extra: CallExtra): Promise<TaskState>;
  /** The board forgot it (expired, or its session ended): let go of what it holds. */
  forget?(): void;
}

export const TERMINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);
export const RELATED_TASK_META_KEY = 'io.modelcontextprotocol/related-task';

/** What the board keeps after a task ends, when its owner set no ttl: an hour. */
const DEFAULT_KEEP_MS = 60 * 60_000;
/**
 * The longest the board keeps any task, ended or not, whatever its ttl: a week (which is also
 * below the 2^31-1 ms beyond which a timer fires at once).
 */
const MAX_KEEP_MS = 7 * 24 * 60 * 60_000;
/** Tasks one session may have on the board at once. */
export const MAX_TASKS_PER_OWNER = 1000;
/** Status notifications that only change the message: at most one a second per task. */
const MESSAGE_EVERY_MS = 1000;
/** tasks/list page size. */
export const TASK_PAGE = 100;

interface Entry {
  id: string;
  /** The session that made it: only it sees the task. */
  owner: object;
  backend: TaskBackend;
  /** Where status notifications go. */
  host?: HostLink;
  last: TaskState;
  seq: number;
  /** When it was added, on the board's clock. */
  born: number;
  /** When the host last heard of it. */
  told?: number;
  expiry?: TimerHandle;
}

export class TaskBoard {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;

  constructor(private readonly timers: Timers = systemTimers) {}

  /** A new task: its id, made here. `host` hears its status changes. */
  add(owner: object, backend: TaskBackend, initial: TaskState, host?: HostLink): string {
    let mine = 0;
    for (const e of this.entries.values()) if (e.owner === owner) mine++;
    if (mine >= MAX_TASKS_PER_OWNER) throw protocolError(ProtocolErrorCode.InvalidParams, `this session has ${MAX_TASKS_PER_OWNER} tasks already: let some end or expire first`);
    const id = randomUUID();
    const e: Entry = { id, owner, backend, host, last: initial, seq: this.seq++, born: this.timers.now() };
    this.entries.set(id, e);
    this.expireAfter(e);
    return id;
  }

  /** The task as the host sees it (its state asked of its backend). */
  async get(owner: object, id: unknown, extra: CallExtra): Promise<Task> {
    const e = this.entry(owner, id);
    return this.task(e, await this.fresh(e, extra));
  }

  /** The task as last known, without asking its backend (right after it was made). */
  peek(owner: object, id: unknown): Task {
    const e = this.entry(owner, id);
    return this.task(e, e.last);
  }

  /** A session ended: its tasks can no longer be reached, so they are let go. */
  forgetOwner(owner: object): void {
    for (const e of [...this.entries.values()]) if (e.owner === owner) this.forget(e);
  }

  /** Its result, with the related-task `_meta` naming our id (never a server's). */
  async result(owner: object, id: unknown, extra: CallExtra): Promise<CallToolResult> {
    const e = this.entry(owner, id);
    const res = await e.backend.result(extra);
    await this.fresh(e, extra).catch(() => undefined);
    return { ...res, _meta: { ...res._meta, [RELATED_TASK_META_KEY]: { taskId: e.id } } };
  }

  async cancel(owner: object, id: unknown, extra: CallExtra): Promise<Task> {
    const e = this.entry(owner, id);
    if (TERMINAL.has(e.last.status)) throw protocolError(ProtocolErrorCode.InvalidParams, `task ${e.id} is already ${e.last.status}: it cannot be cancelled`);
    const state = await e.backend.cancel(extra);
    this.update(e, state);
    return this.task(e, state);
  }

  /** The owner's tasks, oldest first, a page at a time (an opaque cursor). */
  async list(owner: object, cursor: unknown, extra: CallExtra): Promise<{ tasks: Task[]; nextCursor?: string }> {
    let after = -1;
    if (cursor !== undefined) {
      const n = typeof cursor === 'string' && /^[0-9]{1,15}$/.test(cursor) ? Number(cursor) : NaN;
      if (!Number.isSafeInteger(n)) throw protocolError(ProtocolErrorCode.InvalidParams, 'invalid cursor');
      after = n;
    }
    const mine = [...this.entries.values()].filter((e) => e.owner === owner && e.seq > after).sort((a, b) => a.seq - b.seq);
    const page = mine.slice(0, TASK_PAGE);
    const tasks = await Promise.all(page.map(async (e) => this.task(e, await this.fresh(e, extra).catch(() => e.last))));
    return { tasks, ...(mine.length > TASK_PAGE && { nextCursor: String(page[page.length - 1]!.seq) }) };
  }

  /** A backend's task changed on its own (a server's status notification, a crash): the host hears it. */
  changed(id: string, state: TaskState): void {
    const e = this.entries.get(id);
    if (e) this.update(e, state);
  }

  /** The tasks that are still running (for shutdown and tests). */
  running(): number {
    return [...this.entries.values()].filter((e) => !TERMINAL.has(e.last.status)).length;
  }

  private entry(owner: object, id: unknown): Entry {
    const e = typeof id === 'string' ? this.entries.get(id) : undefined;
    // Another session's task is as unknown as one that never was: ids are not a way in.
    if (!e || e.owner !== owner) throw protocolError(ProtocolErrorCode.InvalidParams, `unknown task: ${JSON.stringify(id)?.slice(0, 80)} (expired, or made in another session)`);
    return e;
  }

  /** The backend's state, unless the task is over (a terminal state never changes). */
  private async fresh(e: Entry, extra: CallExtra): Promise<TaskState> {
    if (TERMINAL.has(e.last.status)) return e.last;
    const state = await e.backend.state(extra);
    this.update(e, state);
    return state;
  }

  private update(e: Entry, state: TaskState): void {
    const was = e.last;
    // Terminal is final: a late "working" from a server does not revive a task.
    if (TERMINAL.has(was.status)) return;
    e.last = state;
    const now = this.timers.now();
    // A new status is told at once; a new message alone (a copy's progress, a chatty server) at
    // most once a second.
    const tell = state.status !== was.status || (state.statusMessage !== was.statusMessage && (e.told === undefined || now - e.told >= MESSAGE_EVERY_MS));
    if (tell && e.host?.notify) {
      e.told = now;
      void e.host.notify({ method: 'notifications/tasks/status', params: this.task(e, state) } as never).catch(() => {});
    }
    if (TERMINAL.has(state.status)) this.expireAfter(e);
  }

  private forget(e: Entry): void {
    this.timers.clearTimeout(e.expiry);
    if (this.entries.get(e.id) === e) this.entries.delete(e.id);
    e.backend.forget?.();
  }

  /**
   * Forgotten `ttl` after it was made (as its owner said), or an hour after it ended when it has
   * none; never kept longer than a week, so a task nobody polls does not stay for good.
   */
  private expireAfter(e: Entry): void {
    this.timers.clearTimeout(e.expiry);
    const ttl = e.last.ttl;
    const byTtl = ttl !== null && Number.isFinite(ttl) && ttl >= 0 ? e.born + ttl : TERMINAL.has(e.last.status) ? this.timers.now() + DEFAULT_KEEP_MS : Infinity;
    const at = Math.min(byTtl, e.born + MAX_KEEP_MS);
    e.expiry = unrefd(this.timers.setTimeout(() => this.forget(e), Math.max(0, at - this.timers.now())));
  }

  private task(e: Entry, state: TaskState): Task {
    return { taskId: e.id, ...state };
  }
}

/** A task's state now, from its parts. */
export function taskState(status: TaskStatus, createdAt: string, ttl: number | null, extra: Partial<Pick<TaskState, 'statusMessage' | 'pollInterval'>> = {}): TaskState {
  return { status, createdAt, lastUpdatedAt: new Date().toISOString(), ttl, ...extra };
}

/**
 * One of our own tools run as a task: it starts at once and runs in the background; progress
 * becomes its status message. Cancelling stops the work between files (a file being copied
 * finishes, so nothing is left half-written) and the task ends `cancelled`.
 */
export class LocalTask implements TaskBackend {
  private current: TaskState;
  private readonly done: Promise<CallToolResult>;
  private readonly stop = new AbortController();
  /** Told of every change (the board passes it on). */
  onChange?: (s: TaskState) => void;

  constructor(
    work: (signal: AbortSignal, progress: (message: string) => void) => Promise<CallToolResult>,
    readonly ttl: number | null,
    pollInterval = 1000,
  ) {
    const createdAt = new Date().toISOString();
    this.current = taskState('working', createdAt, ttl, { pollInterval });
    const set = (s: TaskState) => {
      if (TERMINAL.has(this.current.status)) return;
      this.current = s;
      this.onChange?.(s);
    };
    this.done = work(this.stop.signal, (message) => set({ ...this.current, statusMessage: message, lastUpdatedAt: new Date().toISOString() })).then(
      (res) => {
        // A tool result, error or not, completes the task (failed is for a request that failed).
        set(taskState(this.stop.signal.aborted ? 'cancelled' : 'completed', createdAt, ttl, { pollInterval }));
        return this.stop.signal.aborted ? cancelledResult() : res;
      },
      (e: unknown) => {
        set(taskState('failed', createdAt, ttl, { pollInterval, statusMessage: (e as Error)?.message ?? String(e) }));
        throw e;
      },
    );
    this.done.catch(() => {});
  }

  async state(): Promise<TaskState> {
    return this.current;
  }

  result(): Promise<CallToolResult> {
    return this.done;
  }

  forget(): void {
    this.stop.abort();
  }

  async cancel(): Promise<TaskState> {
    this.stop.abort();
    if (!TERMINAL.has(this.current.status)) {
      this.current = taskState('cancelled', this.current.createdAt, this.ttl, { pollInterval: this.current.pollInterval, statusMessage: 'cancelled by request' });
      this.onChange?.(this.current);
    }
    return this.current;
  }
}

const cancelledResult = (): CallToolResult => ({ isError: true, content: [{ type: 'text', text: 'the task was cancelled' }] });
