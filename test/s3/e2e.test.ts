// Team workspaces on one bucket, through real server processes and the CLI (README "S3
// workspaces"): four servers with separate working folders route into one bucket at once; a fifth
// sees every run and reads an artifact back as a resource; verify passes, then catches an object
// altered behind its back; a 300 MB artifact goes up as multipart, and `kill -9` mid-upload
// leaves nothing under a final key, the next start's sweep aborting what was left.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { alive, CLI, onCleanup, sc, startCli, tempDir } from '../helpers.js';
import { client, haveEngine, listAll, newBucket, uploadsOf } from './engine.js';
import { startFaultProxy } from './fault-proxy.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const S3_ENV = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AWS_'))) as Record<string, string>;

async function bodyOf(bucket: string, key: string): Promise<Buffer> {
  const got = await client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

function cli(args: string[], cwd: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...S3_ENV(), ...env } });
}

describe.skipIf(!haveEngine)('team workspaces on one bucket', () => {
  it('four servers route into one bucket at once; a fifth sees every run and reads an artifact back', async () => {
    const bucket = await newBucket();
    const root = `s3://${bucket}/team`;
    const servers = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const cwd = await tempDir(`aw-s3-${i}-`);
        return { cwd, srv: await startCli({ ...S3_ENV(), WORKSPACES_ROOT: root }, cwd) };
      }),
    );
    const made = await Promise.all(
      servers.map(async ({ cwd, srv }, i) => {
        const ws = sc(await srv.call('ensure_workspace', { dataset: 'tips', new_run: true }));
        expect(ws.workspace_root).toBe(`${root}/tips/${ws.run_id}`);
        const routed: { dst: string; sha256: string }[] = [];
        for (let c = 0; c < 5; c++) {
          const files = await Promise.all(
            ['plot.png', 'model.pkl', 'metrics.json'].map(async (n, k) => {
              const p = path.join(cwd, `${c}-${n}`);
              await fs.writeFile(p, `server ${i} call ${c} file ${k} ${randomBytes(8).toString('hex')}`);
              return { path: p, type: ['plot', 'model', 'metrics'][k] };
            }),
          );
          const r = await srv.call('route_artifacts', { paths: files, workspace: ws.workspace });
          expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
          const out = sc(r);
          expect(out.skipped).toEqual([]);
          routed.push(...out.routed);
        }
        return { ws, routed };
      }),
    );
    // Unique run ids; every manifest entry matches its object byte for byte.
    const ids = made.map((m) => m.ws.run_id as string);
    expect(new Set(ids).size).toBe(4);
    const prefix = `s3://${bucket}/`;
    for (const m of made) {
      expect(m.routed).toHaveLength(15);
      const manifests = (await listAll(bucket, `team/tips/${m.ws.run_id}/manifests/`)).filter((o) => o.key.endsWith('.json'));
      expect(manifests).toHaveLength(5);
      for (const mf of manifests) {
        const doc = JSON.parse((await bodyOf(bucket, mf.key)).toString());
        for (const e of doc.entries) {
          expect(e.dst.startsWith(`${root}/tips/${m.ws.run_id}/`)).toBe(true);
          const bytes = await bodyOf(bucket, e.dst.slice(prefix.length));
          expect(sha(bytes)).toBe(e.sha256);
          expect(bytes.length).toBe(e.bytes);
        }
      }
    }
    // No uploads left open, no leases; latest names a run that exists.
    expect(await uploadsOf(bucket)).toEqual([]);
    expect(await listAll(bucket, 'team/.artifact-workspace/uploads/')).toEqual([]);
    const latest = (await bodyOf(bucket, 'team/tips/latest')).toString().trim();
    expect(ids).toContain(latest);
    // A fifth process sees them all, and reads an artifact back as a resource.
    const fifth = await startCli({ ...S3_ENV(), WORKSPACES_ROOT: root }, await tempDir());
    const info = sc(await fifth.call('get_workspace_info', { dataset: 'tips' }));
    expect([...info.runs].sort()).toEqual([...ids].sort());
    const one = made[2]!.routed[0]!;
    const read = await fifth.client.readResource({ uri: one.dst });
    const c = read.contents[0] as { blob?: string; text?: string };
    expect(sha(c.blob !== undefined ? Buffer.from(c.blob, 'base64') : Buffer.from(c.text!))).toBe(one.sha256);
    // Outside the root, or hidden bookkeeping: not a resource.
    await expect(fifth.client.readResource({ uri: `s3://${bucket}/team/.artifact-workspace/claims/tips` })).rejects.toThrow();
    await expect(fifth.client.readResource({ uri: `s3://${bucket}/elsewhere/x` })).rejects.toThrow();
  });

  it('the CLI reads the bucket: info, ls, verify passes, then reports an object altered behind its back; prune', async () => {
    const bucket = await newBucket();
    const root = `s3://${bucket}/ws`;
    const cwd = await tempDir();
    const srv = await startCli({ ...S3_ENV(), WORKSPACES_ROOT: root }, cwd);
    const ws = sc(await srv.call('ensure_workspace', { dataset: 'iris' }));
    const p = path.join(cwd, 'roc.png');
    await fs.writeFile(p, 'png');
    const routed = sc(await srv.call('route_artifacts', { paths: [p] })).routed[0];
    const info = cli(['info', '--root', root, '--json'], cwd);
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ workspaces_root: root });
    const ls = cli(['ls', '--root', root], cwd);
    expect(ls.status, ls.stderr).toBe(0);
    expect(ls.stdout).toContain(ws.run_id);
    const ok = cli(['verify', '--root', root], cwd);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    await client().send(new PutObjectCommand({ Bucket: bucket, Key: routed.dst.slice(`s3://${bucket}/`.length), Body: 'tampered' }));
    const bad = cli(['verify', '--root', root], cwd);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/roc\.png/);
    // The workspace browser reads the bucket too: the run page, and the file by its key.
    const ui = spawn(process.execPath, [CLI, 'ui', '--root', root, '--port', '0'], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, ...S3_ENV() }, stdio: ['ignore', 'ignore', 'pipe'] });
    onCleanup(() => ui.kill('SIGKILL'));
    const base = await new Promise<string>((resolve, reject) => {
      let err = '';
      ui.stderr!.on('data', (d) => {
        err += d;
        const m = /workspace browser at (\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      ui.once('exit', () => reject(new Error(err)));
    });
    const page = await fetch(new URL(`/ui/run/iris/${ws.run_id}`, base));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('roc.png');
    const served = await fetch(new URL(`/ui/file/iris/${ws.run_id}/plots/roc.png`, base));
    expect(served.status).toBe(200);
    expect(await served.text()).toBe('tampered');
    expect((await fetch(new URL(`/ui/file/.artifact-workspace/claims/iris/${ws.run_id}/plots/roc.png`, base))).status).toBe(404);
    // A newer run; prune keeps it and removes the first, objects and claims.
    const second = sc(await srv.call('ensure_workspace', { dataset: 'iris', new_run: true }));
    await srv.call('route_artifacts', { paths: [p] });
    const pruned = cli(['prune', '--root', root, '--keep', '1'], cwd);
    expect(pruned.status, pruned.stdout + pruned.stderr).toBe(0);
    expect(await listAll(bucket, `ws/iris/${ws.run_id}`)).toEqual([]);
    expect(await listAll(bucket, `ws/.artifact-workspace/claims/iris/${ws.run_id}/`)).toEqual([]);
    expect((await listAll(bucket, `ws/iris/${second.run_id}/plots/`)).map((o) => o.key.split('/').pop())).toContain('roc.png');
  });

  it('faults leave tool calls answering with reasons, and nothing partial visible', async () => {
    const cwd = await tempDir();
    const src = path.join(cwd, 'roc.png');
    await fs.writeFile(src, 'png');
    const text = (r: { content: unknown }) => JSON.stringify(r.content);
    // A missing bucket: the server starts, says why, and every call answers with it.
    const missing = await startCli({ ...S3_ENV(), WORKSPACES_ROOT: 's3://no-such-bucket-aw/ws' }, cwd);
    const m = await missing.call('ensure_workspace', { dataset: 'tips' });
    expect(m.isError).toBe(true);
    expect(text(m)).toMatch(/bucket \\?"no-such-bucket-aw\\?" does not exist/);
    expect(missing.stderr()).toMatch(/does not exist.*serving anyway/);
    // Refused credentials.
    const bucket = await newBucket();
    const wrong = await startCli({ ...S3_ENV(), AWS_SECRET_ACCESS_KEY: 'wrong', WORKSPACES_ROOT: `s3://${bucket}/ws` }, cwd);
    const w = await wrong.call('ensure_workspace', { dataset: 'tips' });
    expect(w.isError).toBe(true);
    expect(text(w)).toMatch(/refused the credentials|denied access/);
    // The endpoint goes away after start: the files are skipped with the reason; then it comes back.
    const proxy = await startFaultProxy(process.env.AWS_ENDPOINT_URL_S3!);
    const srv = await startCli({ ...S3_ENV(), AWS_ENDPOINT_URL_S3: proxy.url, WORKSPACES_ROOT: `s3://${bucket}/ws` }, cwd);
    const ws = sc(await srv.call('ensure_workspace', { dataset: 'tips' }));
    proxy.fail({ when: () => true, times: 10_000, answer: 'reset' });
    const down = await srv.call('route_artifacts', { paths: [src] });
    const out = sc(down);
    expect(out.routed).toEqual([]);
    expect(out.skipped[0].reason).toMatch(/cannot reach the S3 endpoint|S3 request .* failed/);
    proxy.clear();
    expect(await listAll(bucket, `ws/tips/${ws.run_id}/plots/`)).toEqual([expect.objectContaining({ key: `ws/tips/${ws.run_id}/plots/` })]);
    const up = sc(await srv.call('route_artifacts', { paths: [src] }));
    expect(up.routed[0].dst).toBe(`s3://${bucket}/ws/tips/${ws.run_id}/plots/roc.png`);
  });

  it('a 300 MB artifact is stored whole as multipart; kill -9 mid-upload leaves nothing under a final key, and the next start sweeps', async () => {
    const bucket = await newBucket();
    const root = `s3://${bucket}/ws`;
    const cwd = await tempDir();
    const big = path.join(cwd, 'model.bin');
    // 300 MB of random-looking bytes, written in chunks (no 300 MB buffer in the test).
    const h = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(big);
      const chunk = randomBytes(4 * 1024 * 1024);
      let i = 0;
      const more = () => {
        while (i < 75) {
          const c = Buffer.from(chunk);
          c.writeUInt32LE(i, 0);
          h.update(c);
          i++;
          if (!out.write(c)) return void out.once('drain', more);
        }
        out.end(resolve);
      };
      out.on('error', reject);
      more();
    });
    const want = h.digest('hex');
    const srv = await startCli({ ...S3_ENV(), WORKSPACES_ROOT: root }, cwd);
    sc(await srv.call('ensure_workspace', { dataset: 'tips' }));
    const r = sc(await srv.call('route_artifacts', { paths: [{ path: big, type: 'model' }] }));
    expect(r.skipped).toEqual([]);
    expect(r.routed[0]).toMatchObject({ sha256: want, bytes: 300 * 1024 * 1024 });
    expect((await listAll(bucket, r.routed[0].dst.slice(`s3://${bucket}/`.length)))[0]?.size).toBe(300 * 1024 * 1024);

    // Again in a process killed mid-upload (as soon as the first part is in flight).
    const env = { PATH: process.env.PATH ?? '', HOME: cwd, ...S3_ENV(), WORKSPACES_ROOT: root };
    const child = spawn(process.execPath, [CLI, 'serve'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    onCleanup(() => child.kill('SIGKILL'));
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'k', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await fs.writeFile(path.join(cwd, 'other.bin'), 'x');
    const big2 = path.join(cwd, 'model2.bin');
    await fs.copyFile(big, big2);
    await fs.appendFile(big2, 'different');
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'route_artifacts', arguments: { dataset: 'tips', paths: [{ path: big2, type: 'model' }] } } });
    const deadline = Date.now() + 60_000;
    while (!(await uploadsOf(bucket)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await uploadsOf(bucket)).length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(alive(child.pid!)).toBe(false);
    // Nothing under a final key but the first, whole model.
    const models = (await listAll(bucket, 'ws/tips/')).filter((o) => o.key.includes('/models/') && !o.key.endsWith('/'));
    expect(models.map((o) => o.size)).toEqual([300 * 1024 * 1024]);
    // The next start's sweep aborts the upload the killed process left, and frees its name.
    const next = await startCli({ ...S3_ENV(), WORKSPACES_ROOT: root }, cwd);
    const until = Date.now() + 30_000;
    while ((await uploadsOf(bucket)).length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await uploadsOf(bucket)).toEqual([]);
    // The sweep logs once it has also dropped the lease and given the name back.
    for (let i = 0; i < 300 && !/temp sweep: removed 1/.test(next.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(next.stderr()).toMatch(/temp sweep: removed 1/);
    expect(await listAll(bucket, 'ws/.artifact-workspace/uploads/')).toEqual([]);
  }, 240_000);
});
