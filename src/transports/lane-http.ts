// The HTTP front's side of the proxy's lane: a `tools/call` the lane takes is answered
// here, straight onto this POST's response, without the SDK's request conversion. The answer is
// `application/json` when the call needs nothing else, and an SSE stream as soon as it does
// (progress, or the server's own request to the host): both are what Streamable HTTP allows for a
// POSTed request. Messages the SDK server sends related to such a call are tapped onto the same
// stream, so they travel with the call as they would on the ordinary path.
import type http from 'node:http';
import type { Transport, TransportSendOptions, JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import { encodeForHost, type EncodeFailure } from './encode.js';

/**
 * Where one lane call's messages go (the stdio front writes them out; the HTTP front, on the
 * call's response): `send` for progress or the server's own request to the host, `answerRaw` for
 * the answer as the server wrote it (id already swapped), `answer` for one we made.
 */
export interface CallSink {
  send(msg: JSONRPCMessage): Promise<void>;
  /** The answer's line, or its pieces in order (never with a newline): undefined when written at once. */
  answerRaw(line: Buffer | readonly Buffer[]): Promise<void> | undefined;
  answer(msg: JSONRPCMessage): Promise<void>;
}

/** What the proxy's lane offers a front (src/proxy/lane.ts). */
export interface LaneCalls {
  /** The host's request id when the lane took the call; `name`: the tool name the call must have. */
  callRaw(line: Buffer, sink: CallSink, expect?: { name: string }): RequestId | undefined;
  cancelled(p: { requestId?: RequestId; reason?: string } | undefined): boolean;
  cancelledRaw(line: Buffer): boolean;
  sinkOf(requestId: RequestId | undefined): CallSink | undefined;
}

/**
 * Whether a 2026-07-28 request's HTTP headers are ones the lane may answer without the SDK: the
 * protocol version, and the SEP-2243 mirrors of the method and the tool's name, exactly as the
 * body has them; any other `mcp-*` header (a tool's own mirrored parameters) is the SDK's to
 * validate. The body's envelope is checked by the lane itself.
 */
export function plainModernHeaders(req: http.IncomingMessage): { name: string } | undefined {
  const h = req.headers;
  const name = h['mcp-name'];
  if (h['mcp-protocol-version'] !== '2026-07-28' || h['mcp-method'] !== 'tools/call' || typeof name !== 'string') return undefined;
  return Object.keys(h).every((k) => !k.startsWith('mcp-') || k === 'mcp-protocol-version' || k === 'mcp-method' || k === 'mcp-name') ? { name } : undefined;
}

/** Handles the POSTed body (bytes) if the lane takes it; false leaves it to the SDK transport. No session id at 2026-07-28. */
export function takeLaneCall(
  lane: LaneCalls,
  body: Buffer,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  sessionId: string | undefined,
  onFailure?: EncodeFailure,
  expect?: { name: string },
): boolean {
  if (lane.cancelledRaw(body)) {
    res.writeHead(202).end();
    return true;
  }
  const requestId = lane.callRaw(body, httpSink(res, sessionId, String(req.headers.accept ?? ''), onFailure), expect);
  if (requestId === undefined) return false;
  // A client that hangs up mid-call has cancelled it.
  res.once('close', () => !res.writableEnded && lane.cancelled({ requestId, reason: 'the HTTP client disconnected' }));
  return true;
}

function httpSink(res: http.ServerResponse, sessionId: string | undefined, accept: string, onFailure?: EncodeFailure): CallSink {
  let sse = !accept.includes('application/json');
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    const session = sessionId === undefined ? {} : { 'mcp-session-id': sessionId };
    res.writeHead(200, sse ? { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...session } : { 'content-type': 'application/json', ...session });
  };
  const event = (data: string | Buffer): void => {
    res.write('event: message\ndata: ');
    res.write(data);
    res.write('\n\n');
  };
  return {
    async send(msg) {
      if (!started) sse = true;
      start();
      const line = encodeForHost(msg, onFailure);
      if (sse && !res.writableEnded && line !== undefined) event(line);
    },
    async answerRaw(raw) {
      const line = Buffer.isBuffer(raw) ? raw : Buffer.concat(raw);
      start();
      if (res.writableEnded) return;
      if (sse) {
        event(line);
        res.end();
      } else res.end(line);
    },
    async answer(msg) {
      await this.answerRaw(Buffer.from(encodeForHost(msg, onFailure) ?? ''));
    },
  };
}

/** Routes the SDK server's messages related to a lane call onto that call's response. */
export function tapLaneRelated(transport: Transport, lane: LaneCalls): void {
  const send = transport.send.bind(transport);
  transport.send = (msg: JSONRPCMessage, opts?: TransportSendOptions) => {
    const sink = lane.sinkOf(opts?.relatedRequestId);
    return sink ? sink.send(msg) : send(msg, opts);
  };
}

/**
 * Answers that JSON cannot encode become error answers before the SDK transport sees them: it
 * reports such a failure to its onerror and then closes the request's stream as if answered.
 */
export function guardEncoding(transport: Transport, onFailure: EncodeFailure): void {
  const send = transport.send.bind(transport);
  transport.send = (msg: JSONRPCMessage, opts?: TransportSendOptions) => {
    if (!('id' in msg) || !('result' in msg || 'error' in msg)) return send(msg, opts);
    try {
      JSON.stringify(msg);
      return send(msg, opts);
    } catch {
      return send(JSON.parse(encodeForHost(msg, onFailure)!) as JSONRPCMessage, opts);
    }
  };
}
