// The two channels a forwarded request can fail on, decided in one place:
// - the downstream itself answered with a JSON-RPC error (unknown tool, bad arguments): the host
//   gets that same error, code, message and data, as if it had asked the server directly;
// - the downstream could not answer (crashed, timed out, unavailable): for a tool call that is an
//   `isError` result a person can act on, with the tail of the server's stderr.
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

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

/** Rebuilds a downstream's protocol error without the SDK's "MCP error N: " prefix, so it is not doubled. */
export function passThroughError(e: unknown): Error {
  if (e instanceof McpError) {
    const prefix = `MCP error ${e.code}: `;
    const err = new McpError(e.code, '', e.data);
    err.message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    return err;
  }
  if (e instanceof DownstreamFailure) return new McpError(ErrorCode.InternalError, withTail(e), { server_error: e.kind });
  return new McpError(ErrorCode.InternalError, `proxy: ${(e as Error)?.message ?? String(e)}`);
}

export function failureResult(e: DownstreamFailure): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: withTail(e) }] };
}

function withTail(e: DownstreamFailure): string {
  return e.stderrTail ? `${e.message}\n--- last lines of its stderr ---\n${e.stderrTail}` : e.message;
}
