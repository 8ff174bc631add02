// Tasks (2025-11-25) on our own server: route_artifacts as a task, through a real SDK client in
// memory, and the board's rules (ids, who sees what, pages, expiry) on their own.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ResultSchema } from '@modelcontextprotocol/core';
import type { Client } from '@modelcontextprotocol/client';
import { MAX_TASKS_PER_OWNER, TaskBoard, TASK_PAGE, type TaskBackend, type TaskState } from '../../src/server/tasks.js';
import type { CallExtra } from '../../src/server/sources.js';
import { ManualTimers, sc, startInMemory, tempDir } from '../helpers.js';

const ask = (c: Client, method: string, params: Record<string, unknown>) => c.request({ method, params } as never, ResultSchema) as Promise<any>;

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('our tools as tasks', () => {
  it('route_artifacts runs as a task: created working, polled to completed, the same result as a direct call', async () => {
    const h = await startInMemory();
    expect(h.client.getServerCapabilities()?.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } });
    const tools = (await h.client.listTools()).tools;
    expect(tools.find((t) => t.name === 'route_artifacts')?.execution).toEqual({ taskSupport: 'optional' });
    const statuses: any[] = [];
    h.client.setNotificationHandler('notifications/tasks/status', { params: z.looseObject({ taskId: z.string(), status: z.string() }) }, (p) => void statuses.push(p));

    const src = await tempDir('aw-task-src-');
    const big = path.join(src, 'model.bin');
    await fs.writeFile(big, Buffer.alloc(8 * 1024 ** 2, 7));
    const created = await ask(h.client, 'tools/call', { name: 'route_artifacts', arguments: { dataset: 'tips', paths: [big], type: 'model' }, task: { ttl: 60_000 } });
    expect(created.task).toMatchObject({ taskId: expect.any(String), status: 'working', ttl: 60_000, createdAt: expect.any(String), lastUpdatedAt: expect.any(String) });
    const id = created.task.taskId;
    const done = await until(() => ask(h.client, 'tasks/get', { taskId: id }), (t) => t.status !== 'working');
    expect(done).toMatchObject({ taskId: id, status: 'completed', ttl: 60_000 });
    const res = await ask(h.client, 'tasks/result', { taskId: id });
    expect(res._meta['io.modelcontextprotocol/related-task']).toEqual({ taskId: id });
    expect(sc(res).routed).toEqual([expect.objectContaining({ src: big, bytes: 8 * 1024 ** 2, type: 'model' })]);
    // Fetching it again answers the same, and files nothing twice.
    expect(sc(await ask(h.client, 'tasks/result', { taskId: id }))).toEqual(sc(res));
    const run = sc(res).workspace as string;
    expect(await fs.readdir(path.join(h.root, run, 'models'))).toEqual(['model.bin']);
    expect(await fs.readdir(path.join(h.root, run, 'manifests'))).toHaveLength(1);

    const listed = await ask(h.client, 'tasks/list', {});
    expect(listed.tasks.map((t: any) => [t.taskId, t.status])).toEqual([[id, 'completed']]);
    await until(async () => statuses.length, (n) => n > 0);
    expect(statuses.at(-1)).toMatchObject({ taskId: id, status: 'completed' });
    await expect(ask(h.client, 'tasks/cancel', { taskId: id })).rejects.toThrow(/already completed/);
  });

  it.each([
    ['a tool that does not run as a task', { name: 'ensure_workspace', arguments: {}, task: {} }, /does not run as a task/],
    ['an unknown tool', { name: 'nope', arguments: {}, task: {} }, /Unknown tool/],
    ['a task that is not an object', { name: 'route_artifacts', arguments: { paths: [] }, task: 5 }, /task|expected object/],
    ['a negative ttl', { name: 'route_artifacts', arguments: { paths: [] }, task: { ttl: -1 } }, /`task` is an object/],
  ])('refuses %s, and makes no task', async (_why, params, err) => {
    const h = await startInMemory();
    await expect(ask(h.client, 'tools/call', params)).rejects.toThrow(err);
    expect((await ask(h.client, 'tasks/list', {})).tasks).toEqual([]);
  });

  it('bad arguments get the ordinary answer, not a task that fails', async () => {
    const h = await startInMemory();
    await expect(ask(h.client, 'tools/call', { name: 'route_artifacts', arguments: { paths: 'x' }, task: {} })).rejects.toThrow(/paths/);
    expect((await ask(h.client, 'tasks/list', {})).tasks).toEqual([]);
  });

  it.each([['an unknown id', 'no-such-task'], ['an id that is not a string', 7]])('tasks/get of %s is the caller\'s error', async (_why, taskId) => {
    const h = await startInMemory();
    await expect(ask(h.client, 'tasks/get', { taskId })).rejects.toThrow();
  });
});

