// The package as users get it: `npm pack`, then `npx <tarball>` in an empty folder, and the
// server launched exactly as the README's claude_desktop_config.json entries say.
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';
import { onCleanup } from '../helpers.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const README = await fs.readFile(path.join(REPO, 'README.md'), 'utf8');
const PKG = JSON.parse(await fs.readFile(path.join(REPO, 'package.json'), 'utf8'));
let work = '';
let tarball = '';

type Entry = { host: string; command: string; args: string[]; env?: Record<string, string> };

/**
 * The README's host entries that start this program: the `mcpServers` (Claude Desktop, Cursor) and
 * `servers` (VS Code) blocks whose command runs `…/dist/cli.js`, and the `claude mcp add` line.
 */
function hostEntries(): Entry[] {
  const blocks = [...README.matchAll(/```jsonc?\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!));
  const fromJson = blocks.flatMap((cfg) =>
    (Object.entries({ ...cfg.mcpServers, ...cfg.servers }) as [string, any][])
      .filter(([, e]) => e.command === 'node' && String(e.args?.[0]).endsWith('/dist/cli.js'))
      .map(([, e]) => ({ host: cfg.servers ? 'vscode' : 'claude-desktop', command: e.command, args: e.args, env: e.env })),
  );
  const add = /claude mcp add artifact-workspace -- (.+)/.exec(README)?.[1]?.split(' ') ?? [];
  return [...fromJson, { host: 'claude-code', command: add[0]!, args: add.slice(1) }];
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join((await import('node:os')).tmpdir(), 'aw-pkg-'));
  // dist/ is already built by `npm test`; --ignore-scripts skips the prepack rebuild.
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!;
  tarball = path.join(work, name);
  // A project with the package installed, so `npx -y artifact-workspace-mcp` resolves to it offline.
  await fs.mkdir(path.join(work, 'proj'));
  await fs.writeFile(path.join(work, 'proj', 'package.json'), '{"name":"desktop-sim","private":true}');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: path.join(work, 'proj'), stdio: 'ignore' });
}, 180_000);

afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe('the published package', () => {
  it('ships dist, schema, the example server and docs, and nothing from src or test', async () => {
    const list = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(list).toContain('package/dist/cli.js');
    expect(list).toContain('package/schema/mcp.config.schema.json');
    expect(list).toContain('package/examples/ds-server/server.mjs');
    expect(list).toContain('package/LICENSE');
    expect(list.filter((f) => /^package\/(src|test|bench|scripts)\//.test(f) || f.endsWith('.map'))).toEqual([]);
    expect((await fs.readFile(path.join(REPO, 'dist/cli.js'), 'utf8')).startsWith('#!/usr/bin/env node')).toBe(true);
  });

  it('runs as `npx <tarball> --version` and serves in an empty folder', async () => {
    const empty = path.join(work, 'empty');
    await fs.mkdir(empty, { recursive: true });
    const r = spawnSync('npx', ['--yes', `file:${tarball}`, '--version'], { cwd: empty, encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout.trim(), r.stderr).toBe(PKG.version);
    const transport = new StdioClientTransport({ command: 'npx', args: ['--yes', `file:${tarball}`, 'serve'], cwd: empty, env: { ...process.env } as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'pkg-test', version: '1' });
    onCleanup(() => client.close());
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('ensure_workspace');
    await client.callTool({ name: 'ensure_workspace', arguments: { dataset: 'tips' } });
    expect(await fs.readdir(path.join(empty, '.uploaded', '_workspaces', 'tips'))).toContain('latest');
  }, 180_000);

  it('launches exactly as each README host entry says, from the installed tarball', async () => {
    const entries = hostEntries();
    expect(entries.map((e) => e.host)).toEqual(['claude-desktop', 'vscode', 'claude-code']);
    const installed = path.join(work, 'proj', 'node_modules', PKG.name);
    const home = path.join(work, 'home');
    await fs.mkdir(home, { recursive: true });
    // Only the user's own places are swapped for temp ones; command and flags are as written.
    const swap = (v: string) => v.replace('/path/to/artifact-workspace-mcp', installed).replace(/\/Users\/me/g, home).replace('${workspaceFolder}', home);
    const example = path.join(installed, 'examples', 'ds-server', 'server.mjs');
    await fs.writeFile(path.join(home, 'mcp.config.json'), JSON.stringify({ workspace: { root: path.join(home, 'ml-workspaces') }, mcpServers: { ds: { command: process.execPath, args: [example] } } }));
    for (const entry of entries) {
      const env = Object.fromEntries(Object.entries(entry.env ?? {}).map(([k, v]) => [k, swap(v)]));
      // Hosts start servers in `/`, with a small environment.
      const transport = new StdioClientTransport({ command: entry.command, args: entry.args.map(swap), cwd: '/', env: { PATH: process.env.PATH!, HOME: home, ...env }, stderr: 'pipe' });
      const client = new Client({ name: entry.host, version: '1' });
      onCleanup(() => client.close());
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names, entry.host).toEqual(expect.arrayContaining(['route_artifacts', 'plot']));
      await client.close();
    }
  }, 180_000);

  it('a proxy run through npx does not hand npm\'s variables to its servers', async () => {
    const dir = path.join(work, 'npx-env');
    await fs.mkdir(dir, { recursive: true });
    const shaped = fileURLToPath(new URL('../fixtures/shaped-server.mjs', import.meta.url));
    await fs.writeFile(path.join(dir, 'mcp.config.json'), JSON.stringify({ mcpServers: { env: { command: process.execPath, args: [shaped], env: { SHAPE: 'env' } } } }));
    const transport = new StdioClientTransport({ command: 'npx', args: ['--yes', `--package=file:${tarball}`, 'artifact-workspace', 'serve', '--config', path.join(dir, 'mcp.config.json')], cwd: dir, env: { ...process.env } as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'npx-env', version: '1' });
    onCleanup(() => client.close());
    await client.connect(transport);
    const res = (await client.callTool({ name: 'env_names', arguments: {} })) as { content: { text: string }[] };
    expect(JSON.parse(res.content[0]!.text)).toEqual([]);
  }, 180_000);
});
