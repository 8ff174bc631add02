// One downstream server: connect (./connect.ts), keep its tool list, forward requests, and survive
// it. A server that fails to start is retried in the background with backoff; one that exits is
// restarted by the next call (after its backoff delay). Consecutive failures are capped: past the
// cap, calls fail fast and one retry happens per cool-down. The server's own requests to us go to a
// host picked by its HostRoutes (./host-route.ts). Everything the SDK client does is kept behind
// this class.
import { ProtocolError, SdkErrorCode, SdkError } from '@modelcontextprotocol/client';
import type { Client, RequestOptions, ClientCapabilities, ClientRequest, ServerCapabilities, StandardSchemaV1, Tool } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { CallExtra } from '../server/sources.js';
import type { HostEvent, HostLink } from '../server/sources.js';
import type { DownstreamEvents } from './client-wiring.js';
import { connect, listAllTools, type Conn } from './connect.js';
import type { EarlyStarts } from './early-start.js';
import { workDirOf } from './launch.js';
import { goneFailure, timeoutFailure, DownstreamFailure } from '../server/errors.js';
import type { LaneWire } from './lane-wire.js';
import { HostRoutes } from './host-route.js';
import { junkReporter } from './junk-filter.js';
import { systemTimers, unrefd, type TimerHandle, type Timers } from '../time.js';
import { Tail, backoffDelay } from './tail.js';
import { innerWorkspace, type InnerWorkspace } from './chain.js';
import { OWN_TOOL_NAMES } from '../server/own-tools.js';
import { PACKAGE_NAME } from '../version.js';

export type { DownstreamEvents } from './client-wiring.js';

export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

export interface DownstreamOptions {
  name: string;
  config: ServerConfig;
  baseDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  events: DownstreamEvents;
  /** Consecutive failures before calls fail fast (default 5). */
  maxFailures?: number;
  /** Pause after the cap is hit before one more attempt, in ms (default 5 min). */
  coolDownMs?: number;
  /** Longest a call waits for a restart's backoff, in ms (default 5000). */
  maxCallWaitMs?: number;
  /** Shutdown step pause, in ms (default 2000). */
  graceMs?: number;
  /** Limit for starting: initialize and the first tools/list, in ms (default 60000; not timeoutMs, which is per call). */
  startTimeoutMs?: number;
  /** Timers of restarts and backoff (default: the real ones). */
  timers?: Timers;
  /** Servers started while the proxy loaded (./early-start.ts). */
  early?: EarlyStarts;
  /** The session that owns one of this server's tasks (by the server's id), for its requests about it. */
  taskRoute?: (server: string, taskId: string) => { host: HostLink; id: string } | undefined;
}

/** What the host side of the lane needs of one server (./lane.ts). */
export interface LaneLink {
  wire: LaneWire;
  timeoutMs: number;
  /** A host call starts: the server's own requests meanwhile go to that host. Returns its end. */
  begin(caller: CallExtra): () => void;
  succeeded(): void;
  /** The failure a call gets when the server went away (or answered with no answer) meanwhile. */
  gone(why: string): DownstreamFailure;
}

/** For calls whose clock is kept by the call pipeline: the SDK client's own timer never fires first. */
export const NO_SDK_TIMEOUT = 2 ** 31 - 1;

type State =
  | { kind: 'idle' }
  | { kind: 'connecting'; attempt: Promise<Conn | undefined> }
  | { kind: 'ready'; conn: Conn }
  | { kind: 'down'; reason: string; retryAt: number }
  | { kind: 'stopped' };

export class Downstream {
  readonly name: string;
  readonly config: ServerConfig;
  /** Last known tools (kept while the server is down after a crash, so the next call can restart it). */
  tools: Tool[] = [];
  /** Set when the server is an artifact-workspace itself (README "Chaining"), from its last tool list. */
  inner?: InnerWorkspace;

  /** The tools it adds to the catalog: an inner artifact-workspace's own tools are ours already. */
  get catalogTools(): Tool[] {
    return this.inner ? this.tools.filter((t) => !OWN_TOOL_NAMES.has(t.name)) : this.tools;
  }
  private state: State = { kind: 'idle' };
  private failures = 0;
  private everUp = false;
  private retryTimer?: TimerHandle;
  private readonly timers: Timers;
  private readonly junk: (text: string) => void;
  private readonly tail = new Tail();
  private readonly timeoutMs: number;
  private readonly routes = new HostRoutes();
  private declared: ClientCapabilities = {};
  /** The latest connection opened, for killNow. */
  private open_?: Conn;
  /** Counts connections made: a task made on one is gone when it is (src/proxy/tasks.ts). */
  generation = 0;
  /** Why the last connection ended, with its stderr tail, for the tasks it took with it. */
  lastLoss?: DownstreamFailure;

  constructor(private readonly o: DownstreamOptions) {
    this.name = o.name;
    this.config = o.config;
    this.timeoutMs = o.config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.junk = junkReporter(o.name, (m) => o.log.warn(m));
    this.timers = o.timers ?? systemTimers;
    const route = o.taskRoute;
    if (route) this.routes.forTask = (id) => route(o.name, id);
  }

