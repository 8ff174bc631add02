// One downstream server: connect (stdio child or Streamable HTTP), keep its tool list, forward
// requests, and survive it. A server that fails to start is retried in the background with
// backoff; one that exits is restarted by the next call (after its backoff delay). Consecutive
// failures are capped: past the cap, calls fail fast and one retry happens per cool-down.
// Everything the SDK client does is kept behind this class.
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ErrorCode,
  ListToolsResultSchema,
  LoggingMessageNotificationSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type ClientRequest,
  type LoggingMessageNotification,
  type ResourceUpdatedNotification,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { ServerConfig } from '../config.js';
import type { Logger } from '../log.js';
import { openTransport, type Opened } from '../transports/client-transport.js';
import { PACKAGE_NAME, VERSION } from '../version.js';
import { JunkFilter } from './junk-filter.js';
import { launchSpec } from './launch.js';
import { Tail, backoffDelay } from './tail.js';

export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

export interface DownstreamEvents {
  /** The server's tool list is (re)known: it connected, restarted, or said its list changed. */
  toolsChanged(server: string, why: 'connected' | 'restarted' | 'changed'): void;
  listChanged(server: string, what: 'resources' | 'prompts'): void;
  resourceUpdated(server: string, params: ResourceUpdatedNotification['params']): void;
  log(server: string, params: LoggingMessageNotification['params']): void;
}

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
}

