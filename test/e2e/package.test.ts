// The package as users get it: `npm pack`, then `npx <tarball>` in an empty folder, and the
// server launched exactly as the README's claude_desktop_config.json entries say.
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { onCleanup } from '../helpers.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const README = await fs.readFile(path.join(REPO, 'README.md'), 'utf8');
const PKG = JSON.parse(await fs.readFile(path.join(REPO, 'package.json'), 'utf8'));
let work = '';
let tarball = '';

/** The README's Claude Desktop entries (blocks whose server runs `npx … artifact-workspace-mcp`). */
function desktopEntries(): { name: string; command: string; args: string[]; env?: Record<string, string> }[] {
  return [...README.matchAll(/```json\n([\s\S]*?)```/g)]
    .map((m) => JSON.parse(m[1]!))
    .flatMap((cfg) => Object.entries(cfg.mcpServers ?? {}) as [string, any][])
    .filter(([, e]) => e.command === 'npx' && e.args.includes(PKG.name))
    .map(([name, e]) => ({ name, ...e }));
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

  it('launches exactly as each README claude_desktop_config.json entry says', async () => {
    const entries = desktopEntries();
    expect(entries.map((e) => e.name)).toEqual(['artifact-workspace', 'ds-tools']);
    for (const entry of entries) {
      // Only the user's own folders are swapped for temp ones; command and flags are as written.
      const swap = (s: string) => s.replace(/\/Users\/me/g, path.join(work, 'home'));
      await fs.mkdir(path.join(work, 'home'), { recursive: true });
      if (entry.args.includes('--config')) {
        const example = path.join(work, 'proj', 'node_modules', PKG.name, 'examples', 'ds-server', 'server.mjs');
        await fs.writeFile(swap('/Users/me/mcp.config.json'), JSON.stringify({ workspace: { root: swap('/Users/me/ml-workspaces') }, mcpServers: { ds: { command: process.execPath, args: [example] } } }));
      }
      const env = Object.fromEntries(Object.entries(entry.env ?? {}).map(([k, v]) => [k, swap(v)]));
      const transport = new StdioClientTransport({ command: entry.command, args: entry.args.map(swap), cwd: path.join(work, 'proj'), env: { PATH: process.env.PATH!, HOME: path.join(work, 'home'), ...env }, stderr: 'pipe' });
      const client = new Client({ name: 'desktop-sim', version: '1' });
      onCleanup(() => client.close());
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names, entry.name).toContain('route_artifacts');
      if (entry.name === 'ds-tools') expect(names).toContain('plot');
      await client.close();
    }
  }, 180_000);
});