  get capabilities(): ServerCapabilities | undefined {
    return this.state.kind === 'ready' ? this.state.conn.caps : undefined;
  }

  get status(): State['kind'] {
    return this.state.kind;
  }

  /** The connection speaks MCP 2026-07-28 (the server refused 2025-11-25, or its entry pins it). */
  get modern(): boolean {
    return this.state.kind === 'ready' && (this.state.conn.client.getNegotiatedProtocolVersion() ?? '') >= '2026';
  }

  /** The folder a stdio server works in (relative paths in its results point there). */
  workDir(): string | undefined {
    return 'url' in this.config ? undefined : workDirOf(this.config, this.o.baseDir, this.o.env);
  }

  stderrTail(): string {
    return this.tail.text();
  }

  /** Why the server is down, when it is. */
  downReason(): string | undefined {
    return this.state.kind === 'down' ? this.state.reason : undefined;
  }

  /** Starts connecting, telling the server `capabilities` (what the host declared, as far as forwarded). */
  start(capabilities: ClientCapabilities = {}): void {
    this.declared = capabilities;
    if (this.state.kind === 'idle') this.connect();
  }

  /** Resolves once a connection attempt in flight has settled, or after `ms`. */
  async settled(ms: number): Promise<void> {
    if (this.state.kind !== 'connecting') return;
    let timer: TimerHandle | undefined;
    await Promise.race([this.state.attempt, new Promise<void>((r) => (timer = this.timers.setTimeout(r, ms)))]);
    this.timers.clearTimeout(timer);
  }

  /** Per-call timeout of this server, in ms. */
  get callTimeoutMs(): number {
    return this.timeoutMs;
  }

