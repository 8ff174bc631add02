// The stdio front: MCP messages on stdin/stdout, nothing else on stdout. Streams are parameters
// (defaulting to the process's) so tests can drive it with in-memory streams.
import type { Readable, Writable } from 'node:stream';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

/** Connects `server` over stdio; resolves when the host closes stdin or the transport closes. */
export async function serveStdio(server: Server, stdin: Readable = process.stdin, stdout: Writable = process.stdout): Promise<void> {
  const transport = new StdioServerTransport(stdin, stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    stdin.once('end', () => resolve());
    stdin.once('close', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => {});
}
