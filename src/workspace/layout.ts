// The workspaces and their layout: {root}/{dataset}/{run_id}/{10 subfolders}, and `latest`. Every
// folder, name and pointer goes through the store; this file decides only what goes where.
import { openStore, type StoreOptions } from '../storage/open.js';
import type { WorkspaceStore } from '../storage/store.js';
import { systemClock, type Clock } from '../time.js';
import { compareRunIds, datasetSlug, isRunId, RUN_ID_RE, runIdFor } from './slug.js';
import { newestManifestNames, SUBDIRS, type Key, type RunCounts, type RunTarget, type Subdir } from './types.js';

const MAX_RUNS_PER_SECOND = 10_000;

/** What the store counts of a run: the ten subfolders, and the newest manifests. */
const RUN_SHAPE = { subfolders: SUBDIRS, newest: { folder: 'manifests', order: (names: string[]) => newestManifestNames(names, Number.POSITIVE_INFINITY) } };

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

export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
}

export class Workspaces {
  constructor(
    readonly store: WorkspaceStore,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Opens (creating if asked) the workspaces at `root`: a folder, or an `s3://` URI. */
  static async open(root: string, clock: Clock = systemClock, opts: StoreOptions = {}): Promise<Workspaces> {
    return new Workspaces(await openStore(root, opts), clock);
  }

  /** Where the workspaces are, as people see it. */
  get root(): string {
    return this.store.root;
  }

  /** A dataset slug is already reduced to [a-z0-9_-]; anything else is refused before any I/O. */
  private check(slug: string): string {
    if (slug !== datasetSlug(slug)) throw new WorkspaceError(`not a dataset slug: ${JSON.stringify(slug)}`);
    return slug;
  }

  /** Makes a new run: its id is claimed by an exclusive create, so two processes can never share one. */
  async createRun(slug: string): Promise<RunTarget> {
    await this.store.ensureFolder([this.check(slug)]);
    const now = this.clock.now();
    for (let n = 1; n <= MAX_RUNS_PER_SECOND; n++) {
      const runId = runIdFor(now, n);
      if (!(await this.store.createFolder([slug, runId]))) continue;
      const run = this.target(slug, runId);
      await this.ensureSubdirs(run);
      await this.pointLatestAtNewest(slug, runId);
      return run;
    }
    throw new WorkspaceError(`more than ${MAX_RUNS_PER_SECOND} runs of ${slug} in one second`);
  }

  /** An existing run; its subfolders are re-made if someone removed them. */
  async openRun(slug: string, runId: string): Promise<RunTarget> {
    if (!isRunId(runId)) throw new WorkspaceError(`not a run id: ${JSON.stringify(runId)} (expected YYYYMMDD_HHMMSS[_n])`);
    const there = await this.store.stat([this.check(slug), runId]);
    if (there?.kind !== 'folder') throw new WorkspaceError(`no run ${runId} for dataset ${slug}`);
    const run = this.target(slug, runId);
    await this.ensureSubdirs(run);
    return run;
  }

  /** An existing run, read-only: nothing is made (info, verify, the CLI). */
  async findRun(slug: string, runId: string): Promise<RunTarget | undefined> {
    if (!isRunId(runId) || slug !== datasetSlug(slug)) return undefined;
    return (await this.store.stat([slug, runId]))?.kind === 'folder' ? this.target(slug, runId) : undefined;
  }

  target(slug: string, runId: string): RunTarget {
    const key: Key = [slug, runId];
    const subdirs = Object.fromEntries(SUBDIRS.map((s) => [s, this.store.locate([...key, s])])) as Record<Subdir, string>;
    return { dataset: slug, runId, key, runDir: this.store.locate(key), subdirs };
  }

  /** Run ids of a dataset, oldest first. */
  async listRuns(slug: string): Promise<string[]> {
    if (slug !== datasetSlug(slug)) return [];
    const entries = await this.store.list([slug]);
    return runIdsNewestFirst(entries.filter((e) => e.kind === 'folder').map((e) => e.name)).reverse();
  }

  /** The newest `n` run ids of a dataset, newest first: one listing, however many runs there are. */
  async recentRuns(slug: string, n: number): Promise<string[]> {
    return (await this.listRuns(slug)).slice(-n).reverse();
  }

  /** Dataset slugs present under the root. */
  async listDatasets(): Promise<string[]> {
    const entries = await this.store.list([]);
    return entries
      .filter((e) => e.kind === 'folder' && e.name === datasetSlug(e.name))
      .map((e) => e.name)
      .sort();
  }

  async latest(slug: string): Promise<string | undefined> {
    if (slug !== datasetSlug(slug)) return undefined;
    const id = await this.store.readLatest(slug);
    return id !== undefined && isRunId(id) ? id : undefined;
  }

  /** Files and bytes per subfolder of a run, and its newest manifests. */
  async counts(run: Pick<RunTarget, 'key'>): Promise<RunCounts> {
    const c = await this.store.runCounts(run.key, RUN_SHAPE);
    return { counts: c.counts as Record<Subdir, number>, bytes: c.bytes, manifests: { newest: c.newest.names, complete: c.newest.complete } };
  }

  private async ensureSubdirs(run: RunTarget): Promise<void> {
    await Promise.all(SUBDIRS.map((s) => this.store.ensureFolder([...run.key, s])));
  }

  /**
   * `latest` names the newest run. Two processes creating runs at once could each write a stale
   * pointer; every writer re-lists after its own write and corrects it, so the last check wins.
   */
  private async pointLatestAtNewest(slug: string, ours: string): Promise<void> {
    let want = ours;
    for (let i = 0; i < 5; i++) {
      const newest = (await this.recentRuns(slug, 1))[0] ?? want;
      want = compareRunIds(newest, want) > 0 ? newest : want;
      await this.store.writeLatest(slug, want, compareRunIds);
      if ((await this.recentRuns(slug, 1))[0] === want) return;
    }
  }
}
