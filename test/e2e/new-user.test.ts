// What a new user tripped over, each through a real host (an SDK client over stdio) in front of
// the built CLI, with real child servers shaped like the ones that showed the problem
// (test/fixtures/shaped-server.mjs, server-everything, the bundled example server).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { OWN_TOOL_NAMES } from '../../src/server/own-tools.js';
import { alive, CLI, onCleanup, tempDir } from '../helpers.js';
import { EVERYTHING, waitFor } from '../proxy/harness.js';

const SHAPED = fileURLToPath(new URL('../fixtures/shaped-server.mjs', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('../fixtures/launcher.mjs', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const META = 'artifact-workspace/routed';

/** A host over stdio in front of `serve --config`, started in `cwd`. */
async function host(config: object | string, o: { cwd?: string; env?: Record<string, string>; capabilities?: object } = {}) {
  const base = await tempDir('aw-newuser-');
  const file = typeof config === 'string' ? config : path.join(base, 'mcp.config.json');
  if (typeof config !== 'string') fs.writeFileSync(file, JSON.stringify(config));
  let stderr = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', '--config', file],
    cwd: o.cwd ?? base,
    env: { ...(process.env as Record<string, string>), ...o.env },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'new-user', version: '1' }, { capabilities: o.capabilities ?? {} });
  onCleanup(() => client.close());
  await client.connect(transport);
  const call = (name: string, args: Record<string, unknown> = {}) =>
    client.request({ method: 'tools/call', params: { name, arguments: args } }, { timeout: 60_000 }) as Promise<CallToolResult>;
  return { base, client, call, transport, stderr: () => stderr };
}

const datasets = (root: string) => (fs.existsSync(root) ? fs.readdirSync(root).filter((n) => !n.startsWith('.')) : []);

describe('a new user, through a real host', () => {
  it('the sample mcp.config.json routes the example server\'s plot when the host starts the proxy in /', async () => {
    const home = await tempDir('aw-home-');
    const ws = await tempDir('aw-ws-');
    const h = await host(path.join(REPO, 'mcp.config.json'), { cwd: '/', env: { HOME: home, WORKSPACES_ROOT: ws } });
    const res = await h.call('plot', { csv_path: path.join(REPO, 'examples/ds-server/tips.csv'), column: 'total_bill' });
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    const meta = res._meta?.[META] as { entries: { dst: string }[]; skipped: unknown[] };
    expect(meta.skipped).toEqual([]);
    expect(meta.entries.map((e) => path.relative(ws, e.dst).split(path.sep).slice(0, 1)[0])).toEqual(['tips', 'tips']);
    for (const e of meta.entries) expect(fs.existsSync(e.dst)).toBe(true);
  });

  it('read-only tools of a filesystem-like server leave no workspace behind, and neither does a new session', async () => {
    const files = await tempDir('aw-files-');
    fs.writeFileSync(path.join(files, 'notes.md'), '# notes');
    fs.writeFileSync(path.join(files, 'tips.csv'), 'a,b\n');
    const ws = await tempDir('aw-ws-');
    const config = { workspace: { root: ws }, mcpServers: { fs: { command: process.execPath, args: [SHAPED], env: { SHAPE: 'filesystem' } } } };
    const a = await host(config);
    await a.call('read_text_file', { path: path.join(files, 'notes.md') });
    await a.call('list_directory', { path: files });
    await a.call('get_file_info', { path: path.join(files, 'notes.md') });
    // A data file names a dataset: it becomes current, but nothing is made until something is filed.
    await a.call('get_file_info', { path: path.join(files, 'tips.csv') });
    expect(datasets(ws)).toEqual([]);
    const info = (await a.call('get_workspace_info')).structuredContent as { active: boolean; dataset: string | null };
    expect(info.active).toBe(false);
    const b = await host(config);
    await b.call('read_text_file', { path: path.join(files, 'tips.csv') });
    expect(datasets(ws)).toEqual([]);
  });

  it('a file:// URI in structuredContent, a camelCase imagePath, and a key named in routing.resultKeys are routed', async () => {
    const out = await tempDir('aw-pdf-out-');
    const ws = await tempDir('aw-ws-');
    const h = await host({
      workspace: { root: ws },
      routing: { tools: ['generate_pdf', 'render_chart', 'export_table'], sourceRoots: [out], resultKeys: { resultFile: 'data' } },
      mcpServers: { pdf: { command: process.execPath, args: [SHAPED], env: { SHAPE: 'pdf', OUT: out } } },
    });
    const routed = async (name: string) => ((await h.call(name, { name: `x_${name}` }))._meta?.[META] as { entries: { dst: string; type: string }[] }).entries.map((e) => [path.basename(path.dirname(e.dst)), path.basename(e.dst), e.type]);
    expect(await routed('generate_pdf')).toEqual([['reports', 'x_generate_pdf.pdf', 'report']]);
    expect(await routed('render_chart')).toEqual([['plots', 'x_render_chart.png', 'plot']]);
    expect(await routed('export_table')).toEqual([['data', 'x_export_table.csv', 'data']]);
  });

  it('an allowlisted tool whose result names nothing routable is logged with the way out', async () => {
    const files = await tempDir('aw-files-');
    fs.writeFileSync(path.join(files, 'notes.md'), '# notes');
    const h = await host({ routing: { tools: ['read_text_file'] }, mcpServers: { fs: { command: process.execPath, args: [SHAPED], env: { SHAPE: 'filesystem' } } } });
    await h.call('read_text_file', { path: path.join(files, 'notes.md') });
    await waitFor(() => /read_text_file: nothing to route in its result .* routing\.resultKeys/.test(h.stderr()), 5000, 'the log line');
  });

  it('the first tools/list waits for a server that is slow to start', async () => {
    const h = await host({ mcpServers: { slow: { command: process.execPath, args: [SHAPED], env: { SHAPE: 'pdf', START_DELAY_MS: '4000' } }, fast: { command: process.execPath, args: [SHAPED], env: { SHAPE: 'env' } } } });
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['generate_pdf', 'render_chart', 'env_names']));
  });

  it('a server started through a launcher (npx, uvx) does not outlive the proxy', async () => {
    const pidFile = path.join(await tempDir('aw-pid-'), 'pid');
    const h = await host({ mcpServers: { viaNpx: { command: process.execPath, args: [LAUNCHER, process.execPath, SHAPED], env: { SHAPE: 'env', IGNORE_EOF: '1', LAUNCHED_PID_FILE: pidFile } } } });
    await h.client.listTools();
    const pid = Number(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8'), 5000, 'the server pid'));
    onCleanup(() => void (alive(pid) && process.kill(pid, 'SIGKILL')));
    expect(alive(pid)).toBe(true);
    // The host goes away right after an answer, as hosts do.
    await h.client.close();
    await waitFor(() => !alive(pid), 15_000, 'the launched server to stop');
  });

  it('downstreams see only the capabilities the host declared: server-everything lists the same tools as directly', async () => {
    const entry = { command: process.execPath, args: [EVERYTHING, 'stdio'] };
    const h = await host({ routing: { tools: [] }, mcpServers: { everything: entry } });
    const direct = new Client({ name: 'direct', version: '1' }, { capabilities: {} });
    onCleanup(() => direct.close());
    await direct.connect(new StdioClientTransport({ ...entry, stderr: 'ignore' }));
    const ours = OWN_TOOL_NAMES;
    const proxied = (await h.client.listTools()).tools.map((t) => t.name).filter((n) => !ours.has(n));
    const want = (await direct.listTools()).tools.map((t) => t.name);
    expect(proxied.sort()).toEqual(want.sort());
    expect(proxied).not.toContain('trigger-sampling-request');
  });

  it('a downstream does not inherit npm\'s variables or the bearer token', async () => {
    const h = await host(
      { mcpServers: { env: { command: process.execPath, args: [SHAPED], env: { SHAPE: 'env' } } } },
      { env: { npm_config_prefix: '/tmp/npx-prefix', npm_package_name: 'artifact-workspace-mcp', ARTIFACT_WORKSPACE_TOKEN: 's3cret' } },
    );
    const res = await h.call('env_names');
    expect(JSON.parse((res.content[0] as { text: string }).text)).toEqual([]);
  });
});

