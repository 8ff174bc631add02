// The Streamable HTTP front at http://{host}:{port}/mcp. One MCP server (and so one workspace
// session) per MCP session; Host and Origin checked against DNS rebinding; an optional bearer
// token; sessions freed on DELETE or after an idle timeout. Bodies are read here with a generous
// cap (the SDK's own 4 MB / 100 kB body parsers are not in the path).
import http from 'node:http';
import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport, toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import { createMcpHandler, isInitializeRequest, isLegacyRequest, type Server, type ServerNotifier } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import { systemTimers, unrefd, type Timers } from '../time.js';
import { guardEncoding, plainModernHeaders, takeLaneCall, tapLaneRelated, type LaneCalls } from './lane-http.js';
import { boundedEventStore } from './event-store.js';
import { hostAllowed, originAllowed } from './http-guard.js';

export const DEFAULT_IDLE_MS = 30 * 60_000;
export const DEFAULT_MAX_BODY = 256 * 1024 ** 2;
export const DEFAULT_MAX_SESSIONS = 1000;
/** All request bodies being received at once, together: many large bodies must not exhaust memory. */
export const DEFAULT_MAX_INFLIGHT_BYTES = 512 * 1024 ** 2;
/** A request outside any session can only be `initialize`, which is small. */
export const MAX_SESSIONLESS_BODY = 1024 ** 2;

export interface HttpFrontOptions {
  host: string;
  port: number;
  token?: string;
  /** Extra Host header values (host[:port]) to accept besides the loopback names and `host`. */
  allowedHosts?: string[];
  /** Extra Origin values to accept besides loopback origins. */
  allowedOrigins?: string[];
  idleTimeoutMs?: number;
  maxBodyBytes?: number;
  /** Bytes of request bodies being received at once, over all requests (default 512 MiB); past it, 503. */
  maxInflightBytes?: number;
  /** Open MCP sessions at most (default 1000); a new one past that gets 503. */
  maxSessions?: number;
  /** Timers of idle expiry (default: the real ones). */
  timers?: Timers;
  /** A new MCP server for a new MCP session (2025-11-25); `close` frees what it holds; `lane` is the proxy's lane. */
  createSession(): { server: Server; close?: () => Promise<void>; lane?: LaneCalls };
  /**
   * A server for one MCP 2026-07-28 request, which belongs to no session: any request may land
   * on any process. Without it, such requests are refused as an unsupported revision.
   */
  createStateless?(): Server;
  /** The proxy's lane for 2026-07-28 requests (stateless: one for all of them). */
  statelessLane?: LaneCalls;
  /** Told once how to publish list changes to 2026-07-28 `subscriptions/listen` streams; returns its undo. */
  onNotifier?(notify: ServerNotifier): () => void;
  /** Answers requests outside /mcp it claims (the workspace browser at /ui), with its own guard. */
  other?: { handle(req: http.IncomingMessage, res: http.ServerResponse): boolean; close?(): void };
  log: Logger;
}

export interface HttpFront {
  url: string;
  port: number;
  sessionCount(): number;
  close(): Promise<void>;
}

interface Session {
  transport: NodeStreamableHTTPServerTransport;
  /** POSTed requests of this session still being answered. */
  inflight: number;
  lane?: LaneCalls;
  close: () => Promise<void>;
  lastSeen: number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export async function startHttpFront(opts: HttpFrontOptions): Promise<HttpFront> {
  const sessions = new Map<string, Session>();
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const budget = new BodyBudget(opts.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES);
  const maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const timers = opts.timers ?? systemTimers;
  const tokenDigest = opts.token ? digest(opts.token) : undefined;
  let port = opts.port;

  const reject = (res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
  };

  const encodeFailed = (why: string): void => opts.log.error(`http: ${why}`);

  // MCP 2026-07-28: no sessions; the SDK's per-request entry answers, with a fresh server each
  // time. 2025 traffic never reaches it (the sessionful path below keeps it), so it is strict.
  const create = opts.createStateless;
  const stateless = create && createMcpHandler(() => create(), { legacy: 'reject', maxRequestBodySize: maxBody, onerror: (e) => opts.log.debug(`http (2026-07-28): ${e.message}`) });
  const serveStateless = stateless && toNodeHandler(stateless, { maxRequestBodySize: maxBody });
  const unnotify = stateless && opts.onNotifier?.(stateless.notify);

  const dropSession = async (id: string): Promise<void> => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    await s.close().catch(() => {});
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/mcp') {
      if (opts.other?.handle(req, res)) return;
      return reject(res, 404, 'not found: the MCP endpoint is /mcp');
    }
    if (!hostAllowed(req.headers.host, opts.host, port, opts.allowedHosts)) return reject(res, 403, 'forbidden: Host header not allowed');
    if (!originAllowed(req.headers.origin, opts.allowedOrigins)) return reject(res, 403, 'forbidden: Origin not allowed');
    if (tokenDigest) {
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      // Compare digests so the comparison is constant-time whatever the token's length.
      if (!m || !timingSafeEqual(digest(m[1]!.trim()), tokenDigest)) return reject(res, 401, 'unauthorized: a bearer token is required', { 'www-authenticate': 'Bearer' });
    }

