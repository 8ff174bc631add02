// The early start (src/proxy/early-start.ts): the raw command line and config are read without the
// parser and the schema, so every odd case must start nothing, and every child that is not adopted
// must be stopped. Real child processes; the built CLI for the whole path.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EarlyStarts, startEarly, stdioEntry } from '../../src/proxy/early-start.js';
import { VALUE_OPTIONS, serveFlagsFromArgv } from '../../src/serve-argv.js';
import type { ChildSpec } from '../../src/transports/spawn-child.js';
import { CLI, alive, onCleanup, startCli, tempDir } from '../helpers.js';
import { fixtureEntry, waitFor } from './harness.js';

const built = fs.existsSync(CLI);

describe('serveFlagsFromArgv: a serve command line, or nothing', () => {
  const cases: [string[], { config?: string } | undefined][] = [
    [[], {}],
    [['serve'], {}],
    [['--config', 'a.json'], { config: 'a.json' }],
    [['serve', '-c', 'b.json'], { config: 'b.json' }],
    [['--config=c.json'], { config: 'c.json' }],
    [['--root', 'r', '--config', 'd.json', '--mode', 'move'], { config: 'd.json' }],
    [['--port=3001', '--transport', 'http'], {}],
    [['--version'], undefined],
    [['-V'], undefined],
    [['--help'], undefined],
    [['-h'], undefined],
    [['serve', '--help'], undefined],
    [['info'], undefined],
    [['demo'], undefined],
    [['check', '--config', 'a.json'], undefined],
    [['--config'], undefined],
    [['--config', '--root', 'x'], undefined],
    [['--root'], undefined],
    [['--unknown'], undefined],
    [['--unknown=1'], undefined],
    [['serve', 'extra'], undefined],
    [['serve', 'serve'], undefined],
  ];
  it.each(cases)('%j → %j', (argv, want) => {
    expect(serveFlagsFromArgv(argv)).toEqual(want);
  });
});

describe('stdioEntry: only an enabled stdio entry of the right shape', () => {
  const ok = { command: 'node', args: ['s.mjs'], env: { A: '1' }, cwd: 'x' };
  const cases: [string, unknown, boolean][] = [
    ['plain', ok, true],
    ['type stdio', { ...ok, type: 'stdio' }, true],
    ['command only', { command: 'node' }, true],
    ['disabled', { ...ok, disabled: true }, false],
    ['http', { type: 'http', url: 'http://127.0.0.1:1/mcp' }, false],
    ['url beside command', { ...ok, url: 'http://x' }, false],
    ['other type', { ...ok, type: 'sse' }, false],
    ['empty command', { command: '' }, false],
    ['command not a string', { command: ['node'] }, false],
    ['args not strings', { command: 'node', args: [1] }, false],
    ['args an object', { command: 'node', args: { 0: 'a' } }, false],
    ['env values not strings', { command: 'node', env: { A: 1 } }, false],
    ['env an array', { command: 'node', env: ['A=1'] }, false],
    ['cwd not a string', { command: 'node', cwd: 1 }, false],
    ['null', null, false],
    ['array', ['node'], false],
    ['string', 'node s.mjs', false],
  ];
  it.each(cases)('%s', (_name, entry, want) => {
    expect(stdioEntry(entry) !== undefined).toBe(want);
  });
});

/** A child that ignores a closed stdin, so only a signal stops it. */
const stubborn = (env: NodeJS.ProcessEnv = {}): ChildSpec => ({
  command: process.execPath,
  args: ['-e', 'process.stdin.resume(); process.stdin.on("end", () => {}); setInterval(() => {}, 1000)'],
  env: { PATH: process.env.PATH ?? '', ...env },
});

async function gone(pid: number): Promise<void> {
  await waitFor(() => !alive(pid), 5000, `process ${pid} to stop`);
}

describe('EarlyStarts', () => {
  it('hands over the child for the same spec, once', async () => {
    const early = new EarlyStarts();
    onCleanup(() => early.stopAll());
    early.add('a', stubborn());
    const got = early.take('a', stubborn());
    expect(got?.child.pid).toBeGreaterThan(0);
    await got!.spawned;
    onCleanup(() => got!.child.kill('SIGKILL'));
    expect(early.take('a', stubborn())).toBeUndefined();
    expect(alive(got!.child.pid!)).toBe(true);
  });

  const differing: [string, ChildSpec][] = [
    ['another command', { ...stubborn(), command: '/bin/sh' }],
    ['other arguments', { ...stubborn(), args: ['-e', '0'] }],
    ['another folder', { ...stubborn(), cwd: '/' }],
    ['another env value', stubborn({ EXTRA: '1' })],
  ];
  it.each(differing)('stops a child whose spec differs (%s) and hands over nothing', async (_name, spec) => {
    const early = new EarlyStarts();
    onCleanup(() => early.stopAll());
    early.add('a', stubborn());
    const pid = early['pool'].get('a')!.child.pid!;
    expect(early.take('a', spec)).toBeUndefined();
    await gone(pid);
  });

  it('does not hand over a child that has exited, nor one that could not start', async () => {
    const early = new EarlyStarts();
    onCleanup(() => early.stopAll());
    const quick: ChildSpec = { command: process.execPath, args: ['-e', '0'], env: {} };
    early.add('quick', quick);
    await new Promise<void>((r) => early['pool'].get('quick')!.child.once('exit', () => r()));
    expect(early.take('quick', quick)).toBeUndefined();
    const missing: ChildSpec = { command: '/nonexistent/server', args: [], env: {} };
    early.add('missing', missing);
    await new Promise((r) => setTimeout(r, 100));
    expect(early.take('missing', missing)).toBeUndefined();
  });

  it('stopAll stops every child not adopted', async () => {
    const early = new EarlyStarts();
    early.add('a', stubborn());
    early.add('b', stubborn());
    const pids = early.names().map((n) => early['pool'].get(n)!.child.pid!);
    early.stopAll();
    await Promise.all(pids.map(gone));
    expect(early.names()).toEqual([]);
  });
});

