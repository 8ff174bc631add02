// The startup sweep: removes the temp files (and temp folders) that writers killed mid-copy left
// in the workspaces. A temp name carries its writer's pid (`.aw-tmp-<pid>-<random>`), so a temp
// is removed when that process is gone, or when it is older than a day whoever wrote it (names
// from before pids were recorded, a pid reused after a reboot). A live writer's temp is never
// touched: its pid answers, and a file being written is never a day old. The decision is the pure
// `staleReason`; the walk runs in the background, bounded, yielding between folders.
import fs from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { TEMP_PREFIX } from './local-io.js';

/** A day: older temps are removed whatever their pid says. */
export const MAX_TEMP_AGE_MS = 24 * 60 * 60_000;

// The `latest` pointer is swapped through a `.latest-<random>` link (src/workspace/latest.ts);
// it carries no pid, so only the age rule applies to a leftover one.
const LATEST_PREFIX = '.latest-';
const PID_NAME = /^\.aw-tmp-(\d{1,10})-[0-9a-f]+$/;

export interface SweepOptions {
  /** Temps older than this are removed whatever their pid (ms, default a day). */
  maxAgeMs?: number;
  /** Folder levels below the root that are searched (default 3: dataset, run, run subfolder). */
  depth?: number;
  /** Most folders read in one sweep (default 100,000); the rest waits for the next start. */
  maxDirs?: number;
  /** Whether a process is running (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  now?: () => number;
}

export interface SweepReport {
  removed: string[];
  /** Temps left in place (their writer is alive and they are young). */
  kept: number;
  dirs: number;
  /** The folder bound was hit. */
  truncated: boolean;
  /** Folders or temps that could not be read or removed (left for the next sweep). */
  errors: number;
}

/** The writer's pid in a temp name, if it carries one. Pure. */
export function tempPid(name: string): number | undefined {
  const m = PID_NAME.exec(name);
  const pid = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

export const isTempName = (name: string): boolean => name.startsWith(TEMP_PREFIX) || name.startsWith(LATEST_PREFIX);

/**
 * Why a temp may go, or null when it must stay. Pure: the liveness probe is passed in.
 * Our own pid is always alive; a pid-less name only ages out.
 */
export function staleReason(name: string, mtimeMs: number, now: number, isAlive: (pid: number) => boolean, maxAgeMs = MAX_TEMP_AGE_MS): string | null {
  if (!isTempName(name)) return null;
  if (now - mtimeMs > maxAgeMs) return 'older than the age limit';
  const pid = tempPid(name);
  if (pid !== undefined && pid !== process.pid && !isAlive(pid)) return `writer ${pid} is gone`;
  return null;
}

/** True unless the OS says no such process (EPERM means it exists under another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Walks `root` (symlinks never followed) and removes stale temps. Never throws. */
export async function sweepTemps(root: string, opts: SweepOptions = {}): Promise<SweepReport> {
  const depth = opts.depth ?? 3;
  const maxDirs = opts.maxDirs ?? 100_000;
  const isAlive = opts.isAlive ?? pidAlive;
  const now = opts.now ?? Date.now;
  const report: SweepReport = { removed: [], kept: 0, dirs: 0, truncated: false, errors: 0 };
  const stack: { dir: string; level: number }[] = [{ dir: root, level: 0 }];
  while (stack.length > 0) {
    if (report.dirs >= maxDirs) {
      report.truncated = true;
      break;
    }
    const { dir, level } = stack.pop()!;
    report.dirs++;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      report.errors++;
      continue;
    }
    for (const d of entries) {
      const p = path.join(dir, d.name);
      if (isTempName(d.name)) await sweepOne(p, d.name, now(), isAlive, opts.maxAgeMs, report);
      // Dirent types come from lstat: a symlinked folder is not entered.
      else if (d.isDirectory() && level < depth) stack.push({ dir: p, level: level + 1 });
    }
    // One folder at a time, so a large root never holds up the requests being served.
    await yieldNow();
  }
  return report;
}

async function sweepOne(p: string, name: string, now: number, isAlive: (pid: number) => boolean, maxAgeMs: number | undefined, report: SweepReport): Promise<void> {
  const st = await fs.lstat(p).catch(() => undefined);
  if (!st) return; // Gone already: its writer finished.
  if (staleReason(name, st.mtimeMs, now, isAlive, maxAgeMs) === null) {
    report.kept++;
    return;
  }
  try {
    // rm never follows a symlink: a planted `.aw-tmp-x -> /elsewhere` loses only the link.
    await fs.rm(p, { recursive: true, force: true });
    report.removed.push(p);
  } catch {
    report.errors++;
  }
}

/**
 * Starts a sweep of the workspaces root without waiting for it (startup must not be held up),
 * and logs what it did. The returned promise is for tests; it never rejects.
 */
export function startTempSweep(root: string, log: Logger, opts: SweepOptions = {}): Promise<SweepReport> {
  const t0 = Date.now();
  return yieldNow()
    .then(() => sweepTemps(root, opts))
    .then((r) => {
      const msg = `temp sweep: removed ${r.removed.length}, kept ${r.kept} in use, ${r.dirs} folders in ${Date.now() - t0} ms${r.truncated ? ' (folder limit reached; the rest waits for the next start)' : ''}${r.errors ? `, ${r.errors} not readable` : ''}`;
      if (r.removed.length || r.truncated || r.errors) log.info(msg);
      else log.debug(msg);
      return r;
    });
}
