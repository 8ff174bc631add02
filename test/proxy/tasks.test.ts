// Tasks through the proxy (2025-11-25): real SDK task servers behind it (server-everything's
// simulate-research-query, and the task fixture's `train`, which writes a model file in the
// background), a real SDK client in front. Ids, the merged list, cancel, crash, and routing the
// result once into the run that was current when the task was made.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ResultSchema } from '@modelcontextprotocol/core';
import type { Client } from '@modelcontextprotocol/client';
import { tempDir } from '../helpers.js';
import { serverTaskState } from '../../src/proxy/tasks.js';
import { EVERYTHING, startDirect, startProxy, waitFor, type HostSetup } from './harness.js';

const TASK_FIXTURE = fileURLToPath(new URL('../fixtures/task-server.mjs', import.meta.url));
const ask = (c: Client, method: string, params: Record<string, unknown>) => c.request({ method, params } as never, ResultSchema, { timeout: 60_000 }) as Promise<any>;
const ROUTED = 'artifact-workspace/routed';
const RELATED = 'io.modelcontextprotocol/related-task';

async function poll(c: Client, taskId: string, done: (t: any) => boolean = (t) => ['completed', 'failed', 'cancelled'].includes(t.status), ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const t = await ask(c, 'tasks/get', { taskId });
    if (done(t) || Date.now() > end) return t;
    await new Promise((r) => setTimeout(r, Math.min(t.pollInterval ?? 100, 200)));
  }
}

async function setup(host?: HostSetup) {
  const out = await tempDir('aw-task-out-');
  const p = await startProxy({
    mcpServers: {
      ev: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
      tr: { command: process.execPath, args: [TASK_FIXTURE], env: { FIXTURE_OUT: out } },
    },
  } as never, { host });
  const statuses: any[] = [];
  p.client.setNotificationHandler('notifications/tasks/status', { params: z.looseObject({ taskId: z.string(), status: z.string() }) }, (s) => void statuses.push(s));
  return { ...p, out, statuses };
}

