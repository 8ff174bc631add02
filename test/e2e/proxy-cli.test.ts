// The built CLI as a host runs it: `node dist/cli.js serve --config FILE` as a child over stdio,
// in front of a fixture server. Needs `npm run build` first (npm test does it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { onCleanup, tempDir } from '../helpers.js';
import { fixtureEntry, waitFor } from '../proxy/harness.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const built = fs.existsSync(CLI);

async function startCli(base: string) {
  const out = path.join(base, 'out');
  const config = path.join(base, 'mcp.config.json');
  fs.writeFileSync(config, JSON.stringify({ workspace: { root: path.join(base, 'ws') }, routing: { tools: ['@default', 'files'] }, mcpServers: { ds: fixtureEntry({ FIXTURE_OUT: out }) } }));
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', config], cwd: base, stderr: 'pipe', env: { ...(process.env as Record<string, string>), ARTIFACT_WORKSPACE_LOG: 'info' } });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  onCleanup(() => client.close());
  await client.connect(transport);
  const call = (name: string, args: Record<string, unknown> = {}) =>
    client.request({ method: 'tools/call', params: { name, arguments: args } }) as Promise<CallToolResult>;
  return { client, transport, call, stderr: () => stderr };
}

/** The pid of the fixture started last. */
const fixturePid = (stderr: string) => Number([...stderr.matchAll(/fixture (\d+) ready/g)].pop()?.[1] ?? 0);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('artifact-workspace serve (built CLI) as a proxy', () => {
  it.skipIf(!built)('lists downstream tools on the first tools/list, routes, survives a crash, stops its child on exit', async () => {
    const base = await tempDir('aw-e2e-');
    const h = await startCli(base);
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['ensure_workspace', 'echo', 'files', 'ds__ensure_workspace']));

    const res = await h.call('files', { csv_path: path.join(base, 'tips.csv') });
    const links = res.content.filter((b) => b.type === 'resource_link');
    expect(links).toHaveLength(3);
    expect(fs.readdirSync(path.join(base, 'ws', 'tips'))).toContain('latest');

    const crashed = await h.call('crash');
    expect(crashed.isError).toBe(true);
    expect(JSON.stringify(crashed.content)).toContain('something broke at step 2');
    expect((await h.call('echo', { text: 'again' })).structuredContent).toEqual({ echoed: 'again' });

    const pid = await waitFor(() => fixturePid(h.stderr()), 3000, 'the fixture pid');
    expect(alive(pid)).toBe(true);
    await h.client.close();
    await waitFor(() => !alive(pid), 8000, 'the fixture to stop after the proxy closed');
  });

  it.skipIf(!built)('SIGTERM stops the downstream children too', async () => {
    const base = await tempDir('aw-e2e-');
    const h = await startCli(base);
    await h.client.listTools();
    const pid = await waitFor(() => fixturePid(h.stderr()), 3000, 'the fixture pid');
    process.kill(h.transport.pid!, 'SIGTERM');
    await waitFor(() => !alive(pid), 8000, 'the fixture to stop after SIGTERM');
  });
});
