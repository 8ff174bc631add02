// The stdio front's transport: MCP messages on stdin/stdout and nothing else on stdout. Like the
// SDK's StdioServerTransport (same framing, same message validation), plus two seams the proxy's
// lane needs: `lane` sees each message line (bytes) first and may take it, and `sendRaw` writes an
// already-serialized line, so a large downstream result is never decoded and re-encoded.
import type { Readable, Writable } from 'node:stream';
import { deserializeMessage } from '@modelcontextprotocol/server';
import type { Transport, JSONRPCMessage } from '@modelcontextprotocol/server';
import { encodeForHost } from './encode.js';
import { LineSplitter } from './lines.js';
import { BatchedWriter } from './batch.js';

const NEWLINE = Buffer.from('\n');

export class HostStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Sees each message line, as bytes, before it is parsed; returns true when the lane has taken it. */
  lane?: (line: Buffer) => boolean;
  private started = false;
  private closed = false;
  private readonly lines = new LineSplitter(
    (line) => this.deliver(line),
    undefined,
    (n) => this.onerror?.(new Error(`dropped a message line over ${n} bytes`)),
  );
  private readonly onData = (chunk: Buffer): void => this.lines.push(chunk);
  private readonly onError = (e: Error): void => this.onerror?.(e);
  private readonly onEnd = (): void => void this.close();
  private readonly out: BatchedWriter;

  constructor(
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
  ) {
    this.out = new BatchedWriter(stdout);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('HostStdioTransport already started');
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onError);
    this.stdin.on('end', this.onEnd);
  }

  private deliver(line: Buffer): void {
    if (this.lane?.(line)) return;
    let msg: JSONRPCMessage;
    try {
      msg = deserializeMessage(line.toString('utf8'));
    } catch (e) {
      this.onerror?.(e as Error);
      return;
    }
    this.onmessage?.(msg);
  }

  send(message: JSONRPCMessage): Promise<void> {
    const line = encodeForHost(message, (why) => this.onerror?.(new Error(why)));
    return line === undefined ? Promise.resolve() : this.write(`${line}\n`);
  }

  /**
   * Writes one serialized message (without its newline) as is, or its pieces in order. Undefined
   * when it was written at once; a promise when stdout asks to wait for 'drain' (the lane answers
   * thousands of calls a second, and a promise per answer was pure garbage).
   */
  sendRaw(line: Buffer | readonly Buffer[]): Promise<void> | undefined {
    if (this.closed) return undefined;
    return this.out.writeAll(Buffer.isBuffer(line) ? [line, NEWLINE] : [...line, NEWLINE]) ? undefined : this.drained();
  }

  private write(data: string | Buffer | readonly Buffer[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.out.writeAll(data) ? Promise.resolve() : this.drained();
  }

  private drained(): Promise<void> {
    return new Promise((r) => this.stdout.once('drain', () => r()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onError);
    this.stdin.off('end', this.onEnd);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.onclose?.();
  }
}
