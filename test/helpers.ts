// Shared test helpers: a cleanup stack unwound in reverse after each test, temp folders, and an
// MCP client connected to our app server over an in-memory transport.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { fileURLToPath } from 'node:url';
import { resolveSettings, type Flags } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { createAppServer, type ToolSource } from '../src/server/app.js';
import { createContext, type AppContext } from '../src/server/context.js';
import { sessionServer } from '../src/serve.js';
import type { TimerHandle, Timers } from '../src/time.js';
import { pidAlive } from '../src/storage/local-sweep.js';

/** The built CLI (`npm run build` first; `npm test` does it). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const stack: (() => unknown)[] = [];
afterEach(async () => {
  while (stack.length) await stack.pop()!();
});

/**
 * Ends a proxy we started as a child the way a host does: SIGTERM, on which it stops its own
 * servers, then SIGKILL if it is still there after 10 s. A SIGKILLed proxy cannot stop them, and
 * a server that does not exit when its stdin closes (server-everything) outlived the tests.
 */
export async function stopProcess(child: import('node:child_process').ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

/** Registers cleanup before the work it undoes, so a failing assertion still cleans up. */
export function onCleanup(fn: () => unknown): void {
  stack.push(fn);
}

export async function tempDir(prefix = 'aw-test-'): Promise<string> {
  const d = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  onCleanup(() => fs.rm(d, { recursive: true, force: true }));
  return d;
}

export interface Harness {
  client: Client;
  ctx: AppContext;
  root: string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
}

/** Our server (standalone unless sources are given) and a connected client, in one process. */
export async function startInMemory(opts: { flags?: Flags; env?: NodeJS.ProcessEnv; sources?: ToolSource[]; fileText?: string } = {}): Promise<Harness> {
  const base = await tempDir('aw-srv-');
  const root = path.join(base, 'ws');
  const settings = resolveSettings({ env: opts.env ?? {}, flags: { root, ...opts.flags }, cwd: base, fileText: opts.fileText, filePath: opts.fileText ? path.join(base, 'mcp.config.json') : undefined });
  const ctx = await createContext(settings, silentLogger, { dataDir: path.join(base, 'data') });
  onCleanup(() => ctx.workspaces.store.close());
  const { server } = opts.sources ? createAppServer(ctx, { sources: opts.sources }) : sessionServer(ctx, undefined);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1.0.0' });
  onCleanup(() => client.close());
  onCleanup(() => server.close());
  await server.connect(a);
  await client.connect(b);
  return {
    client,
    ctx,
    root: ctx.workspaces.root,
    call: (name, args = {}) => client.request({ method: 'tools/call', params: { name, arguments: args } }) as Promise<CallToolResult>,
  };
}

/** The structuredContent of a successful own-tool result, checked against its text twin. */
export function sc<T = any>(res: CallToolResult): T {
  if (res.isError) throw new Error(`tool returned isError: ${JSON.stringify(res.content)}`);
  const text = res.content.find((b) => b.type === 'text');
  if (!text || text.type !== 'text') throw new Error('no text block');
  const parsed = JSON.parse(text.text);
  if (JSON.stringify(parsed) !== JSON.stringify(res.structuredContent)) throw new Error('text and structuredContent differ');
  return res.structuredContent as T;
}

/** Every path under dir (symlinks not followed) with kind and size: for "nothing else changed". */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const n of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, n.name);
      const st = await fs.lstat(p);
      out.set(path.relative(dir, p), `${n.isSymbolicLink() ? 'l' : n.isDirectory() ? 'd' : 'f'}:${n.isFile() ? st.size : ''}`);
      if (n.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}

export interface CliServer {
  client: Client;
  pid: number;
  stderr(): string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/** `node dist/cli.js serve` over stdio with a connected client (build first: `npm run build`). */
export async function startCli(env: Record<string, string>, cwd: string, args: string[] = ['serve']): Promise<CliServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, ...args],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, ...env },
    cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr += String(d)));
  const client = new Client({ name: 'cli-test', version: '1.0.0' });
  onCleanup(() => client.close());
  await client.connect(transport);
  const pid = transport.pid;
  if (!pid) throw new Error('no pid for the server process');
  onCleanup(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const exited = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (!alive(pid)) {
        clearInterval(check);
        resolve();
      }
    }, 10);
    check.unref();
  });
  return {
    client,
    pid,
    stderr: () => stderr,
    exited,
    call: (name, a = {}) => client.request({ method: 'tools/call', params: { name, arguments: a } }, { timeout: 120_000 }) as Promise<CallToolResult>,
  };
}

/** Whether a process is running (the temp sweep's own probe). */
export const alive = pidAlive;

/**
 * Timers a test drives by hand: nothing fires until `advance` moves the clock past it. Handed to
 * the code under test where it takes `timers`, so a timeout test waits for nothing.
 */
export class ManualTimers implements Timers {
  private t = 1_000_000;
  private seq = 0;
  private readonly due = new Map<number, { at: number; fn: () => void; every?: number }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): { id: number } {
    const id = ++this.seq;
    this.due.set(id, { at: this.t + ms, fn });
    return { id };
  }
  clearTimeout(h: TimerHandle | undefined): void {
    if (h && typeof h === 'object' && 'id' in h) this.due.delete((h as { id: number }).id);
  }
  setInterval(fn: () => void, ms: number): { id: number } {
    const id = ++this.seq;
    this.due.set(id, { at: this.t + ms, fn, every: ms });
    return { id };
  }
  clearInterval(h: TimerHandle | undefined): void {
    this.clearTimeout(h);
  }
  /** How many timers are waiting. */
  get pending(): number {
    return this.due.size;
  }
  /** Moves the clock by `ms`, firing what falls due, in order. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const next = [...this.due.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (!next || next[1].at > until) break;
      const [id, d] = next;
      this.t = d.at;
      if (d.every) d.at += d.every;
      else this.due.delete(id);
      d.fn();
    }
    this.t = until;
  }
}
