// The stdio front: MCP messages on stdin/stdout, nothing else on stdout. Streams are parameters
// (defaulting to the process's) so tests can drive it with in-memory streams.
//
// Both protocol revisions are served, as the SDK's stdio entry decides them: the first message
// pins the connection to 2025-11-25 (an `initialize`) or to 2026-07-28 (a request carrying the
// per-request `_meta` envelope, `server/discover` among them). `create` is asked for the server of
// that revision; a client that probes with `server/discover` and then falls back to `initialize`
// gets the probe's server closed and a 2025 one made.
import type { Readable, Writable } from 'node:stream';
import type { Server } from '@modelcontextprotocol/server';
import { serveStdio as serveEras } from '@modelcontextprotocol/server/stdio';
import { HostStdioTransport } from './host-stdio.js';
import type { Era } from './types.js';

/** Serves over stdio until the host closes stdin or the transport closes. */
export async function serveStdio(
  create: (era: Era, transport: HostStdioTransport) => Server | Promise<Server>,
  opts: { stdin?: Readable; stdout?: Writable; onerror?: (e: Error) => void } = {},
): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const transport = new HostStdioTransport(stdin, opts.stdout ?? process.stdout);
  const handle = serveEras(({ era }) => create(era, transport), { transport, legacy: 'serve', onerror: opts.onerror });
  const onclose = transport.onclose;
  await new Promise<void>((resolve) => {
    transport.onclose = () => {
      onclose?.();
      resolve();
    };
    stdin.once('end', () => resolve());
    stdin.once('close', () => resolve());
  });
  await handle.close().catch(() => {});
}
