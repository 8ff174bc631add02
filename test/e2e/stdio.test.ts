// The real binary over stdio: `node dist/cli.js serve` as a child process (run `npm run build` first;
// `npm test` does).
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, sc, startCli, tempDir } from '../helpers.js';


async function spawnServer(env: Record<string, string>, cwd: string) {
  const srv = await startCli(env, cwd);
  return { ...srv, call: async (name: string, a: Record<string, unknown> = {}) => sc(await srv.call(name, a)) };
}

describe('artifact-workspace serve over stdio', () => {
  it('serves our four tools; logs only on stderr', async () => {
    const cwd = await tempDir();
    const root = path.join(cwd, 'ws');
    const srv = await spawnServer({ WORKSPACES_ROOT: root }, cwd);
    const { tools } = await srv.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['compare_runs', 'ensure_workspace', 'get_workspace_info', 'route_artifacts']);
    const ws = await srv.call('ensure_workspace', { dataset: 'tips.csv' });
    expect(ws.workspace_root).toBe(path.join(root, 'tips', ws.run_id));
    expect(srv.stderr()).toMatch(/workspaces root/);
  });

  it('defaults to .uploaded/_workspaces beside the config (or cwd), and reports the root', async () => {
    const cwd = await tempDir();
    const srv = await spawnServer({}, cwd);
    const info = await srv.call('get_workspace_info');
    expect(info.workspaces_root).toBe(path.join(cwd, '.uploaded', '_workspaces'));
  });

  it('an invalid config file stops startup with the exact key on stderr and exit code 2', async () => {
    const cwd = await tempDir();
    await fs.writeFile(path.join(cwd, 'mcp.config.json'), '{"routing": {"mdoe": "copy"}}');
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [CLI, 'serve'], { cwd, input: '', encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/routing\.mdoe: unknown key \(did you mean "mode"\?\)/);
  });

  it('two processes on one root and dataset: distinct runs, every file present, every manifest valid JSON', async () => {
    const cwd = await tempDir();
    const root = path.join(cwd, 'ws');
    const src = path.join(cwd, 'src');
    await fs.mkdir(src);
    const files = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const p = path.join(src, `plot_${i}.png`);
        await fs.writeFile(p, `bytes-${i}`);
        return p;
      }),
    );
    const [a, b] = await Promise.all([spawnServer({ WORKSPACES_ROOT: root }, cwd), spawnServer({ WORKSPACES_ROOT: root }, cwd)]);
    const [ra, rb] = await Promise.all(
      [a, b].map(async (s) => {
        const ws = await s.call('ensure_workspace', { dataset: 'tips' });
        await Promise.all(files.map((f) => s.call('route_artifacts', { paths: [f] })));
        return ws.run_id as string;
      }),
    );
    expect(ra).not.toBe(rb);
    for (const run of [ra!, rb!]) {
      const plots = await fs.readdir(path.join(root, 'tips', run, 'plots'));
      expect(plots.sort()).toEqual(files.map((f) => path.basename(f)).sort());
      const manifests = await fs.readdir(path.join(root, 'tips', run, 'manifests'));
      expect(manifests).toHaveLength(10);
      for (const m of manifests) JSON.parse(await fs.readFile(path.join(root, 'tips', run, 'manifests', m), 'utf8'));
    }
  });
});