describe('tasks through the proxy', () => {
  it('lists task tools as their servers do, and says it takes tasks', async () => {
    const p = await setup();
    const tools = (await p.client.listTools()).tools;
    expect(tools.find((t) => t.name === 'simulate-research-query')?.execution).toEqual({ taskSupport: 'required' });
    expect(tools.find((t) => t.name === 'train')?.execution).toEqual({ taskSupport: 'optional' });
    expect(p.client.getServerCapabilities()?.tasks).toMatchObject({ list: {}, cancel: {}, requests: { tools: { call: {} } } });
  });

  it("server-everything's simulate-research-query: the same task and result as direct, under our id", async () => {
    const p = await setup();
    const direct = await startDirect({ command: process.execPath, args: [EVERYTHING, 'stdio'] });
    const run = async (c: Client) => {
      const created = await ask(c, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'tides' }, task: { ttl: 120_000 } });
      const id = created.task.taskId;
      const final = await poll(c, id);
      const result = await ask(c, 'tasks/result', { taskId: id });
      return { created, id, final, result };
    };
    const [d, x] = await Promise.all([run(direct.client), run(p.client)]);
    const norm = (v: any, id: string) => JSON.parse(JSON.stringify(v).replaceAll(id, '{id}').replace(/"(createdAt|lastUpdatedAt)":"[^"]+"/g, '"$1":"{t}"'));
    expect(x.id).not.toBe(d.id);
    expect(norm(x.created.task, x.id)).toEqual(norm(d.created.task, d.id));
    expect(norm(x.final, x.id)).toEqual(norm(d.final, d.id));
    expect(x.final).toMatchObject({ status: 'completed', ttl: d.final.ttl, pollInterval: d.final.pollInterval });
    expect(norm(x.result, x.id)).toEqual(norm(d.result, d.id));
    expect(x.result._meta[RELATED]).toEqual({ taskId: x.id });
  });

  it('routes a task\'s model file once, into the run that was current when the task was made', async () => {
    const p = await setup();
    const first = await ask(p.client, 'tools/call', { name: 'ensure_workspace', arguments: { dataset: 'tips' } });
    const handle = first.structuredContent.workspace;
    const created = await ask(p.client, 'tools/call', { name: 'train', arguments: { steps: 3, step_ms: 100, name: 'model.bin' }, task: {} });
    const id = created.task.taskId;
    // A new run is made meanwhile: the task's files still go where it was made.
    await ask(p.client, 'tools/call', { name: 'ensure_workspace', arguments: { dataset: 'tips', new_run: true } });
    expect((await poll(p.client, id)).status).toBe('completed');
    const res = await ask(p.client, 'tasks/result', { taskId: id });
    expect(res.structuredContent).toMatchObject({ status: 'success', steps: 3 });
    const runDir = path.join(p.ctx.workspaces.root, handle);
    const links = res.content.filter((b: any) => b.type === 'resource_link');
    expect(links).toEqual([expect.objectContaining({ uri: expect.stringContaining(`${handle}/models/model.bin`) })]);
    expect(res._meta[ROUTED].entries).toEqual([expect.objectContaining({ tool: 'train', dst: path.join(runDir, 'models', 'model.bin'), bytes: 22 })]);
    expect(fs.readFileSync(path.join(runDir, 'models', 'model.bin'), 'utf8')).toBe('weights after 3 steps\n');
    const manifest = JSON.parse(fs.readFileSync(res._meta[ROUTED].manifest, 'utf8'));
    expect(manifest.entries).toEqual([expect.objectContaining({ tool: 'train', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    // The server's status notifications reach the host under our id only.
    await waitFor(() => p.statuses.some((st) => st.taskId === id && st.status === 'completed'), 5000, 'the completed status');
    expect(p.statuses.some((st) => st.taskId === id && /^step \d\/3$/.test(st.statusMessage))).toBe(true);
    expect(new Set(p.statuses.map((st) => st.taskId))).toEqual(new Set([id]));
    // Fetched again: the same answer, and still one manifest.
    expect(await ask(p.client, 'tasks/result', { taskId: id })).toEqual(res);
    expect(fs.readdirSync(path.join(runDir, 'manifests'))).toHaveLength(1);
  });

  it('lists both servers\' tasks under distinct ids, and cancel reaches the right one', async () => {
    const p = await setup();
    const a = (await ask(p.client, 'tools/call', { name: 'train', arguments: { steps: 50, step_ms: 100 }, task: {} })).task.taskId;
    const b = (await ask(p.client, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'x' }, task: {} })).task.taskId;
    const listed = (await ask(p.client, 'tasks/list', {})).tasks.map((t: any) => t.taskId);
    expect(listed).toEqual([a, b]);
    const cancelled = await ask(p.client, 'tasks/cancel', { taskId: a });
    expect(cancelled).toMatchObject({ taskId: a, status: 'cancelled' });
    expect((await ask(p.client, 'tasks/get', { taskId: a })).status).toBe('cancelled');
    expect((await poll(p.client, b)).status).toBe('completed');
    expect(fs.readdirSync(p.out)).toEqual([]);
  });

  it('a server that crashes mid-task: its task fails with the stderr tail at once; the other server\'s runs on', async () => {
    const p = await setup();
    const other = (await ask(p.client, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'y' }, task: {} })).task.taskId;
    const doomed = (await ask(p.client, 'tools/call', { name: 'train', arguments: { steps: 5, step_ms: 100, crash_at: 2 }, task: {} })).task.taskId;
    const failed = await waitFor(() => p.statuses.find((s) => s.taskId === doomed && s.status === 'failed'), 10_000, 'the failed status');
    expect(failed.statusMessage).toMatch(/server "tr" exited with code 3[\s\S]*training crashed at step 2/);
    const t = await ask(p.client, 'tasks/get', { taskId: doomed });
    expect(t).toMatchObject({ status: 'failed', statusMessage: failed.statusMessage });
    const r = await ask(p.client, 'tasks/result', { taskId: doomed });
    expect(r.isError).toBe(true);
    expect(r.content[0].text).toMatch(/training crashed at step 2/);
    expect((await poll(p.client, other)).status).toBe('completed');
    // The server restarts for the next call.
    expect((await ask(p.client, 'tools/call', { name: 'say', arguments: { text: 'again' } })).content).toEqual([{ type: 'text', text: 'again' }]);
  });

  it('what a task asks its host (an elicitation) reaches the session that made it, naming the task by our id', async () => {
    const asked: any[] = [];
    const p = await setup({
      capabilities: { elicitation: {} },
      handlers: (c) =>
        c.setRequestHandler('elicitation/create', async (req) => {
          asked.push(req.params._meta);
          return { action: 'accept', content: { interpretation: 'programming' } };
        }),
    });
    const id = (await ask(p.client, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'python', ambiguous: true }, task: {} })).task.taskId;
    // tasks/result waits for the end, and carries the server's question meanwhile.
    const res = await ask(p.client, 'tasks/result', { taskId: id });
    expect(asked).toEqual([expect.objectContaining({ [RELATED]: { taskId: id } })]);
    expect(res.content[0].text).toMatch(/programming/);
  });

  it('refuses a task of a tool that does not run as one, and a required task called plainly is the server\'s refusal', async () => {
    const p = await setup();
    await expect(ask(p.client, 'tools/call', { name: 'say', arguments: { text: 'x' }, task: {} })).rejects.toThrow(/does not run as a task/);
    // The server's own answer, as it gave it.
    const plain = await ask(p.client, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'x' } });
    expect(plain).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringMatching(/requires task augmentation/) }] });
    expect((await ask(p.client, 'tasks/list', {})).tasks).toEqual([]);
  });
});

