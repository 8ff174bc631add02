// `artifact-workspace demo` end to end: the proxy in front of the bundled example server, real files.
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

describe('artifact-workspace demo', () => {
  it('routes a real plot, model, metrics and report into tips/<run>, and keeps the originals', async () => {
    const dir = await tempDir();
    const r = spawnSync(process.execPath, [CLI, 'demo', '--dir', dir], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/describe\(.*\n\s+\(not on the allowlist: forwarded untouched, nothing routed\)/);
    const tips = path.join(dir, '.uploaded', '_workspaces', 'tips');
    const runs = (await fs.readdir(tips)).filter((n) => /^\d{8}_\d{6}/.test(n));
    expect(runs).toHaveLength(1);
    const run = path.join(tips, runs[0]!);
    expect(await fs.readlink(path.join(tips, 'latest'))).toBe(runs[0]);
    const ls = async (sub: string) => (await fs.readdir(path.join(run, sub))).sort();
    const png = (await ls('plots')).find((n) => n.endsWith('.png'))!;
    expect((await fs.readFile(path.join(run, 'plots', png))).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const pdf = (await ls('reports')).find((n) => n.endsWith('.pdf'))!;
    const pdfText = (await fs.readFile(path.join(run, 'reports', pdf))).toString('latin1');
    expect(pdfText.startsWith('%PDF-')).toBe(true);
    expect(pdfText.trimEnd().endsWith('%%EOF')).toBe(true);
    expect(await ls('models')).toEqual(['model.json']);
    expect(JSON.parse(await fs.readFile(path.join(run, 'metrics', 'metrics.json'), 'utf8')).accuracy).toBeGreaterThan(0);
    expect((await ls('uploads'))[0]).toMatch(/tips\.csv$/);
    expect(await ls('manifests')).toHaveLength(4);
    // copy mode: the tool's own outputs are still where it wrote them
    expect(await fs.readdir(path.join(dir, 'ds-server-output', 'plots'))).toContain(png);
    expect(r.stdout).toContain('Manifests');
  });
});
