// The stdio front: MCP messages on stdin/stdout, nothing else on stdout. Streams are parameters
// (defaulting to the process's) so tests can drive it with in-memory streams.
import type { Readable, Writable } from 'node:stream';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { HostStdioTransport } from './host-stdio.js';

/**
 * Connects `server` over stdio; resolves when the host closes stdin or the transport closes.
 * `lane` (the proxy's lane) may take messages before the server sees them.
 */
export async function serveStdio(
  server: Server,
  opts: { stdin?: Readable; stdout?: Writable; lane?: (t: HostStdioTransport) => HostStdioTransport['lane'] } = {},
): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const transport = new HostStdioTransport(stdin, opts.stdout ?? process.stdout);
  transport.lane = opts.lane?.(transport);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    stdin.once('end', () => resolve());
    stdin.once('close', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => {});
}