describe('TaskBoard', () => {
  const extra = {} as CallExtra;
  const state = (status: TaskState['status'], ttl: number | null = null): TaskState => ({ status, createdAt: new Date().toISOString(), lastUpdatedAt: new Date().toISOString(), ttl });
  const backend = (s: TaskState): TaskBackend & { s: TaskState } => ({ s, state: async function () { return this.s; }, result: async () => ({ content: [] }), cancel: async function () { return (this.s = { ...this.s, status: 'cancelled' }); } });

  it('gives each task a fresh id and shows it only to the session that made it', async () => {
    const b = new TaskBoard();
    const a = {}, other = {};
    const id1 = b.add(a, backend(state('working')), state('working'));
    const id2 = b.add(a, backend(state('working')), state('working'));
    expect(id1).not.toBe(id2);
    expect((await b.get(a, id1, extra)).taskId).toBe(id1);
    await expect(b.get(other, id1, extra)).rejects.toThrow(/unknown task/);
    expect((await b.list(other, undefined, extra)).tasks).toEqual([]);
  });

  it('pages the list with an opaque cursor, and refuses a forged one', async () => {
    const b = new TaskBoard();
    const a = {};
    const ids = Array.from({ length: TASK_PAGE + 5 }, () => b.add(a, backend(state('working')), state('working')));
    const p1 = await b.list(a, undefined, extra);
    expect(p1.tasks).toHaveLength(TASK_PAGE);
    const p2 = await b.list(a, p1.nextCursor, extra);
    expect([...p1.tasks, ...p2.tasks].map((t) => t.taskId)).toEqual(ids);
    expect(p2.nextCursor).toBeUndefined();
    await expect(b.list(a, '../../x', extra)).rejects.toThrow(/invalid cursor/);
  });

  it('a ttl longer than one timer can wait (2^31 ms) keeps the task a week, not a moment', async () => {
    const timers = new ManualTimers();
    const b = new TaskBoard(timers);
    const a = {};
    const be = backend(state('completed', 3e9));
    const id = b.add(a, be, be.s);
    timers.advance(24 * 3600_000);
    expect((await b.get(a, id, extra)).taskId).toBe(id);
    timers.advance(6 * 24 * 3600_000 + 1);
    await expect(b.get(a, id, extra)).rejects.toThrow(/unknown task/);
  });

  it('keeps no task longer than a week, and none of a session that ended', async () => {
    const timers = new ManualTimers();
    const b = new TaskBoard(timers);
    const a = {};
    const forgot: string[] = [];
    const be = { ...backend(state('working')), forget: () => void forgot.push('long') };
    const id = b.add(a, be, state('working'));
    timers.advance(7 * 24 * 3600_000 + 1);
    await expect(b.get(a, id, extra)).rejects.toThrow(/unknown task/);
    const id2 = b.add(a, { ...backend(state('working')), forget: () => void forgot.push('ended') }, state('working'));
    b.forgetOwner(a);
    await expect(b.get(a, id2, extra)).rejects.toThrow(/unknown task/);
    expect(forgot).toEqual(['long', 'ended']);
  });

  it('refuses a session\'s task beyond the limit', () => {
    const b = new TaskBoard();
    const a = {};
    for (let i = 0; i < MAX_TASKS_PER_OWNER; i++) b.add(a, backend(state('working')), state('working'));
    expect(() => b.add(a, backend(state('working')), state('working'))).toThrow(/tasks already/);
    expect(() => b.add({}, backend(state('working')), state('working'))).not.toThrow();
  });

  it('tells a new status at once, and a new message alone at most once a second', () => {
    const timers = new ManualTimers();
    const b = new TaskBoard(timers);
    const told: string[] = [];
    const host = { notify: async (n: any) => void told.push(`${n.params.status}:${n.params.statusMessage ?? ''}`) } as never;
    const id = b.add({}, backend(state('working')), state('working'), host);
    for (let i = 0; i < 50; i++) b.changed(id, { ...state('working'), statusMessage: `copying ${i}` });
    timers.advance(1000);
    b.changed(id, { ...state('working'), statusMessage: 'copying 50' });
    b.changed(id, state('completed'));
    expect(told).toEqual(['working:copying 0', 'working:copying 50', 'completed:']);
  });

  it('never revives a task that ended, and forgets it after its ttl', async () => {
    const timers = new ManualTimers();
    const b = new TaskBoard(timers);
    const a = {};
    const be = backend(state('working', 5000));
    const id = b.add(a, be, be.s);
    b.changed(id, state('failed', 5000));
    be.s = state('working', 5000);
    expect((await b.get(a, id, extra)).status).toBe('failed');
    timers.advance(5001);
    await expect(b.get(a, id, extra)).rejects.toThrow(/unknown task/);
  });
});
