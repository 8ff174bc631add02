// Tasks through the built CLI (README "Tasks"): the proxy in front of server-everything and the
// task fixture, hosts at both revisions over stdio and Streamable HTTP. A 2025-11-25 host uses
// `params.task` and tasks/get|result|list|cancel; a 2026-07-28 host declares the Tasks extension
// and polls tasks/get, which carries the result once the task completed. The SDK 2.x client
// refuses task results at 2026-07-28, so that host is raw JSON-RPC here.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { ResultSchema } from '@modelcontextprotocol/core';
import { CLI, onCleanup, tempDir } from '../helpers.js';
import { EVERYTHING } from '../proxy/harness.js';
import { startHttpCli } from './http-session.js';
import { envelope, rawSession } from './raw-session.js';

const TASK_FIXTURE = fileURLToPath(new URL('../fixtures/task-server.mjs', import.meta.url));
const TASKS = 'io.modelcontextprotocol/tasks';
const built = fs.existsSync(CLI);

async function base() {
  const dir = await tempDir('aw-tasks-e2e-');
  const out = path.join(dir, 'out');
  const config = path.join(dir, 'mcp.config.json');
  fs.writeFileSync(config, JSON.stringify({
    workspace: { root: path.join(dir, 'ws') },
    mcpServers: {
      ev: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
      tr: { command: process.execPath, args: [TASK_FIXTURE], env: { FIXTURE_OUT: out } },
    },
  }));
  return { dir, out, config, root: path.join(dir, 'ws') };
}

/** A poll's result; an error answer fails the test with the error itself. */
const answered = (a: { result?: any; error?: unknown }) => {
  expect(a.error).toBeUndefined();
  return a.result;
};
const terminal = (s: string) => ['completed', 'failed', 'cancelled'].includes(s);

