// A stdio client transport for a downstream server we start ourselves. Why not the SDK's
// StdioClientTransport: its child gets a curated environment (we must pass the proxy's whole
// environment plus the entry's env), and its stdout cannot be wrapped from outside (junk lines
// must be dropped and reported, and a message can be longer than its 10 MB line buffer). The
// message framing is the SDK's own (`serializeMessage` / `deserializeMessage`), not a copy.
// Lines stay bytes until parsed, and `lane` may take a line before it is parsed at all: the
// proxy's lane forwards such lines without decoding them (src/proxy/lane-wire.ts).
// Stopping is staged: close stdin, then SIGTERM, then SIGKILL, `graceMs` apart. On POSIX the child
// leads a process group of its own and the signals go to the whole group: a server started
// through a launcher (`npx`, `uvx`, a shell script) is a grandchild, and the launcher exiting first
// must not leave it running.
import type { spawn as nodeSpawn, ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { deserializeMessage, serializeMessage } from '@modelcontextprotocol/server';
import type { Transport, JSONRPCMessage } from '@modelcontextprotocol/server';
import { BatchedWriter } from './batch.js';
import { GROUPS, signalChild, spawnChild, type ChildSpec } from './spawn-child.js';

export type { ChildSpec };

/** A child started before its transport (src/proxy/early-start.ts), still running. */
export interface AdoptedChild {
  child: ChildProcess;
  /** Settles as the child's own 'spawn' or 'error' did (those may be past). */
  spawned: Promise<void>;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildStdioOptions {
  /** Splits the child's stdout into message lines (bytes), dropping junk: src/proxy/junk-filter.ts. */
  lines: (onLine: (line: Buffer) => void) => { push(chunk: Buffer): void; end(): void };
  /** Every chunk of the child's stderr, decoded. */
  onStderr?: (text: string) => void;
  /** A line that passed the filter but is not a JSON-RPC message. */
  onBadLine?: (line: string, err: unknown) => void;
  /** Pause between the shutdown steps, in ms (default 2000). */
  graceMs?: number;
  spawn?: typeof nodeSpawn;
  /** A running child for this spec, started early, to use instead of starting one. */
  adopt?: () => AdoptedChild | undefined;
}

export class ChildStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Set once the child has exited. */
  exit?: ChildExit;
  /** The child was started early and adopted (ChildStdioOptions.adopt), not started here. */
  adopted = false;
  /** Sees each message line before it is parsed; returns true when the lane has taken it. */
  lane?: (line: Buffer) => boolean;
  private child?: ChildProcess;
  private batch?: BatchedWriter;
  private closed?: Promise<void>;

  constructor(
    private readonly spec: ChildSpec,
    private readonly opts: ChildStdioOptions,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('ChildStdioTransport already started');
    const early = this.opts.adopt?.();
    const child = early?.child ?? spawnChild(this.spec, this.opts.spawn);
    this.child = child;
    this.adopted = early !== undefined;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (t: string) => this.opts.onStderr?.(t));
    child.stdin?.on('error', (e) => this.onerror?.(e));
    const lines = this.opts.lines((line) => {
      if (this.lane?.(line)) return;
      const text = line.toString('utf8');
      let msg: JSONRPCMessage;
      try {
        msg = deserializeMessage(text);
      } catch (e) {
        this.opts.onBadLine?.(text, e);
        return;
      }
      this.onmessage?.(msg);
    });
    const stdout = child.stdout as Readable;
    stdout.on('data', (chunk: Buffer) => lines.push(chunk));
    stdout.on('end', () => lines.end());
    stdout.on('error', (e) => this.onerror?.(e));
    // 'close' waits for the stdio pipes too (so the stderr tail is complete), but a grandchild
    // holding the pipes open must not delay the news of the exit: 1 s after 'exit' is enough.
    this.closed = new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        resolve();
        this.onclose?.();
      };
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        setTimeout(finish, 1000).unref();
      });
      child.once('close', finish);
      child.once('error', () => {
        if (child.pid === undefined) finish();
      });
    });
    if (early) {
      child.once('error', (e) => this.onerror?.(e));
      return early.spawned;
    }
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e) => {
        reject(e);
        this.onerror?.(e);
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.sendRaw(serializeMessage(message)) ?? Promise.resolve();
  }

  /**
   * Writes one already-serialized message line (with its newline), or its pieces in order.
   * Undefined when it was written at once (the lane's path: no promise per call); a promise when
   * the child's stdin asks to wait for 'drain', or a rejected one when the child is gone.
   */
  sendRaw(line: string | Buffer | readonly Buffer[]): Promise<void> | undefined {
    const stdin = this.child?.stdin;
    if (!stdin || this.exit || stdin.destroyed) return Promise.reject(new Error('Not connected'));
    this.batch ??= new BatchedWriter(stdin);
    return this.batch.writeAll(line) ? undefined : new Promise<void>((r) => stdin.once('drain', r));
  }

  /** SIGKILL to the child and everything it started, now. */
  killNow(): void {
    if (this.child && this.alive(this.child)) this.signal(this.child, 'SIGKILL');
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child || !this.closed) return;
    // Hosts give us about 2 s after closing our stdin before they signal us: the first step (the
    // server's own clean exit on a closed stdin) gets half a second of that at most.
    const grace = this.opts.graceMs ?? 2000;
    const waitGone = async (ms: number): Promise<void> => {
      // The child's exit, and then (for a group) its last member's: polled, there is no event.
      const until = Date.now() + ms;
      await Promise.race([this.closed, new Promise<void>((r) => setTimeout(r, ms).unref())]);
      while (this.alive(child) && Date.now() < until) await new Promise<void>((r) => setTimeout(r, 25).unref());
    };
    child.stdin?.end();
    await waitGone(Math.min(grace, 500));
    if (this.alive(child)) this.signal(child, 'SIGTERM');
    await waitGone(grace);
    if (this.alive(child)) this.signal(child, 'SIGKILL');
    await waitGone(grace);
  }

  /** Whether the child (on POSIX: anything left in its process group) is still running. */
  private alive(child: ChildProcess): boolean {
    if (GROUPS && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 0);
        return true;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    return !this.exit && child.exitCode === null;
  }

  private signal(child: ChildProcess, sig: NodeJS.Signals): void {
    signalChild(child, sig);
  }
}