/** A downstream problem that becomes an `isError` result (not a protocol error). */
export class DownstreamFailure extends Error {
  override name = 'DownstreamFailure';
  constructor(
    readonly kind: 'crashed' | 'unavailable' | 'timeout',
    message: string,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

interface Conn {
  client: Client;
  opened: Opened;
  caps: ServerCapabilities;
}

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
  private state: State = { kind: 'idle' };
  private failures = 0;
  private everUp = false;
  private retryTimer?: NodeJS.Timeout;
  private junkLines = 0;
  private readonly tail = new Tail();
  private readonly timeoutMs: number;

  constructor(private readonly o: DownstreamOptions) {
    this.name = o.name;
    this.config = o.config;
    this.timeoutMs = o.config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get capabilities(): ServerCapabilities | undefined {
    return this.state.kind === 'ready' ? this.state.conn.caps : undefined;
  }

  get status(): State['kind'] {
    return this.state.kind;
  }

  /** The folder a stdio server works in (relative paths in its results point there). */
  workDir(defaultCwd: string): string | undefined {
    if ('url' in this.config) return undefined;
    return this.config.cwd !== undefined ? path.resolve(this.o.baseDir, this.config.cwd) : defaultCwd;
  }

  stderrTail(): string {
    return this.tail.text();
  }

  start(): void {
    if (this.state.kind === 'idle') this.connect();
  }

  /** Resolves once a connection attempt in flight has settled, or after `ms`. */
  async settled(ms: number): Promise<void> {
    if (this.state.kind !== 'connecting') return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.state.attempt, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** Sends one request, restarting the server first if it is down. */
  async request<S extends z.ZodType>(
    req: ClientRequest,
    schema: S,
    opts: Pick<RequestOptions, 'signal' | 'onprogress'> = {},
  ): Promise<z.infer<S>> {
    const conn = await this.ready();
    try {
      const res = await conn.client.request(req, schema, { ...opts, timeout: this.timeoutMs, resetTimeoutOnProgress: true });
      this.failures = 0;
      return res;
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      const current = this.state.kind === 'ready' && this.state.conn === conn;
      if (!current) {
        const why = conn.opened.exitReason() ?? 'closed the connection';
        throw new DownstreamFailure('crashed', `server "${this.name}" ${why} during ${req.method}`, this.tail.text());
      }
      if (e instanceof McpError && e.code === ErrorCode.RequestTimeout) {
        throw new DownstreamFailure('timeout', `server "${this.name}" did not answer ${req.method} within ${this.timeoutMs} ms (timeoutMs; progress resets it)`, '');
      }
      if (!(e instanceof McpError) && 'url' in this.o.config && e instanceof TypeError) {
        // The HTTP server went away: reconnect on the next call.
        this.lost(conn, `unreachable (${e.message})`);
        throw new DownstreamFailure('crashed', `server "${this.name}" is unreachable: ${e.message}`, '');
      }
      throw e;
    }
  }

  async close(): Promise<void> {
    const s = this.state;
    this.state = { kind: 'stopped' };
    clearTimeout(this.retryTimer);
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
      const wait = s.retryAt - Date.now();
      if (tried || wait > (this.o.maxCallWaitMs ?? 5000)) {
        const when = wait > 0 ? `; next attempt in ${Math.ceil(wait / 1000)} s` : '';
        throw new DownstreamFailure('unavailable', `server "${this.name}" is not available: ${s.reason}${when}`, this.tail.text());
      }
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.state === s) this.connect();
    }
  }

  private connect(): void {
    clearTimeout(this.retryTimer);
    const restart = this.everUp;
    const attempt = this.open().then(
      (conn) => {
        if (this.state.kind === 'stopped') {
          void conn.client.close().catch(() => {});
          return undefined;
        }
        this.state = { kind: 'ready', conn };
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
    const { spec, missing } = launchSpec(this.o.config, this.o.env, this.o.baseDir);
    if (missing.length) this.o.log.warn(`server "${this.name}": environment variable(s) not set: ${missing.join(', ')} (expanded to "")`);
    this.tail.clear();
    const opened = openTransport(spec, {
      lines: (stdout) => stdout.pipe(new JunkFilter({ onJunk: (t) => this.junk(t) })),
      onStderr: (t) => {
        this.tail.push(t);
        for (const line of t.split('\n')) if (line.trim()) this.o.log.info(`[${this.name}] ${line}`);
      },
      onBadLine: (line) => this.junk(line.slice(0, 200)),
      graceMs: this.o.graceMs,
    });
    const client = new Client({ name: PACKAGE_NAME, version: VERSION }, { capabilities: {} });
    this.listen(client);
    const conn: Conn = { client, opened, caps: {} };
    client.onclose = () => this.lost(conn, opened.exitReason() ?? 'closed the connection');
    client.onerror = (e) => this.o.log.debug(`server "${this.name}": ${e.message}`);
    try {
      await client.connect(opened.transport, { timeout: this.o.startTimeoutMs ?? 60_000 });
      conn.caps = client.getServerCapabilities() ?? {};
      this.tools = conn.caps.tools ? await this.listTools(client) : [];
    } catch (e) {
      await client.close().catch(() => {});
      const tail = this.tail.text();
      throw new Error(`${(e as Error)?.message ?? String(e)}${tail ? `; stderr: ${tail.slice(-500)}` : ''}`, { cause: e });
    }
    return conn;
  }

  private async listTools(client: Client): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema, {
        timeout: this.o.startTimeoutMs ?? 60_000,
      });
      tools.push(...res.tools);
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    return tools;
  }

  private listen(client: Client): void {
    const ev = this.o.events;
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => ev.log(this.name, n.params));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => ev.listChanged(this.name, 'resources'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => ev.listChanged(this.name, 'prompts'));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => ev.resourceUpdated(this.name, n.params));
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      try {
        this.tools = await this.listTools(client);
        ev.toolsChanged(this.name, 'changed');
      } catch (e) {
        this.o.log.warn(`server "${this.name}": re-listing tools failed: ${(e as Error).message}`);
      }
    });
  }

  /** The live connection ended (exit, crash, network): mark down; the next call restarts. */
  private lost(conn: Conn, why: string): void {
    if (this.state.kind !== 'ready' || this.state.conn !== conn) return;
    void conn.client.close().catch(() => {});
    this.fail(why, false);
  }

  private fail(reason: string, retryInBackground: boolean): void {
    this.failures++;
    const capped = this.failures >= (this.o.maxFailures ?? 5);
    const delay = capped ? (this.o.coolDownMs ?? 5 * 60_000) : backoffDelay(this.failures);
    this.state = { kind: 'down', reason, retryAt: Date.now() + delay };
    const tail = this.tail.text();
    this.o.log.warn(
      `server "${this.name}" ${reason}${capped ? ` (${this.failures} failures in a row; waiting ${Math.round(delay / 1000)} s)` : ''}${tail ? `\n  stderr tail:\n  ${tail.split('\n').slice(-10).join('\n  ')}` : ''}`,
    );
    if (retryInBackground) {
      const s = this.state;
      this.retryTimer = setTimeout(() => this.state === s && this.connect(), delay);
      this.retryTimer.unref();
    }
  }

  private junk(text: string): void {
    this.junkLines++;
    if (this.junkLines <= 20) this.o.log.warn(`server "${this.name}" wrote a non-protocol line to stdout (dropped): ${text}`);
    else if (this.junkLines % 1000 === 0) this.o.log.warn(`server "${this.name}": ${this.junkLines} non-protocol stdout lines dropped so far`);
  }
}