describe('small things', () => {
  it('a protocol error reaches the host with its message as the server wrote it, no prefixes added', async () => {
    const h = await host({ mcpServers: { env: { command: process.execPath, args: [SHAPED], env: { SHAPE: 'env' } } } });
    await expect(h.call('no_such_tool')).rejects.toThrow(/^Unknown tool: no_such_tool$/);
  });

  it('a server that cannot start has its stderr logged once', async () => {
    const h = await host({ mcpServers: { broken: { command: process.execPath, args: ['-e', 'process.stderr.write("boom: missing SECRET\\n"); process.exit(3)'] } } });
    await h.client.listTools();
    await waitFor(() => /server "broken"/.test(h.stderr()), 10_000, 'the failure log');
    expect(h.stderr().split('boom: missing SECRET').length - 1).toBe(1);
  });

  it('prune --keep names what it got', async () => {
    const cwd = await tempDir('aw-cli-');
    const r = spawnSync(process.execPath, [CLI, 'prune', '--keep', 'abc', '--root', cwd], { cwd, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/expected a whole number >= 0, got "abc"/);
  });

  // `script` (util-linux) gives the program a terminal for stdin, as a person typing the command would.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  if (!hasScript) console.warn('[skipped] bare in a terminal: util-linux `script` is not installed');
  it.skipIf(!hasScript)('bare in a terminal, it explains itself and makes nothing', async () => {
    const cwd = await tempDir('aw-cli-');
    const t = spawnSync('script', ['-qec', `${process.execPath} ${CLI}`, '/dev/null'], { cwd, encoding: 'utf8', timeout: 20_000 });
    expect(t.stdout).toMatch(/is an MCP server/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});

describe('check', () => {
  it('starts each server, lists its tools as a host will see them, says which are routed and why, and fails on a server that cannot start', async () => {
    const base = await tempDir('aw-check-');
    const config = path.join(base, 'mcp.config.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        workspace: { root: path.join(base, 'ws') },
        routing: { tools: ['@default', 'render_*'], sourceRoots: ['~'] },
        mcpServers: {
          pdf: { command: process.execPath, args: [SHAPED], env: { SHAPE: 'pdf' } },
          broken: { command: process.execPath, args: ['-e', 'process.stderr.write("missing API_KEY\\n"); process.exit(2)'] },
          off: { command: 'nothing', disabled: true },
        },
      }),
    );
    const r = spawnSync(process.execPath, [CLI, 'check', '--config', config, '--json', '--timeout-ms', '20000'], { cwd: base, encoding: 'utf8', env: { ...process.env, HOME: base } });
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.workspaces_root).toBe(path.join(base, 'ws'));
    expect(report.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/routing\.sourceRoots: .* is the home folder: not allowed/)]));
    const [pdf, broken, off] = report.servers;
    expect(pdf).toMatchObject({ name: 'pdf', status: 'ready' });
    expect(pdf.tools).toEqual([
      { name: 'generate_pdf', exposed: 'generate_pdf', routed: false, why: 'not on the allowlist: forwarded untouched' },
      { name: 'render_chart', exposed: 'render_chart', routed: true, why: '"render_*" in routing.tools' },
      { name: 'export_table', exposed: 'export_table', routed: false, why: 'not on the allowlist: forwarded untouched' },
    ]);
    expect(broken).toMatchObject({ name: 'broken', status: 'failed', reason: expect.stringMatching(/failed to start/), stderr: expect.stringMatching(/missing API_KEY/) });
    expect(off).toEqual({ name: 'off', status: 'disabled', tools: [] });
    const text = spawnSync(process.execPath, [CLI, 'check', '--config', config], { cwd: base, encoding: 'utf8', env: { ...process.env, HOME: base } });
    expect(text.stdout).toMatch(/server broken: FAILED to start/);
    expect(text.stdout).toMatch(/render_chart\s+yes\s+"render_\*" in routing\.tools/);
  });
});
