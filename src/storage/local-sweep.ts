// The startup sweep: removes the temp files (and temp folders) that writers killed mid-copy left
// in the workspaces. A temp name carries its writer's pid (`.aw-tmp-<pid>-<random>`), so a temp
// is removed when that process is gone, or when it is older than a day whoever wrote it (names
// from before pids were recorded, a pid reused after a reboot). A live writer's temp is never
// touched: its pid answers, and a file being written is never a day old. The decision is the pure
// `staleReason`; the walk runs in the background, bounded, yielding between folders.
import fs from 'node:fs/promises';
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { SweepReport } from './store.js';
import { Folder, removeTreeIn } from './local-folder.js';
import { TEMP_PREFIX } from './local-io.js';

/** A day: older temps are removed whatever their pid says. */
export const MAX_TEMP_AGE_MS = 24 * 60 * 60_000;

// The `latest` pointer is swapped through a `.latest-<random>` link (./local.ts); it carries no
// pid, so only the age rule applies to a leftover one.
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

/** Walks the workspaces from `root` (every level entered by descriptor, links never followed) and removes stale temps. Never throws. */
export async function sweepTemps(root: Folder, opts: SweepOptions = {}): Promise<SweepReport> {
  const ctx: Walk = {
    depth: opts.depth ?? 3,
    maxDirs: opts.maxDirs ?? 100_000,
    isAlive: opts.isAlive ?? pidAlive,
    now: opts.now ?? Date.now,
    maxAgeMs: opts.maxAgeMs,
    report: { removed: [], kept: 0, dirs: 1, truncated: false, errors: 0 },
  };
  await scan(root, 0, ctx);
  return ctx.report;
}

interface Walk {
  depth: number;
  maxDirs: number;
  isAlive: (pid: number) => boolean;
  now: () => number;
  maxAgeMs?: number;
  report: SweepReport;
}

/** Depth first, holding one open folder per level; yields after each folder so serving is never held up. */
async function scan(dir: Folder, level: number, w: Walk): Promise<void> {
  const r = w.report;
  try {
    for (const d of await dir.list()) {
      if (isTempName(d.name)) await sweepOne(dir, d.name, w.now(), w.isAlive, w.maxAgeMs, r);
      // Dirent types come from lstat: a symlinked folder is not entered.
      else if (d.isDirectory() && level < w.depth) {
        if (r.dirs >= w.maxDirs) {
          r.truncated = true;
          return;
        }
        r.dirs++;
        const sub = await dir.child(d.name).catch(() => undefined);
        if (!sub) {
          r.errors++;
          continue;
        }
        try {
          await scan(sub, level + 1, w);
        } finally {
          await sub.close();
        }
        if (r.truncated) return;
      }
    }
  } catch {
    r.errors++;
  }
  await yieldNow();
}

async function sweepOne(dir: Folder, name: string, now: number, isAlive: (pid: number) => boolean, maxAgeMs: number | undefined, report: SweepReport): Promise<void> {
  const st = await fs.lstat(dir.at(name)).catch(() => undefined);
  if (!st) return; // Gone already: its writer finished.
  if (staleReason(name, st.mtimeMs, now, isAlive, maxAgeMs) === null) {
    report.kept++;
    return;
  }
  try {
    // Never follows a symlink: a planted `.aw-tmp-x -> /elsewhere` loses only the link.
    await removeTreeIn(dir, name);
    report.removed.push(`${dir.shown}/${name}`);
  } catch {
    report.errors++;
  }
}
