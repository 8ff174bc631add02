// Opening one connection to a downstream server: its transport (a child over stdio with stdout
// through the junk filter, or Streamable HTTP), an SDK Client wired for its notifications and
// requests, initialize, and the first tools/list, all within the start limit.
import { ListToolsResultSchema } from '@modelcontextprotocol/core';
import { Client, type ClientCapabilities, type ServerCapabilities, type Tool } from '@modelcontextprotocol/client';
import type { ServerConfig } from '../config.js';
import type { Logger } from '../log.js';
import { openTransport, type Opened } from '../transports/client-transport.js';
import { PACKAGE_NAME, VERSION } from '../version.js';
import { wireClient, type Wiring } from './client-wiring.js';
import { LaneWire } from './lane-wire.js';
import { junkFilter } from './junk-filter.js';
import type { EarlyStarts } from './early-start.js';
import { launchSpec } from './launch.js';
import type { Tail } from './tail.js';

export interface Conn {
  client: Client;
  opened: Opened;
  caps: ServerCapabilities;
  /** The lane (stdio servers): tool calls forwarded without the SDK client. */
  lane?: LaneWire;
  /** Settles once the connection's end was handled (`lost` told, the lane's calls failed). */
  closed: Promise<void>;
}

export interface ConnectOptions {
  name: string;
  config: ServerConfig;
  baseDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  graceMs?: number;
  /** Limit for initialize and the first tools/list, in ms. */
  startTimeoutMs: number;
  /** Collects stderr, for failures' messages. */
  tail: Tail;
  /** A non-protocol stdout line (dropped). */
  junk(text: string): void;
  wiring: Wiring;
  /** The connection ended (exit, crash, network). */
  lost(conn: Conn): void;
  /** Declared in initialize: what the host declared, as far as the proxy forwards it. */
  capabilities: ClientCapabilities;
  /** Servers started while the proxy loaded: the first connection adopts its own. */
  early?: EarlyStarts;
}

/**
 * Connects to a server at the revision its entry names. `auto` (the default) prefers 2025-11-25,
 * and speaks 2026-07-28 to a server that refuses `initialize` for its version: one connection
 * serves hosts of both revisions, and at 2025-11-25 the proxy can carry everything (pushed
 * requests, subscriptions, logging) to either kind of host (README "Protocol revisions").
 */
export async function connect(o: ConnectOptions): Promise<{ conn: Conn; tools: Tool[] }> {
  const protocol = o.config.protocol ?? 'auto';
  if (protocol !== 'auto') return connectAt(o, protocol);
  try {
    return await connectAt(o, '2025-11-25');
  } catch (e) {
    if (!refusedRevision(e)) throw e;
    o.log.info(`server "${o.name}" does not speak MCP 2025-11-25; speaking 2026-07-28 to it`);
    return connectAt(o, '2026-07-28');
  }
}

/** The server said it does not speak the revision we offered (-32022, or a 2025 server's wording). */
function refusedRevision(e: unknown): boolean {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    if ((c as { code?: unknown }).code === -32022) return true;
    if (/unsupported protocol version|protocol version .*not supported/i.test((c as Error)?.message ?? '')) return true;
  }
  return false;
}

async function connectAt(o: ConnectOptions, protocol: '2025-11-25' | '2026-07-28'): Promise<{ conn: Conn; tools: Tool[] }> {
  const { spec, missing } = launchSpec(o.config, o.env, o.baseDir);
  if (missing.length) o.log.warn(`server "${o.name}": environment variable(s) not set: ${missing.join(', ')} (expanded to "")`);
  o.tail.clear();
  const opened = openTransport(spec, {
    lines: (onLine) => junkFilter({ onLine, onJunk: (t) => o.junk(t) }),
    onStderr: (t) => {
      o.tail.push(t);
      for (const line of t.split('\n')) if (line.trim()) o.log.info(`[${o.name}] ${line}`);
    },
    onBadLine: (line) => o.junk(line.slice(0, 200)),
    graceMs: o.graceMs,
    adopt: spec.kind === 'stdio' && o.early ? () => o.early?.take(o.name, spec) : undefined,
  });
  const client = new Client(
    { name: PACKAGE_NAME, version: VERSION },
    { capabilities: o.capabilities, versionNegotiation: { mode: protocol === '2025-11-25' ? 'legacy' : { pin: protocol } } },
  );
  wireClient(client, o.wiring, o.capabilities);
  const child = opened.child;
  let ended!: () => void;
  const closed = new Promise<void>((r) => (ended = r));
  // A child that has exited is gone, though its close comes a moment later (its pipes drained, the
  // stderr tail complete): a write meanwhile fails with the close's reason, not a write error.
  const lane = child ? new LaneWire((line) => (child.exit ? closed.then(() => Promise.reject(new Error('Not connected'))) : child.sendRaw(line))) : undefined;
  if (child && lane) child.lane = (line) => lane.take(line);
  const conn: Conn = { client, opened, caps: {}, lane, closed };
  client.onclose = () => {
    lane?.failAll(opened.exitReason() ?? 'closed the connection');
    o.lost(conn);
    ended();
  };
  client.onerror = (e) => o.log.debug(`server "${o.name}": ${e.message}`);
  try {
    await client.connect(opened.transport, { timeout: o.startTimeoutMs });
    conn.caps = client.getServerCapabilities() ?? {};
    // The lane writes 2025 requests as bytes; a server at 2026-07-28 wants each request's
    // envelope, which the SDK client writes: its calls take the SDK path.
    const version = client.getNegotiatedProtocolVersion();
    if (protocol === '2026-07-28') {
      conn.lane = undefined;
      if (child) child.lane = undefined;
    }
    o.log.debug(`server "${o.name}": MCP ${version ?? '?'}${child?.adopted ? `, process started early (pid ${child.pid})` : ''}`);
    const tools = conn.caps.tools ? await listAllTools(client, o.startTimeoutMs) : [];
    return { conn, tools };
  } catch (e) {
    await client.close().catch(() => {});
    // The stderr tail is logged as it arrives and carried by the failure: not repeated here.
    throw new Error((e as Error)?.message ?? String(e), { cause: e });
  }
}

/** Every page of the server's tools (at most 100 pages). */
export async function listAllTools(client: Client, timeoutMs: number): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await client.request({ method: 'tools/list', params: cursor ? { cursor } : {} }, ListToolsResultSchema, { timeout: timeoutMs });
    tools.push(...res.tools);
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  return tools;
}
