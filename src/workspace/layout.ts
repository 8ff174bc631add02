// The workspaces root and its layout: {root}/{dataset}/{run_id}/{10 subfolders}, and `latest`.
// Only folders are made here; artifact bytes go through src/storage.
import fs from 'node:fs/promises';
import path from 'node:path';
import { SUBDIRS, type RunTarget, type Subdir } from '../routing/types.js';
import { systemClock, type Clock } from '../time.js';
import { compareRunIds, datasetSlug, isRunId, RUN_ID_RE, runIdFor } from './slug.js';
import { RunIndex, type RunIndexOptions } from './index.js';
import { readLatest, writeLatest } from './latest.js';

const MAX_RUNS_PER_SECOND = 10_000;

/** Sort key of a run id (stamp, then numeric suffix; a bare stamp is suffix 1), computed once per id. */
function runKey(id: string): string | undefined {
  const m = RUN_ID_RE.exec(id);
  return m ? `${m[1]}_${String(Number(m[2] ?? 1)).padStart(16, '0')}` : undefined;
}

/** Run ids among `names`, newest first (by key, not by comparing ids pairwise with a regex). */
function runIdsNewestFirst(names: string[]): string[] {
  const keyed: [string, string][] = [];
  for (const n of names) {
    const k = runKey(n);
    if (k !== undefined) keyed.push([k, n]);
  }
  return keyed.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0)).map((e) => e[1]);
}

/** The counts-index cache folder inside the root. */
export const INDEX_DIR = '.aw-index';

export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
}

export class Workspaces {
  private constructor(
    /** Absolute real path of the workspaces root. */
    readonly root: string,
    private readonly clock: Clock,
    /** File counts per run folder, kept valid by stat checks (see ./index.ts). */
    readonly index: RunIndex,
  ) {}

  /** Opens (creating if needed) a workspaces root. The root is resolved once, symlinks included. */
  static async open(root: string, clock: Clock = systemClock, opts: { create?: boolean; index?: RunIndexOptions } = {}): Promise<Workspaces> {
    if (opts.create ?? true) await fs.mkdir(root, { recursive: true });
    else if (!(await fs.stat(root).catch(() => undefined))?.isDirectory()) throw new WorkspaceError(`no workspaces at ${root}`);
    const real = await fs.realpath(root);
    // The index cache lives inside the root (nothing is written outside the workspaces), hidden
    // from resources and from the dataset list by its leading dot.
    return new Workspaces(real, clock, new RunIndex({ dir: path.join(real, INDEX_DIR), ...opts.index }));
  }

  /**
   * The folder of a dataset slug. A slug is already reduced to [a-z0-9_-]; the lstat refuses a
   * dataset folder that someone replaced with a symlink pointing out of the root.
   */
  async datasetDir(slug: string, create: boolean): Promise<string> {
    if (slug !== datasetSlug(slug)) throw new WorkspaceError(`not a dataset slug: ${JSON.stringify(slug)}`);
    const dir = path.join(this.root, slug);
    if (create) await fs.mkdir(dir, { recursive: true });
    const st = await fs.lstat(dir).catch(() => undefined);
    if (st && !st.isDirectory()) throw new WorkspaceError(`${dir} is not a plain folder (a symlink or file stands there)`);
    return dir;
  }

  /** Makes a new run with an exclusive mkdir, so two processes can never share one. */
  async createRun(slug: string): Promise<RunTarget> {
    const dsDir = await this.datasetDir(slug, true);
    const now = this.clock.now();
    for (let n = 1; n <= MAX_RUNS_PER_SECOND; n++) {
      const runId = runIdFor(now, n);
      try {
        await fs.mkdir(path.join(dsDir, runId));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      const run = this.target(slug, runId);
      await Promise.all(SUBDIRS.map((s) => fs.mkdir(run.subdirs[s], { recursive: true })));
      await this.pointLatestAtNewest(dsDir, runId);
      return run;
    }
    throw new WorkspaceError(`more than ${MAX_RUNS_PER_SECOND} runs of ${slug} in one second`);
  }

  /** An existing run; its subfolders are re-made if someone removed them. */
  async openRun(slug: string, runId: string): Promise<RunTarget> {
    if (!isRunId(runId)) throw new WorkspaceError(`not a run id: ${JSON.stringify(runId)} (expected YYYYMMDD_HHMMSS[_n])`);
    const dsDir = await this.datasetDir(slug, false);
    const st = await fs.lstat(path.join(dsDir, runId)).catch(() => undefined);
    if (!st?.isDirectory()) throw new WorkspaceError(`no run ${runId} for dataset ${slug}`);
    const run = this.target(slug, runId);
    await Promise.all(SUBDIRS.map((s) => fs.mkdir(run.subdirs[s], { recursive: true })));
    return run;
  }

  target(slug: string, runId: string): RunTarget {
    const runDir = path.join(this.root, slug, runId);
    const subdirs = Object.fromEntries(SUBDIRS.map((s) => [s, path.join(runDir, s)])) as Record<Subdir, string>;
    return { dataset: slug, runId, runDir, subdirs };
  }

  /** Run ids of a dataset, oldest first. */
  async listRuns(slug: string): Promise<string[]> {
    const dsDir = path.join(this.root, slug);
    const names = await fs.readdir(dsDir, { withFileTypes: true }).catch(() => []);
    return runIdsNewestFirst(names.filter((d) => d.isDirectory()).map((d) => d.name)).reverse();
  }

  /**
   * The newest `n` run ids of a dataset, newest first. Lists names only and stats just the
   * candidates, so a dataset of 10k runs costs one readdir, not 10k stats.
   */
  async recentRuns(slug: string, n: number): Promise<string[]> {
    const dsDir = path.join(this.root, slug);
    const ids = runIdsNewestFirst(await fs.readdir(dsDir).catch(() => [] as string[]));
    const out: string[] = [];
    for (const id of ids) {
      if (out.length >= n) break;
      if ((await fs.lstat(path.join(dsDir, id)).catch(() => undefined))?.isDirectory()) out.push(id);
    }
    return out;
  }

  /** Dataset slugs present under the root. */
  async listDatasets(): Promise<string[]> {
    const names = await fs.readdir(this.root, { withFileTypes: true }).catch(() => []);
    return names
      .filter((d) => d.isDirectory() && d.name === datasetSlug(d.name))
      .map((d) => d.name)
      .sort();
  }

  latest(slug: string): Promise<string | undefined> {
    return readLatest(path.join(this.root, slug));
  }

  /**
   * `latest` names the newest run. Two processes creating runs at once could each write a stale
   * pointer; every writer re-lists after its own write and corrects it, so the last check wins.
   */
  private async pointLatestAtNewest(dsDir: string, ours: string): Promise<void> {
    const slug = path.basename(dsDir);
    let want = ours;
    for (let i = 0; i < 5; i++) {
      const newest = (await this.recentRuns(slug, 1))[0] ?? want;
      want = compareRunIds(newest, want) > 0 ? newest : want;
      await writeLatest(dsDir, want);
      if ((await this.recentRuns(slug, 1))[0] === want) return;
    }
  }
}
