// The person-facing commands of the built binary: info, ls, verify, prune, --help, --version.
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sc, startInMemory, tempDir } from '../helpers.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cwd } });

/** A root with two runs of "tips", each holding a routed plot and model. */
async function populated() {
  const h = await startInMemory();
  const src = await tempDir();
  const runs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const ws = sc(await h.call('ensure_workspace', { dataset: 'tips', new_run: i > 0 }));
    runs.push(ws.run_id);
    await fs.writeFile(path.join(src, 'hist.png'), `png-${i}`);
    await fs.writeFile(path.join(src, 'model.pkl'), `model-${i}`);
    sc(await h.call('route_artifacts', { result: { plot_path: path.join(src, 'hist.png'), model_path: path.join(src, 'model.pkl') } }));
  }
  return { root: h.root, runs, cwd: src };
}

describe('artifact-workspace CLI', () => {
  it('--version and --help', async () => {
    const cwd = await tempDir();
    const pkg = JSON.parse(await fs.readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(cli(['--version'], cwd).stdout.trim()).toBe(pkg.version);
    for (const sub of ['serve', 'demo', 'info', 'ls', 'verify', 'prune']) {
      const r = cli([sub, '--help'], cwd);
      expect(r.status, sub).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: artifact-workspace ${sub}`));
    }
  });

  it('info and ls print tables and JSON', async () => {
    const { root, runs, cwd } = await populated();
    const all = cli(['info', '--root', root], cwd);
    expect(all.status).toBe(0);
    expect(all.stdout).toMatch(/dataset\s+runs\s+latest\s+files\s+size/);
    expect(all.stdout).toMatch(new RegExp(`tips\\s+2\\s+${runs[1]}`));
    const one = JSON.parse(cli(['info', 'tips', '--root', root, '--json'], cwd).stdout);
    expect(one).toMatchObject({ dataset: 'tips', run_id: runs[1], counts: { plots: 1, models: 1 } });
    const ls = cli(['ls', 'tips', '--root', root], cwd);
    expect(ls.stdout).toMatch(new RegExp(`${runs[1]}.*latest`));
    expect(JSON.parse(cli(['ls', 'tips', '--root', root, '--json'], cwd).stdout).runs).toHaveLength(2);
    expect(cli(['info', 'nope', '--root', root], cwd).status).toBe(1);
  });

  it('verify passes, then names each drifted and missing file with a non-zero exit', async () => {
    const { root, runs, cwd } = await populated();
    const ok = cli(['verify', '--root', root], cwd);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/4 file\(s\) checked, 0 problem\(s\)/);
    const plot = path.join(root, 'tips', runs[0]!, 'plots', 'hist.png');
    const model = path.join(root, 'tips', runs[1]!, 'models', 'model.pkl');
    await fs.writeFile(plot, 'tampered');
    await fs.rm(model);
    const bad = cli(['verify', '--root', root], cwd);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`DRIFTED  ${plot}`);
    expect(bad.stdout).toContain(`MISSING  ${model}`);
    expect(cli(['verify', `tips/${runs[1]}`, '--root', root, '--json'], cwd).stdout).toMatch(/"problem": "missing"/);
    expect(cli(['verify', 'tips/../../etc', '--root', root], cwd).stderr).toMatch(/not a run id/);
  });

  it('verify catches a changed byte that keeps the size', async () => {
    const { root, runs, cwd } = await populated();
    const plot = path.join(root, 'tips', runs[0]!, 'plots', 'hist.png');
    const bytes = await fs.readFile(plot);
    bytes[0] = bytes[0]! ^ 1;
    await fs.writeFile(plot, bytes);
    const bad = cli(['verify', '--root', root, '--json'], cwd);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).problems).toEqual([{ dst: plot, problem: 'drifted', detail: expect.stringMatching(/^sha256 [0-9a-f]{12}… \(5 B\), manifest says [0-9a-f]{12}… \(5 B\)$/) }]);
  });

  it('verify reports torn and ill-typed manifests (and checks every other run), and an unknown target fails', async () => {
    const { root, runs, cwd } = await populated();
    const manifests = path.join(root, 'tips', runs[0]!, 'manifests');
    const [good] = await fs.readdir(manifests);
    const m = JSON.parse(await fs.readFile(path.join(manifests, good!), 'utf8'));
    await fs.writeFile(path.join(manifests, 'manifest_20990101_000000_000.json'), JSON.stringify({ ...m, entries: [null] }));
    await fs.writeFile(path.join(manifests, 'manifest_20990101_000000_001.json'), '{"schema":1,"entr');
    const r = cli(['verify', '--root', root, '--json'], cwd);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.checked).toBe(4);
    expect(out.problems.map((p: { problem: string; detail: string }) => [p.problem, p.detail])).toEqual([
      ['manifest', expect.stringMatching(/^entries\[0\] is not a manifest entry/)],
      ['manifest', expect.stringMatching(/not valid JSON/)],
    ]);
    // get_workspace_info over the same run still answers, with only well-formed entries.
    expect(cli(['info', `tips/${runs[0]}`, '--root', root, '--json'], cwd).status).toBe(0);
    expect(cli(['verify', 'nope', '--root', root], cwd)).toMatchObject({ status: 1, stderr: expect.stringMatching(/no runs for dataset "nope"/) });
    expect(cli(['verify', 'tips/20200101_000000', '--root', root], cwd)).toMatchObject({ status: 1, stderr: expect.stringMatching(/no run 20200101_000000/) });
  });

  it('prune --keep 1: dry run removes nothing; the real run keeps the newest and never latest', async () => {
    const { root, runs, cwd } = await populated();
    // Point latest at the OLDER run: prune must keep it even though it is not among the newest 1.
    await fs.rm(path.join(root, 'tips', 'latest'));
    await fs.symlink(runs[0]!, path.join(root, 'tips', 'latest'));
    const dry = cli(['prune', '--keep', '0', '--dry-run', '--root', root], cwd);
    expect(dry.stdout).toMatch(new RegExp(`would remove tips/${runs[1]}`));
    expect((await fs.readdir(path.join(root, 'tips'))).sort()).toEqual([...runs, 'latest'].sort());
    const real = cli(['prune', '--keep', '0', '--root', root], cwd);
    expect(real.status).toBe(0);
    expect(real.stdout).toMatch(/freed .* in 1 run\(s\)/);
    expect((await fs.readdir(path.join(root, 'tips'))).sort()).toEqual([runs[0], 'latest'].sort());
    expect(cli(['prune', '--keep', 'x', '--root', root], cwd).status).not.toBe(0);
  });
});

describe('prune never leaves the root', () => {
  it('refuses a dataset folder that is a symlink, and removes nothing behind it', async () => {
    const root = await tempDir();
    const outside = await tempDir();
    for (const r of ['20240101_000000', '20240102_000000']) {
      await fs.mkdir(path.join(outside, r, 'important'), { recursive: true });
      await fs.writeFile(path.join(outside, r, 'important', 'thesis.tex'), 'years of work');
    }
    await fs.symlink(outside, path.join(root, 'victim'));
    const r = cli(['prune', '--keep', '1', 'victim', '--root', root], root);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not a plain folder/);
    expect(await fs.readFile(path.join(outside, '20240101_000000', 'important', 'thesis.tex'), 'utf8')).toBe('years of work');
  });
});

describe('serve --transport http off loopback', () => {
  it('refuses to start without a token', async () => {
    const cwd = await tempDir();
    const r = spawnSync(process.execPath, [CLI, 'serve', '--transport', 'http', '--host', '0.0.0.0', '--port', '0', '--root', path.join(cwd, 'ws')], { cwd, encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/without authentication; set --token/);
  });
});
