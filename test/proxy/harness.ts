// Proxy test harness: our app server with the proxy as its source, in this process, reached by a
// real SDK Client over an in-memory transport; the downstream servers are real child processes.
// Also a direct client to the same fixture, for the parity cases.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, LoggingMessageNotificationSchema, type CallToolResult, type LoggingMessageNotification } from '@modelcontextprotocol/sdk/types.js';
import { resolveSettings, type ConfigFile } from '../../src/config.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import { McpProxy, type ProxyOptions } from '../../src/proxy/proxy.js';
import { createAppServer } from '../../src/server/app.js';
import { createContext, type AppContext } from '../../src/server/context.js';
import { onCleanup, tempDir } from '../helpers.js';

export const FIXTURE = fileURLToPath(new URL('../fixtures/fixture-server.mjs', import.meta.url));
export const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));

export function fixtureEntry(env: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return { command: process.execPath, args: [FIXTURE], env, ...extra };
}

export interface ProxyHarness {
  client: Client;
  ctx: AppContext;
  proxy: McpProxy;
  base: string;
  logs: LoggingMessageNotification['params'][];
  stderr: string[];
  call(name: string, args?: Record<string, unknown>, opts?: Parameters<Client['request']>[2]): Promise<CallToolResult>;
}

/** The proxy in front of `config.mcpServers`, and a connected host client. */
export async function startProxy(config: ConfigFile, opts: ProxyOptions & { log?: Logger } = {}): Promise<ProxyHarness> {
  const base = await tempDir('aw-proxy-');
  const fileText = JSON.stringify({ workspace: { root: path.join(base, 'ws') }, ...config });
  const settings = resolveSettings({ env: {}, flags: {}, cwd: base, fileText, filePath: path.join(base, 'mcp.config.json') });
  const stderr: string[] = [];
  const log = opts.log ?? createLogger({ level: 'debug', write: (l) => void stderr.push(l) });
  const ctx = await createContext(settings, log, { dataDir: path.join(base, 'data') });
  const proxy = new McpProxy(ctx, { downstream: { graceMs: 300 }, ...opts });
  onCleanup(() => proxy.close());
  proxy.start();
  const { server } = createAppServer(ctx, proxy.appOptions());
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'host', version: '1.0.0' });
  const logs: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
  onCleanup(() => client.close());
  onCleanup(() => server.close());
  await server.connect(a);
  await client.connect(b);
  return {
    client,
    ctx,
    proxy,
    base,
    logs,
    stderr,
    call: (name, args = {}, o) => client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, o) as Promise<CallToolResult>,
  };
}

/** A host client straight to a stdio server, no proxy in between. */
export async function startDirect(entry: { command: string; args: string[]; env?: Record<string, string> }): Promise<{
  client: Client;
  logs: LoggingMessageNotification['params'][];
  call: ProxyHarness['call'];
}> {
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, env: { ...(process.env as Record<string, string>), ...entry.env }, stderr: 'pipe' });
  const client = new Client({ name: 'host', version: '1.0.0' });
  const logs: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
  onCleanup(() => client.close());
  await client.connect(transport);
  return {
    client,
    logs,
    call: (name, args = {}, o) => client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, o) as Promise<CallToolResult>,
  };
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
