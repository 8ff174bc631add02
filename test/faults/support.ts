// Shared pieces of the fault tests: a small tmpfs (root only, Linux only; probed once so a test
// that cannot get one is skipped with its reason printed), the built CLI as a child process, and
// file-system checks every fault test ends with.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { mkdtempSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup, tempDir } from '../helpers.js';

export { CLI } from '../helpers.js';

/** Why this machine cannot mount a tmpfs, or undefined when it can. */
export const NO_TMPFS: string | undefined = probeTmpfs();

function probeTmpfs(): string | undefined {
  if (process.platform !== 'linux') return `tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aw-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmdirSync(dir);
    return `mount -t tmpfs failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`;
  }
  execFileSync('umount', [dir], { stdio: 'pipe' });
  rmdirSync(dir);
  return undefined;
}

/** Prints why a test is skipped, so a skip is never silent. */
export function warnSkip(what: string, reason: string | undefined): void {
  if (reason) console.warn(`[skipped] ${what}: ${reason}`);
}

/** A fresh tmpfs of `bytes`, unmounted (then removed) after the test. */
export async function mountTmpfs(bytes: number): Promise<string> {
  const dir = await tempDir('aw-tmpfs-');
  let mounted = false;
  // Registered before the mount, so a failing assertion still unmounts; runs before tempDir's rm.
  onCleanup(() => {
    if (!mounted) return;
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      // Busy (a file still open): detach now, the kernel frees it when the last handle closes.
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
  });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  mounted = true;
  return dir;
}

/** Bytes an unprivileged writer can still put on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return s.bavail * s.bsize;
}

/** Every path under `dir` whose name starts with `.aw-tmp-` (symlinks not followed). */
export async function tempsUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.name.startsWith('.aw-tmp-')) out.push(p);
      else if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Every manifest file under a workspaces root, each parsed (a torn one fails the parse). */
export async function manifestsUnder(root: string): Promise<{ file: string; json: any }[]> {
  const out: { file: string; json: any }[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && path.basename(d) === 'manifests') out.push({ file: p, json: JSON.parse(await fs.readFile(p, 'utf8')) });
    }
  };
  await walk(root);
  return out;
}

/** A file of `bytes` random-looking bytes, written in 1 MiB chunks (fast, and not sparse). */
export async function bigFile(dir: string, name: string, bytes: number): Promise<string> {
  const p = path.join(dir, name);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fh = await fs.open(p, 'w');
  try {
    for (let off = 0; off < bytes; off += chunk.length) {
      chunk.writeUInt32LE(off >>> 20, 0); // Every MiB differs, so no two chunks hash alike.
      await fh.write(chunk, 0, Math.min(chunk.length, bytes - off));
    }
  } finally {
    await fh.close();
  }
  return p;
}

export { alive, startCli, type CliServer } from '../helpers.js';

/** The pid of a process that has exited (and so, for a while, names nobody). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}