describe('startEarly reads the config as the server will', () => {
  it('starts the enabled stdio entries only', async () => {
    const dir = await tempDir('aw-early-');
    fs.writeFileSync(
      path.join(dir, 'mcp.config.json'),
      JSON.stringify({
        mcpServers: {
          one: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] },
          off: { command: process.execPath, args: ['-e', '0'], disabled: true },
          web: { type: 'http', url: 'http://127.0.0.1:9/mcp' },
          odd: { command: 7 },
        },
      }),
    );
    const early = startEarly({}, process.env, dir);
    onCleanup(() => early.stopAll());
    expect(early.names()).toEqual(['one']);
  });

  const files: [string, string | undefined][] = [
    ['no config file', undefined],
    ['not JSON', '{ mcpServers: '],
    ['mcpServers not an object', '{"mcpServers": ["a"]}'],
    ['null', 'null'],
  ];
  it.each(files)('starts nothing with %s', async (_name, text) => {
    const dir = await tempDir('aw-early-');
    if (text !== undefined) fs.writeFileSync(path.join(dir, 'mcp.config.json'), text);
    const early = startEarly({}, process.env, dir);
    expect(early.names()).toEqual([]);
  });
});

describe.skipIf(!built)('the built CLI', () => {
  it("knows every serve option that takes a value, as serve --help lists them", () => {
    const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' }).stdout;
    const valued = [...help.matchAll(/(--[a-z-]+) <[^>]+>/g)].map((m) => m[1]!).filter((o) => o !== '--config');
    expect(new Set(valued)).toEqual(VALUE_OPTIONS);
  });

  it('adopts the server it started early, and it is the one that answers', async () => {
    const base = await tempDir('aw-early-');
    fs.writeFileSync(path.join(base, 'mcp.config.json'), JSON.stringify({ workspace: { root: path.join(base, 'ws') }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: path.join(base, 'out') }) } }));
    const h = await startCli({ ARTIFACT_WORKSPACE_LOG: 'debug' }, base);
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('echo');
    const started = Number(/server "ds": MCP [^,\n]+, process started early \(pid (\d+)\)/.exec(h.stderr())?.[1]);
    expect(started).toBeGreaterThan(0);
    expect(h.stderr()).toContain(`fixture ${started} ready`);
  });

  it('stops the servers it started early when the config is refused', async () => {
    const base = await tempDir('aw-early-');
    const marker = `aw-early-marker-${process.pid}-${Date.now()}`;
    const server = `process.stdin.resume(); process.stdin.on("end", () => {}); setInterval(() => {}, 1000) // ${marker}`;
    // The entry is fine; another setting is not, so the checked config is refused (exit 2).
    fs.writeFileSync(path.join(base, 'mcp.config.json'), JSON.stringify({ workspace: { maxArtifactBytes: -1 }, mcpServers: { s: { command: process.execPath, args: ['-e', server] } } }));
    const r = spawnSync(process.execPath, [CLI, 'serve'], { cwd: base, input: '', encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('maxArtifactBytes');
    await waitFor(() => running(marker).length === 0, 5000, 'the early server to stop');
  });

  it('starts nothing early for a command that is not serve', async () => {
    const base = await tempDir('aw-early-');
    const marker = `aw-early-marker-${process.pid}-${Date.now()}-info`;
    const server = `setTimeout(() => {}, 3000) // ${marker}`;
    fs.writeFileSync(path.join(base, 'mcp.config.json'), JSON.stringify({ workspace: { root: path.join(base, 'ws') }, mcpServers: { s: { command: process.execPath, args: ['-e', server] } } }));
    const seen: number[] = [];
    const child = spawnSync(process.execPath, [CLI, '--version'], { cwd: base, input: '', encoding: 'utf8' });
    expect(child.status).toBe(0);
    seen.push(...running(marker));
    expect(seen).toEqual([]);
  });
});

/** Pids of the processes whose command line holds `marker` (Linux /proc). */
function running(marker: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker)) pids.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}