describe.skipIf(!built)('tasks through the built proxy', () => {
  it.each(['stdio', 'http'] as const)('a 2025-11-25 host over %s: a training task routed once, a crash ends its task failed', async (front) => {
    const b = await base();
    const c = new Client({ name: 'tasks-e2e', version: '1' }, { versionNegotiation: { mode: 'legacy' } });
    onCleanup(() => c.close());
    if (front === 'stdio') await c.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', b.config], cwd: b.dir, stderr: 'pipe' }));
    else await c.connect(new StreamableHTTPClientTransport(new URL((await startHttpCli(b.config, b.dir)).url)));
    const ask = (method: string, params: Record<string, unknown>) => c.request({ method, params } as never, ResultSchema, { timeout: 60_000 }) as Promise<any>;
    const poll = async (taskId: string) => {
      for (let i = 0; i < 400; i++) {
        const t = await ask('tasks/get', { taskId });
        if (terminal(t.status)) return t;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('task did not end');
    };

    const id = (await ask('tools/call', { name: 'train', arguments: { csv_path: '/data/tips.csv', steps: 2, step_ms: 50, name: 'm.bin' }, task: { ttl: 30_000 } })).task.taskId;
    expect(await poll(id)).toMatchObject({ taskId: id, status: 'completed', ttl: 30_000 });
    const res = await ask('tasks/result', { taskId: id });
    const dst = res._meta['artifact-workspace/routed'].entries[0].dst as string;
    expect(dst).toMatch(/[/\\]tips[/\\]\d{8}_\d{6}[/\\]models[/\\]m\.bin$/);
    expect(fs.readFileSync(dst, 'utf8')).toBe('weights after 2 steps\n');
    await ask('tasks/result', { taskId: id });
    expect(fs.readdirSync(path.join(path.dirname(path.dirname(dst)), 'manifests'))).toHaveLength(1);

    // server-everything's research task, through the same front.
    const research = (await ask('tools/call', { name: 'simulate-research-query', arguments: { topic: 'tides' }, task: {} })).task.taskId;
    expect((await poll(research)).status).toBe('completed');
    expect((await ask('tasks/result', { taskId: research })).content[0].text).toMatch(/# Research Report: tides/);

    const doomed = (await ask('tools/call', { name: 'train', arguments: { steps: 4, step_ms: 50, crash_at: 2 }, task: {} })).task.taskId;
    const failed = await poll(doomed);
    expect(failed.status).toBe('failed');
    expect(failed.statusMessage).toMatch(/training crashed at step 2/);
    expect((await ask('tasks/list', {})).tasks.map((t: any) => t.taskId)).toEqual([id, research, doomed]);
  });

  it.each(['stdio', 'http'] as const)('a 2026-07-28 host over %s: a required task through the Tasks extension, polled to its inline result', async (front) => {
    const b = await base();
    let ask: (id: number, method: string, params: Record<string, unknown>, caps?: Record<string, unknown>) => Promise<any>;
    const withTasks = { extensions: { [TASKS]: {} } };
    if (front === 'stdio') {
      const s = await rawSession([CLI, 'serve', '--config', b.config], b.dir, { modern: true });
      ask = async (id, method, params, caps = withTasks) => {
        s.send({ jsonrpc: '2.0', id, method, params: { ...params, _meta: envelope(caps) } });
        return s.answer(id, 30_000);
      };
    } else {
      const { url } = await startHttpCli(b.config, b.dir);
      ask = async (id, method, params, caps = withTasks) => {
        const name = method === 'tools/call' ? String(params.name) : String(params.taskId ?? '');
        const r = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name && { 'mcp-name': name }) },
          body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: envelope(caps) } }),
        });
        const text = await r.text();
        const data = text.startsWith('{') ? text : text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).pop()!;
        return JSON.parse(data);
      };
    }
    // Without the extension, a tool that runs only as a task is refused with the capability it needs.
    // (id 1 is the raw session's own server/discover.)
    const refused = await ask(11, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'tides' } }, {});
    expect(refused.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: { [TASKS]: {} } } } });

    const created = await ask(12, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'tides' } });
    expect(created.result).toMatchObject({ resultType: 'task', taskId: expect.any(String), status: 'working', ttlMs: expect.any(Number), pollIntervalMs: expect.any(Number), createdAt: expect.any(String) });
    const taskId = created.result.taskId;
    let t: any;
    for (let i = 13; i < 400; i++) {
      t = answered(await ask(i, 'tasks/get', { taskId }));
      if (terminal(t.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(t).toMatchObject({ resultType: 'complete', taskId, status: 'completed' });
    expect(t.result.content[0].text).toMatch(/# Research Report: tides/);
    // Cancelling a task that ended is acknowledged (the extension: a request, not a promise).
    expect((await ask(500, 'tasks/cancel', { taskId })).result).toMatchObject({ resultType: 'complete' });
    expect((await ask(501, 'tasks/get', { taskId: 'not-a-task' })).error).toMatchObject({ code: -32602 });

    // The fixture's training, only as a task: its model routed when the task's result is first
    // seen, in tasks/get; a crash is a failed task with the server's stderr in its error.
    const train = (await ask(700, 'tools/call', { name: 'train_classifier', arguments: { csv_path: '/data/tips.csv', steps: 2, step_ms: 50, name: 'clf.bin' } })).result;
    expect(train).toMatchObject({ resultType: 'task', status: 'working' });
    let tt: any;
    for (let i = 701; i < 900; i++) {
      tt = answered(await ask(i, 'tasks/get', { taskId: train.taskId }));
      if (terminal(tt.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(tt.status).toBe('completed');
    const routed = tt.result._meta['artifact-workspace/routed'].entries;
    expect(routed).toEqual([expect.objectContaining({ tool: 'train_classifier', dst: expect.stringMatching(/[/\\]tips[/\\][^/\\]+[/\\]models[/\\]clf\.bin$/) })]);
    expect(fs.readFileSync(routed[0].dst, 'utf8')).toBe('weights after 2 steps\n');
    const again = (await ask(900, 'tasks/get', { taskId: train.taskId })).result;
    expect(again.result).toEqual(tt.result);
    const doomed = (await ask(901, 'tools/call', { name: 'train_classifier', arguments: { steps: 4, step_ms: 50, crash_at: 2 } })).result;
    let dt: any;
    for (let i = 902; i < 1100; i++) {
      dt = answered(await ask(i, 'tasks/get', { taskId: doomed.taskId }));
      if (terminal(dt.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(dt).toMatchObject({ status: 'failed', error: { code: -32603, message: expect.stringMatching(/training crashed at step 2/) } });

    // An optional task tool is an ordinary call for it: the result, routed.
    const plain = await ask(600, 'tools/call', { name: 'train', arguments: { steps: 1, step_ms: 10, name: 'p.bin' } });
    expect(plain.result.resultType).toBe('complete');
    expect(plain.result._meta['artifact-workspace/routed'].entries).toHaveLength(1);
  });
});
