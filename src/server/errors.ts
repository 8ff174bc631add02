// The two channels a tool call can fail on, and the one place every failure is turned into one
// of them (README "The tools"):
// - an `isError` result a person can act on: our own tools' refusals (ToolFailure), and a
//   downstream that could not answer (crashed, timed out, unavailable: DownstreamFailure, with the
//   tail of its stderr);
// - a protocol error (McpError): bad arguments, an unknown tool, or a downstream's own JSON-RPC
//   error, passed on with its code, message and data as if the host had asked the server directly.
// Anything else becomes an internal error here, keeping the original as its `cause`.
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';

/** A failure the agent can act on: becomes an `isError` result, not a protocol error. */
export class ToolFailure extends Error {
  override name = 'ToolFailure';
}

/** A downstream problem that becomes an `isError` result (not a protocol error). */
export class DownstreamFailure extends Error {
  override name = 'DownstreamFailure';
  constructor(
    readonly kind: 'crashed' | 'unavailable' | 'timeout',
    message: string,
    readonly stderrTail: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The call's timer ran out (reset by progress). */
export function timeoutFailure(server: string, method: string, ms: number): DownstreamFailure {
  return new DownstreamFailure('timeout', `server "${server}" did not answer ${method} within ${ms} ms (timeoutMs; progress resets it)`, '');
}

/** The server went away, or answered with something that is not an answer, while the call ran. */
export function goneFailure(server: string, why: string, method: string, stderrTail: string): DownstreamFailure {
  return new DownstreamFailure('crashed', `server "${server}" ${why} during ${method}`, stderrTail);
}

/** What a person reads about a failure: its message, and a downstream's last stderr lines. */
function describe(e: ToolFailure | DownstreamFailure): string {
  return e instanceof DownstreamFailure && e.stderrTail ? `${e.message}\n--- last lines of its stderr ---\n${e.stderrTail}` : e.message;
}

/** The isError result of a failure the agent can act on. */
export function failureResult(e: ToolFailure | DownstreamFailure): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: describe(e) }] };
}

/**
 * A protocol error whose message is just the message: the SDK sends `error.message` on the wire
 * and the receiving SDK prefixes "MCP error N: " itself, so a message that already carries the
 * prefix reaches people doubled.
 */
export function protocolError(code: number, message: string, data?: unknown): ProtocolError {
  const err = new ProtocolError(code, message, data);
  err.message = message;
  return err;
}

/**
 * A protocol error for the host. A downstream's McpError keeps its code and data, without the
 * SDK's "MCP error N: " prefix (so it is not doubled when the SDK adds its own); a failure that
 * would be a result in a tool call is an internal error elsewhere; anything else is an internal
 * error naming the proxy.
 */
export function toProtocolError(e: unknown): ProtocolError {
  if (e instanceof ProtocolError) {
    const prefix = `MCP error ${e.code}: `;
    const err = protocolError(e.code, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message, e.data);
    err.cause = e;
    return err;
  }
  const err =
    e instanceof DownstreamFailure || e instanceof ToolFailure
      ? protocolError(ProtocolErrorCode.InternalError, describe(e), e instanceof DownstreamFailure ? { server_error: e.kind } : undefined)
      : protocolError(ProtocolErrorCode.InternalError, `proxy: ${(e as Error)?.message ?? String(e)}`);
  err.cause = e;
  return err;
}

/**
 * What a tool call answers for a failure: protocol errors go up as they are; failures the agent
 * can act on become an isError result; anything unexpected is logged with its stack and becomes an
 * isError result naming the tool.
 */
export function toolError(tool: string, e: unknown, log: Logger): CallToolResult {
  if (e instanceof ProtocolError) throw e;
  if (e instanceof ToolFailure || e instanceof DownstreamFailure) return failureResult(e);
  log.error(`${tool}: ${(e as Error)?.stack ?? String(e)}`);
  return failureResult(new ToolFailure(`${tool} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
}
