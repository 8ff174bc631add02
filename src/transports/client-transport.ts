// Opens the client side of a connection to one downstream server from its launch spec: a child
// process over stdio (our ChildStdioTransport, stdout through a line filter) or Streamable HTTP.
import type { Readable } from 'node:stream';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { LaunchSpec } from '../proxy/launch.js';
import { ChildStdioTransport } from './child-stdio.js';

export interface TransportHooks {
  lines: (stdout: Readable) => Readable;
  onStderr: (text: string) => void;
  onBadLine: (line: string, err: unknown) => void;
  graceMs?: number;
}

export interface Opened {
  transport: Transport;
  /** Why the transport closed, when it knows (a child's exit code or signal). */
  exitReason(): string | undefined;
}

export function openTransport(spec: LaunchSpec, hooks: TransportHooks): Opened {
  if (spec.kind === 'http') {
    const transport = new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers: spec.headers } });
    return { transport, exitReason: () => undefined };
  }
  const transport = new ChildStdioTransport(
    { command: spec.command, args: spec.args, env: spec.env, cwd: spec.cwd },
    { lines: hooks.lines, onStderr: hooks.onStderr, onBadLine: hooks.onBadLine, graceMs: hooks.graceMs },
  );
  return {
    transport,
    exitReason: () => {
      const x = transport.exit;
      if (!x) return undefined;
      return x.signal ? `killed by ${x.signal}` : `exited with code ${x.code}`;
    },
  };
}