describe('serverTaskState: what a server says of its task, checked', () => {
  const ok = { taskId: 'x', status: 'working', createdAt: '2026-01-01T00:00:00Z', lastUpdatedAt: '2026-01-01T00:00:01Z', ttl: 1000, pollInterval: 50, statusMessage: 'step 1' };
  it('keeps the fields a task has, and never the server\'s id', () => {
    expect(serverTaskState(ok)).toEqual({ status: 'working', createdAt: ok.createdAt, lastUpdatedAt: ok.lastUpdatedAt, ttl: 1000, pollInterval: 50, statusMessage: 'step 1' });
    expect(serverTaskState({ ...ok, ttl: null })?.ttl).toBeNull();
  });
  it.each([
    ['not an object', 'working'],
    ['null', null],
    ['no status', { ...ok, status: undefined }],
    ['an unknown status', { ...ok, status: 'done' }],
    ['a status of the wrong type', { ...ok, status: 1 }],
  ])('refuses %s', (_why, v) => {
    expect(serverTaskState(v)).toBeUndefined();
  });
  it.each([
    ['a negative ttl', { ttl: -5 }, 'ttl', 77],
    ['a ttl that is not a number', { ttl: '1000' }, 'ttl', 77],
    ['an infinite poll interval', { pollInterval: Infinity }, 'pollInterval', undefined],
    ['an over-long status message', { statusMessage: 'x'.repeat(5000) }, 'statusMessage', undefined],
    ['a createdAt that is not a string', { createdAt: 5 }, 'createdAt', 'earlier'],
  ])('drops %s (the last known value, or nothing)', (_why, patch, key, want) => {
    const fallback = { status: 'working' as const, createdAt: 'earlier', lastUpdatedAt: 'earlier', ttl: 77 };
    expect((serverTaskState({ ...ok, ...patch }, fallback) as unknown as Record<string, unknown>)[key]).toEqual(want);
  });
});
