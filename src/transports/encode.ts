// Encoding a message for the host, in one place for every front. A message that JSON cannot
// encode (a result nested thousands of levels deep overflows the stack of JSON.stringify, a
// BigInt, a cycle) must not leave its request unanswered: a response becomes an error response
// with the same id, and the reason is told to `onFailure` (the front logs it).
import type { JSONRPCMessage } from '@modelcontextprotocol/server';

export type EncodeFailure = (message: string) => void;

/** The message's JSON line (without its newline), or a stand-in error response; undefined when nothing can be sent. */
export function encodeForHost(msg: JSONRPCMessage, onFailure?: EncodeFailure): string | undefined {
  try {
    return JSON.stringify(msg);
  } catch (e) {
    const why = `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
    const id = (msg as { id?: unknown }).id;
    const isResponse = id !== undefined && ('result' in msg || 'error' in msg);
    onFailure?.(`${isResponse ? `the answer to request ${JSON.stringify(id)}` : 'a message'} could not be encoded as JSON (${why})${isResponse ? '; an error was sent instead' : '; dropped'}`);
    if (!isResponse) return undefined;
    return JSON.stringify({
      jsonrpc: '2.0',
      id,
      error: { code: -32603, message: `proxy: the answer could not be encoded as JSON (${why}); it may be nested too deeply` },
    });
  }
}
