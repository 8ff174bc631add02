// The server killed with SIGKILL while copying a large file (the built CLI as a real child; run
// `npm run build` first). After a restart no half file is visible under a final name, every
// manifest parses, `verify` passes, and the startup sweep removes the dead writer's temp without
// holding up initialize. The sweep never removes a temp whose writer is alive in another process.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onCleanup, sc, tempDir } from '../helpers.js';
import { waitFor } from '../proxy/harness.js';
import { alive, bigFile, CLI, manifestsUnder, startCli, tempsUnder } from './support.js';

const MiB = 1024 * 1024;
const LOCAL_STORE = pathToFileURL(path.join(path.dirname(CLI), 'storage', 'local.js')).href;

/** The first temp under `root` holding at least `min` bytes, with its size. */
async function growingTemp(root: string, min: number): Promise<{ file: string; size: number } | undefined> {
  for (const file of await tempsUnder(root)) {
    const st = await fs.stat(file).catch(() => undefined);
    if (st?.isFile() && st.size >= min) return { file, size: st.size };
  }
  return undefined;
}

describe('SIGKILL mid-copy, then restart', () => {
  it('leaves no half file under a final name; the restart sweeps the temp in the background', { timeout: 90_000 }, async () => {
    const cwd = await tempDir();
    const root = path.join(cwd, 'ws');
    const src = await tempDir();
    const t0 = Date.now();
    const big = await bigFile(src, 'model.bin', 512 * MiB);
    const small = await bigFile(src, 'metrics.csv', 4096);
    const madeMs = Date.now() - t0;

    const a = await startCli({ WORKSPACES_ROOT: root }, cwd);
    const ws = sc(await a.call('ensure_workspace', { dataset: 'tips' }));
    expect(sc(await a.call('route_artifacts', { paths: [small] })).routed).toHaveLength(1);
    const copying = a.call('route_artifacts', { paths: [{ path: big, type: 'model' }] }).then(
      () => 'answered',
      (e: Error) => e.message,
    );
    const temp = await waitFor(() => growingTemp(root, 16 * MiB), 30_000, 'a growing temp file');
    process.kill(a.pid, 'SIGKILL');
    await a.exited;
    // The call dies with the connection, it does not hang.
    expect(await copying).toMatch(/closed/i);
    expect(path.basename(temp.file)).toMatch(new RegExp(`^\\.aw-tmp-${a.pid}-`));
    expect(await tempsUnder(root)).toEqual([temp.file]);
    // (Where the file system clones, the temp is whole at once and the kill lands while it is
    // hashed; either way the final name was never claimed.)
    const left = (await fs.stat(temp.file)).size;

    const t1 = Date.now();
    const b = await startCli({ WORKSPACES_ROOT: root, ARTIFACT_WORKSPACE_LOG: 'debug' }, cwd);
    const initMs = Date.now() - t1;
    await waitFor(async () => (await tempsUnder(root)).length === 0, 15_000, 'the sweep to remove the temp');
    const sweptMs = Date.now() - t1;
    await waitFor(() => /temp sweep: removed 1, kept 0/.test(b.stderr()), 5000, 'the sweep log line');

    const models = path.join(ws.workspace_root, 'models');
    const data = path.join(ws.workspace_root, 'data');
    expect(await fs.readdir(models)).toEqual([]);
    expect(await fs.readdir(data)).toEqual(['metrics.csv']);
    const manifests = await manifestsUnder(root);
    expect(manifests).toHaveLength(1);
    expect(manifests[0]!.json.entries.map((e: any) => path.basename(e.dst))).toEqual(['metrics.csv']);
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--root', root], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);

    // The restarted server routes the same big file, whole.
    const again = sc(await b.call('route_artifacts', { dataset: 'tips', paths: [{ path: big, type: 'model' }] }));
    expect(again.routed[0]).toMatchObject({ bytes: 512 * MiB, dst: expect.stringMatching(/models\/model\.bin$/) });
    expect(await tempsUnder(root)).toEqual([]);
    console.info(
      `[sigkill] 512 MiB source made in ${madeMs} ms; killed with ${(temp.size / MiB).toFixed(0)} MiB copied (${(left / MiB).toFixed(0)} MiB on disk); ` +
        `restart initialized in ${initMs} ms, temp swept ${sweptMs} ms after spawn`,
    );
  });

  it('a temp whose writer is alive in another process survives the restart sweep', async () => {
    const root = await tempDir();
    const dest = path.join(root, 'tips', '20250101_000000', 'models');
    await fs.mkdir(dest, { recursive: true });
    // A writer process: the real store, fed from its stdin, so the copy stays open until we say.
    const script = `
      const { LocalStore } = await import(${JSON.stringify(LOCAL_STORE)});
      const store = await LocalStore.open(${JSON.stringify(root)});
      const r = await store.putBytes(process.stdin, ['tips', '20250101_000000', 'models'], 'model.bin');
      process.stdout.write(JSON.stringify(r));`;
    const writer = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    onCleanup(() => void (writer.exitCode === null && writer.kill('SIGKILL')));
    let out = '';
    writer.stdout.on('data', (d) => (out += String(d)));
    const done = new Promise<number | null>((r) => writer.once('exit', r));
    writer.stdin.write(Buffer.alloc(MiB, 1));
    const temp = await waitFor(() => growingTemp(root, MiB), 10_000, 'the writer\'s temp');
    expect(path.basename(temp.file)).toMatch(new RegExp(`^\\.aw-tmp-${writer.pid}-`));
    expect(alive(writer.pid!)).toBe(true);

    const srv = await startCli({ WORKSPACES_ROOT: root, ARTIFACT_WORKSPACE_LOG: 'debug' }, root);
    await waitFor(() => /temp sweep: removed 0, kept 1 in use/.test(srv.stderr()), 10_000, 'the sweep to finish');
    expect(await tempsUnder(root)).toEqual([temp.file]);

    writer.stdin.end(Buffer.alloc(MiB, 2));
    expect(await done).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ dst: path.join(dest, 'model.bin'), bytes: 2 * MiB, deduplicated: false });
    expect((await fs.stat(path.join(dest, 'model.bin'))).size).toBe(2 * MiB);
    expect(await tempsUnder(root)).toEqual([]);
  });
});
