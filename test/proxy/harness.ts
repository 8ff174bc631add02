// Proxy test harness: our app server with the proxy as its source, in this process, reached by a
// real SDK Client over an in-memory transport; the downstream servers are real child processes.
// Also a direct client to the same fixture, for the parity cases. A host may declare capabilities
// and answer the server's requests (sampling, elicitation, roots); more hosts can join one proxy.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import type { CallToolResult, ClientCapabilities, LoggingMessageNotification } from '@modelcontextprotocol/client';
import { resolveSettings, type ConfigFile } from '../../src/config.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import { McpProxy, type ProxyOptions } from '../../src/proxy/proxy.js';
import { createAppServer, type AppServer } from '../../src/server/app.js';
import { createContext, type AppContext } from '../../src/server/context.js';
import { onCleanup, tempDir } from '../helpers.js';

export const FIXTURE = fileURLToPath(new URL('../fixtures/fixture-server.mjs', import.meta.url));
export const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));

export function fixtureEntry(env: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return { command: process.execPath, args: [FIXTURE], env, ...extra };
}

/** What a host declares and answers; `handlers` runs before it connects. */
export interface HostSetup {
  capabilities?: ClientCapabilities;
  handlers?: (client: Client) => void;
}

export interface Host {
  client: Client;
  logs: LoggingMessageNotification['params'][];
  call(name: string, args?: Record<string, unknown>, opts?: Parameters<Client['request']>[2]): Promise<CallToolResult>;
}

export interface ProxyOnly {
  ctx: AppContext;
  proxy: McpProxy;
  base: string;
  stderr: string[];
}

/** A host of the proxy: its session on our side too (server, session, host link), for driving the lane. */
export type ProxyHost = Host & { app: AppServer };

export type ProxyHarness = ProxyOnly & ProxyHost;

/** The proxy in front of `config.mcpServers`, and a connected host client. */
export async function startProxy(config: ConfigFile, opts: ProxyOptions & { log?: Logger; host?: HostSetup } = {}): Promise<ProxyHarness> {
  const p = await startProxyOnly(config, opts);
  return { ...p, ...(await connectHost(p, opts.host)) };
}

/** The proxy alone, its servers starting; hosts join with connectHost. */
export async function startProxyOnly(config: ConfigFile, opts: ProxyOptions & { log?: Logger } = {}): Promise<ProxyOnly> {
  const base = await tempDir('aw-proxy-');
  const fileText = JSON.stringify({ workspace: { root: path.join(base, 'ws') }, ...config });
  const settings = resolveSettings({ env: {}, flags: {}, cwd: base, fileText, filePath: path.join(base, 'mcp.config.json') });
  const stderr: string[] = [];
  const log = opts.log ?? createLogger({ level: 'debug', write: (l) => void stderr.push(l) });
  const ctx = await createContext(settings, log, { dataDir: path.join(base, 'data') });
  onCleanup(() => ctx.workspaces.store.close());
  const proxy = new McpProxy(ctx, { downstream: { graceMs: 300 }, ...opts });
  onCleanup(() => proxy.close());
  proxy.start();
  return { ctx, proxy, base, stderr };
}

/** One more host session on the proxy: its own app server, over an in-memory transport. */
export async function connectHost(p: Pick<ProxyOnly, 'ctx' | 'proxy'>, setup: HostSetup = {}): Promise<ProxyHost> {
  const app = createAppServer(p.ctx, p.proxy.appOptions());
  const { server } = app;
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'host', version: '1.0.0' }, { capabilities: setup.capabilities ?? {} });
  const logs: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler('notifications/message', (n) => void logs.push(n.params));
  setup.handlers?.(client);
  onCleanup(() => client.close());
  onCleanup(() => server.close());
  await server.connect(a);
  await client.connect(b);
  return { client, app, logs, call: callOn(client) };
}

const callOn =
  (client: Client): Host['call'] =>
  (name, args = {}, o) =>
    client.request({ method: 'tools/call', params: { name, arguments: args } }, o) as Promise<CallToolResult>;

/** A host client straight to a stdio server, no proxy in between. */
export async function startDirect(entry: { command: string; args: string[]; env?: Record<string, string> }, setup: HostSetup = {}): Promise<Host> {
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: { ...(process.env as Record<string, string>), ...entry.env }, stderr: 'pipe' });
  const client = new Client({ name: 'host', version: '1.0.0' }, { capabilities: setup.capabilities ?? {} });
  const logs: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler('notifications/message', (n) => void logs.push(n.params));
  setup.handlers?.(client);
  onCleanup(() => client.close());
  await client.connect(transport);
  return { client, logs, call: callOn(client) };
}

export { silentLogger };

export async function waitFor<T>(probe: () => T | Promise<T>, ms = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
