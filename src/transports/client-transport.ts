// Opens the client side of a connection to one downstream server from its launch spec: a child
// process over stdio (our ChildStdioTransport, stdout through a line filter) or Streamable HTTP,
// either one behind ResponsesLast (below).
import { StreamableHTTPClientTransport, isJSONRPCErrorResponse, isJSONRPCResultResponse } from '@modelcontextprotocol/client';
import type { Transport, TransportSendOptions, JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/client';
import type { LaunchSpec } from './types.js';
import { ChildStdioTransport, type ChildStdioOptions } from './child-stdio.js';

export interface TransportHooks {
  lines: ChildStdioOptions['lines'];
  onStderr: (text: string) => void;
  onBadLine: (line: string, err: unknown) => void;
  graceMs?: number;
  /** A running child for a stdio spec, started early (src/proxy/early-start.ts). */
  adopt?: ChildStdioOptions['adopt'];
}

export interface Opened {
  transport: Transport;
  /** The child's transport, for the pass-through lane (stdio servers only). */
  child?: ChildStdioTransport;
  /** Why the transport closed, when it knows (a child's exit code or signal). */
  exitReason(): string | undefined;
}

export function openTransport(spec: LaunchSpec, hooks: TransportHooks): Opened {
  if (spec.kind === 'http') {
    const transport = new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers: spec.headers } });
    return { transport: new ResponsesLast(transport), exitReason: () => undefined };
  }
  const transport = new ChildStdioTransport(
    { command: spec.command, args: spec.args, env: spec.env, cwd: spec.cwd },
    { lines: hooks.lines, onStderr: hooks.onStderr, onBadLine: hooks.onBadLine, graceMs: hooks.graceMs, adopt: hooks.adopt },
  );
  return {
    transport: new ResponsesLast(transport),
    child: transport,
    exitReason: () => {
      const x = transport.exit;
      if (!x) return undefined;
      return x.signal ? `killed by ${x.signal}` : `exited with code ${x.code}`;
    },
  };
}

type Item = { message: JSONRPCMessage; extra?: MessageExtraInfo } | 'close';

/**
 * A tap that hands each response (and the close) to the SDK client one macrotask late. Why: the
 * SDK's Protocol handles a response at once but a notification a microtask later, and it forgets
 * a request's progress handler when the response lands; a server that writes its last progress
 * notification and its result back to back (one stdout chunk) would lose that notification.
 * Delaying only responses, in arrival order, lets everything sent before them be handled first.
 * Messages behind a waiting response wait too, so nothing overtakes anything.
 */
export class ResponsesLast implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  private readonly queue: Item[] = [];
  private scheduled = false;

  constructor(readonly inner: Transport) {}

  // Client.connect reads these: a session id means "already initialized"; HTTP wants the version.
  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  start(): Promise<void> {
    this.inner.onmessage = (message, extra) => this.arrive({ message, extra });
    this.inner.onclose = () => this.arrive('close');
    this.inner.onerror = (e) => this.onerror?.(e);
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private arrive(item: Item): void {
    if (this.queue.length || late(item)) {
      this.queue.push(item);
      this.schedule();
    } else {
      this.deliver(item);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // The head is a response or the close; then everything up to the next one, which gets its
      // own turn so the notifications just delivered are handled before it.
      this.deliver(this.queue.shift()!);
      while (this.queue.length && !late(this.queue[0]!)) this.deliver(this.queue.shift()!);
      if (this.queue.length) this.schedule();
    });
  }

  private deliver(item: Item): void {
    if (item === 'close') this.onclose?.();
    else this.onmessage?.(item.message, item.extra);
  }
}

/** What waits for its own turn: a response, or the close (which fails every pending request). */
function late(item: Item): boolean {
  return item === 'close' || isJSONRPCResultResponse(item.message) || isJSONRPCErrorResponse(item.message);
}