  /**
   * Sends one request, restarting the server first if it is down. `caller` is the host request it
   * serves: the server's own requests meanwhile go to its host, and its signal (or `signal`, when
   * the call pipeline passes its own) cancels this one. `timeoutMs` replaces the server's per-call
   * timeout (the pipeline keeps the clock of tool calls itself).
   */
  async request<S extends StandardSchemaV1>(
    req: ClientRequest,
    schema: S,
    opts: Pick<RequestOptions, 'onprogress' | 'allowInputRequired'> & { caller?: CallExtra; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<StandardSchemaV1.InferOutput<S>> {
    const { caller, onprogress } = opts;
    const signal = opts.signal ?? caller?.signal;
    const conn = await this.ready();
    const end = this.routes.begin(caller);
    try {
      const res = await conn.client.request(req, schema, {
        signal,
        onprogress,
        timeout: opts.timeoutMs ?? this.timeoutMs,
        resetTimeoutOnProgress: true,
        ...(opts.allowInputRequired && { allowInputRequired: true }),
      });
      this.failures = 0;
      return res as StandardSchemaV1.InferOutput<S>;
    } catch (e) {
      if (signal?.aborted) throw e;
      // The child exited and its close is on the way (up to 1 s, while its pipes drain): the
      // request failed because the server is gone, which the close makes known with its reason.
      if (conn.opened.exitReason() !== undefined) await conn.closed;
      const current = this.state.kind === 'ready' && this.state.conn === conn;
      if (!current) throw goneFailure(this.name, conn.opened.exitReason() ?? 'closed the connection', req.method, this.tail.text());
      if (e instanceof SdkError && e.code === SdkErrorCode.RequestTimeout) throw timeoutFailure(this.name, req.method, this.timeoutMs);
      if (!(e instanceof ProtocolError) && 'url' in this.o.config && e instanceof TypeError) {
        // The HTTP server went away: reconnect on the next call.
        this.lost(conn, `unreachable (${e.message})`);
        throw new DownstreamFailure('crashed', `server "${this.name}" is unreachable: ${e.message}`, '');
      }
      throw e;
    } finally {
      end();
    }
  }

  /**
   * The lane, when the server is up and speaks stdio; undefined sends the caller down the SDK
   * path (which also restarts a server that is down).
   */
  lane(): LaneLink | undefined {
    if (this.state.kind !== 'ready' || !this.state.conn.lane) return undefined;
    // One per connection, asked for on every lane call.
    if (this.laneLink?.wire !== this.state.conn.lane)
      this.laneLink = {
        wire: this.state.conn.lane,
        timeoutMs: this.timeoutMs,
        begin: (caller) => this.routes.begin(caller),
        succeeded: () => void (this.failures = 0),
        gone: (why) => goneFailure(this.name, why, 'tools/call', this.tail.text()),
      };
    return this.laneLink;
  }

  private laneLink?: LaneLink;

  /**
   * A host became ready or changed its roots. It becomes the session this server's requests go to
   * outside calls (a ready one only if there is none yet), and the server hears that its roots
   * changed, so a server that asked before any host was there asks again.
   */
  hostEvent(e: HostEvent): void {
    const adopted = this.routes.adopt(e.host, e.kind === 'roots_changed');
    if (!adopted || !e.host.capabilities()?.roots || this.state.kind !== 'ready') return;
    this.state.conn.client.sendRootsListChanged().catch((err: unknown) => this.o.log.debug(`server "${this.name}": roots/list_changed not sent: ${(err as Error).message}`));
  }

  /** Kills the server's processes at once (SIGKILL to its group). */
  killNow(): void {
    this.open_?.opened.child?.killNow();
  }

  async close(): Promise<void> {
    const s = this.state;
    this.state = { kind: 'stopped' };
    this.timers.clearTimeout(this.retryTimer);
    const conn = s.kind === 'ready' ? s.conn : s.kind === 'connecting' ? await s.attempt : undefined;
    await conn?.client.close().catch(() => {});
  }

  private async ready(): Promise<Conn> {
    let tried = false;
    for (;;) {
      const s = this.state;
      if (s.kind === 'ready') return s.conn;
      if (s.kind === 'stopped') throw new DownstreamFailure('unavailable', `server "${this.name}" is stopped`, '');
      if (s.kind === 'connecting') {
        const conn = await s.attempt;
        if (conn) return conn;
        tried = true;
        continue;
      }
      if (s.kind === 'idle') {
        this.connect();
        continue;
      }
      const wait = s.retryAt - this.timers.now();
      if (tried || wait > (this.o.maxCallWaitMs ?? 5000)) {
        const when = wait > 0 ? `; next attempt in ${Math.ceil(wait / 1000)} s` : '';
        throw new DownstreamFailure('unavailable', `server "${this.name}" is not available: ${s.reason}${when}`, this.tail.text());
      }
      if (wait > 0) await new Promise<void>((r) => this.timers.setTimeout(r, wait));
      if (this.state === s) this.connect();
    }
  }

  private connect(): void {
    this.timers.clearTimeout(this.retryTimer);
    const restart = this.everUp;
    const attempt = this.open().then(
      (conn) => {
        if (this.state.kind === 'stopped') {
          void conn.client.close().catch(() => {});
          return undefined;
        }
        this.state = { kind: 'ready', conn };
        this.generation++;
        this.everUp = true;
        this.o.log.info(`server "${this.name}" ${restart ? 'restarted' : 'connected'} (${this.tools.length} tools)`);
        this.o.events.toolsChanged(this.name, restart ? 'restarted' : 'connected');
        return conn;
      },
      (e: unknown) => {
        if (this.state.kind !== 'stopped') this.fail(`failed to start: ${(e as Error)?.message ?? String(e)}`, true);
        return undefined;
      },
    );
    this.state = { kind: 'connecting', attempt };
  }

  private async open(): Promise<Conn> {
    const startTimeoutMs = this.o.startTimeoutMs ?? 60_000;
    const { conn, tools } = await connect({
      ...this.o,
      capabilities: this.declared,
      startTimeoutMs,
      tail: this.tail,
      junk: this.junk,
      lost: (c) => this.lost(c, c.opened.exitReason() ?? 'closed the connection'),
      wiring: {
        server: this.name,
        events: this.o.events,
        routes: this.routes,
        timeoutMs: this.timeoutMs,
        toolsChanged: (client) => void this.relist(client, startTimeoutMs),
      },
    });
    this.setTools(tools, conn.client);
    this.open_ = conn;
    return conn;
  }

  private setTools(tools: Tool[], client: Client): void {
    this.tools = tools;
    const was = this.inner;
    this.inner = innerWorkspace(tools, OWN_TOOL_NAMES, client.getServerVersion()?.name, PACKAGE_NAME);
    if (this.inner && this.inner.root !== was?.root) this.o.log.info(`server "${this.name}" is an artifact-workspace: its own tools are not listed (ours answer), and calls to it say where their files go (README "Chaining")`);
  }

  private async relist(client: Client, timeoutMs: number): Promise<void> {
    try {
      this.setTools(await listAllTools(client, timeoutMs), client);
      this.o.events.toolsChanged(this.name, 'changed');
    } catch (e) {
      this.o.log.warn(`server "${this.name}": re-listing tools failed: ${(e as Error).message}`);
    }
  }

  /** The live connection ended (exit, crash, network): mark down; the next call restarts. */
  private lost(conn: Conn, why: string): void {
    if (this.state.kind !== 'ready' || this.state.conn !== conn) return;
    void conn.client.close().catch(() => {});
    this.lastLoss = goneFailure(this.name, why, 'a task', this.tail.text());
    this.fail(why, false);
    this.o.events.lost?.(this.name);
  }

  private fail(reason: string, retryInBackground: boolean): void {
    this.failures++;
    const capped = this.failures >= (this.o.maxFailures ?? 5);
    const delay = capped ? (this.o.coolDownMs ?? 5 * 60_000) : backoffDelay(this.failures);
    this.state = { kind: 'down', reason, retryAt: this.timers.now() + delay };
    // Its stderr was logged line by line as it came: not repeated here.
    this.o.log.warn(`server "${this.name}" ${reason}${capped ? ` (${this.failures} failures in a row; waiting ${Math.round(delay / 1000)} s)` : ''}`);
    if (retryInBackground) {
      const s = this.state;
      this.retryTimer = unrefd(this.timers.setTimeout(() => this.state === s && this.connect(), delay));
    }
  }
}