    const sid = req.headers['mcp-session-id'];
    const id = Array.isArray(sid) ? sid[0] : sid;
    let raw: Buffer | undefined;
    if (req.method === 'POST') {
      // Outside a session a body may be a 2026-07-28 request (which has no sessions), so it gets
      // the full limit; a 2025 one outside a session can only be `initialize` (checked below).
      const got = await readBody(req, maxBody, budget);
      if (got === 'too-large') return reject(res, 413, `request body larger than ${maxBody} bytes`);
      if (got === 'busy') return reject(res, 503, 'too many large requests at once; retry shortly', { 'retry-after': '1' });
      // Held against the budget until the request is answered: its parse and its handling live that long.
      res.once('close', () => budget.give(got.length));
      raw = got;
    }
    const s = id ? sessions.get(id) : undefined;
    if (id && !s) return reject(res, 404, 'session not found (it may have expired): start a new one');
    if (s) {
      // A session is idle only when no request of it is being answered (a call streaming for an
      // hour is use); its standing GET stream for notifications does not count.
      s.lastSeen = timers.now();
      if (req.method === 'POST') {
        s.inflight++;
        res.once('close', () => {
          s.inflight--;
          s.lastSeen = timers.now();
        });
      }
    }
    // A pass-through call is answered from its bytes, before anything parses them.
    if (s?.lane && raw && takeLaneCall(s.lane, raw, req, res, id!, encodeFailed)) return;
    // So is a 2026-07-28 one, whose headers say all there is to check at this layer.
    if (!id && raw && opts.statelessLane) {
      const plain = plainModernHeaders(req);
      if (plain && takeLaneCall(opts.statelessLane, raw, req, res, undefined, encodeFailed, plain)) return;
    }

    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
      }
    }
    if (s) {
      await s.transport.handleRequest(req, res, body);
      return;
    }
    const isInit = req.method === 'POST' && (Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body));
    if (!isInit) {
      // Not 2025 (no session, not initialize): a 2026-07-28 request, decided as the SDK decides it.
      if (serveStateless && req.method === 'POST' && !(await isLegacyRequest(await toWebRequest(req, body), body))) return serveStateless(req, res, body);
      return reject(res, 400, 'bad request: no mcp-session-id; send initialize first (MCP 2025-11-25), or the per-request _meta envelope (MCP 2026-07-28)');
    }
    if (raw && raw.length > MAX_SESSIONLESS_BODY) return reject(res, 413, `initialize larger than ${MAX_SESSIONLESS_BODY} bytes`);
    if (sessions.size >= maxSessions) return reject(res, 503, `too many sessions (${maxSessions}); close one (DELETE) or wait for idle ones to expire`);

    const { server, close, lane } = opts.createSession();
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // A broken SSE stream can be resumed (Last-Event-ID); clients are told to retry after 1 s.
      eventStore: boundedEventStore(),
      retryInterval: 1000,
      onsessioninitialized: (newId) => {
        sessions.set(newId, {
          transport,
          inflight: 0,
          lane,
          lastSeen: timers.now(),
          close: async () => {
            await transport.close().catch(() => {});
            await server.close().catch(() => {});
            await close?.();
          },
        });
      },
      onsessionclosed: (closedId) => dropSession(closedId),
    });
    guardEncoding(transport, encodeFailed);
    if (lane) tapLaneRelated(transport, lane);
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      opts.log.error(`http: ${(e as Error)?.stack ?? String(e)}`);
      if (!res.headersSent) reject(res, 500, 'internal error');
      else res.end();
    });
  });
  // Receiving a request (headers and body) is bounded; answering it is not (calls stream for minutes).
  httpServer.requestTimeout = 5 * 60_000;
  httpServer.headersTimeout = 60_000;

  const sweep = unrefd(
    timers.setInterval(
      () => {
        const cutoff = timers.now() - idleMs;
        for (const [id, s] of sessions) if (s.inflight === 0 && s.lastSeen < cutoff) void dropSession(id);
      },
      Math.min(60_000, Math.max(1_000, idleMs / 4)),
    ),
  );

  await new Promise<void>((resolve, reject_) => {
    httpServer.once('error', reject_);
    httpServer.listen(opts.port, opts.host, () => resolve());
  });
  port = (httpServer.address() as AddressInfo).port;
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}/mcp`,
    port,
    sessionCount: () => sessions.size,
    async close() {
      opts.other?.close?.();
      timers.clearInterval(sweep);
      unnotify?.();
      await stateless?.close().catch(() => {});
      await Promise.all([...sessions.keys()].map(dropSession));
      httpServer.closeAllConnections();
      await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}

/** Bytes of request bodies held at once, over every request being received. */
class BodyBudget {
  private used = 0;
  constructor(private readonly max: number) {}
  take(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used -= n;
  }
}

/**
 * The body, 'too-large' past `max`, or 'busy' when the bodies held at once would pass the budget.
 * A body returned is still counted against the budget: the caller gives it back when done with it.
 */
function readBody(req: http.IncomingMessage, max: number, budget: BodyBudget): Promise<Buffer | 'too-large' | 'busy'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      req.resume();
      return resolve('too-large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed: 'too-large' | 'busy' | undefined;
    const release = () => budget.give(size);
    req.on('data', (c: Buffer) => {
      if (failed) return;
      if (size + c.length > max) failed = 'too-large';
      else if (!budget.take(c.length)) failed = 'busy';
      if (failed) {
        // What was held goes back at once; the rest of the body is read and dropped.
        release();
        size = 0;
        chunks.length = 0;
        return;
      }
      size += c.length;
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return resolve(failed);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      release();
      reject(e);
    });
  });
}
