// Per-session state, built on handles (./handle.ts). A session (one stdio process, or one HTTP
// session at 2025-11-25) starts a new run for a dataset the first time it touches it and keeps
// using that run after. A stateless session (one request at 2026-07-28, which has no sessions)
// takes the dataset's `latest` run instead, or makes one if it has none, so that a client that
// names no handle still files into one run call after call, whichever process answers. A handle
// names its run outright, in either kind. Security-relevant state lives on this object, never in a
// module global.
import type { RunTarget } from '../workspace/types.js';
import { HandleError, parseHandle } from './handle.js';
import { WorkspaceError, type Workspaces } from './layout.js';
import { datasetSlug } from './slug.js';

export interface Ensured {
  run: RunTarget;
  /** True when this call made the run. */
  created: boolean;
}

export class WorkspaceSession {
  // Promises, not values: two concurrent first touches of a dataset must share one run.
  private readonly runs = new Map<string, Promise<Ensured>>();
  private currentSlug: string | undefined;

  constructor(
    readonly workspaces: Workspaces,
    readonly opts: { stateless?: boolean } = {},
  ) {}

  /** Nothing carries over between requests: first touches take `latest`, not a new run. */
  get stateless(): boolean {
    return this.opts.stateless === true;
  }

  get current(): string | undefined {
    return this.currentSlug;
  }

  /**
   * The session's run for a dataset (name or path), made on first touch (a stateless session
   * takes the dataset's `latest` run, if it has one); it becomes current. `created` is true only
   * for the call that made the run.
   */
  async ensure(dataset?: string, opts: { newRun?: boolean } = {}): Promise<Ensured> {
    const slug = dataset !== undefined && dataset !== '' ? datasetSlug(dataset) : (this.currentSlug ?? 'default');
    const known = this.runs.get(slug);
    let p: Promise<Ensured>;
    if (known && !opts.newRun) {
      p = known.then(({ run }) => ({ run, created: false }));
    } else {
      p = !opts.newRun && this.stateless ? this.latestOrNew(slug) : this.workspaces.createRun(slug).then((run) => ({ run, created: true }));
      this.runs.set(slug, p);
      // A failed creation must not poison later attempts.
      p.catch(() => {
        if (this.runs.get(slug) === p) this.runs.delete(slug);
      });
    }
    const ensured = await p;
    this.currentSlug = slug;
    return ensured;
  }

  /**
   * The run a handle names becomes this session's run for its dataset, and current. A handle that
   * is malformed, or names no run, is refused (HandleError) and changes nothing.
   */
  async adopt(handle: unknown): Promise<RunTarget> {
    const { dataset, runId } = parseHandle(handle);
    const run = await this.workspaces.openRun(dataset, runId).catch((e: unknown) => {
      throw e instanceof WorkspaceError ? new HandleError(e.message) : e;
    });
    this.runs.set(dataset, Promise.resolve({ run, created: false }));
    this.currentSlug = dataset;
    return run;
  }

  /**
   * Makes a dataset current without making anything on disk: a call that names a dataset (a hint)
   * decides where the session's next artifacts go, but a run is made only when something is filed
   * there, so read-only tools leave no empty workspaces behind. Returns the slug.
   */
  select(dataset: string): string {
    const slug = datasetSlug(dataset);
    this.currentSlug = slug;
    return slug;
  }

  /** The current run, if the session has made (or adopted) one for its current dataset. */
  async currentRun(): Promise<RunTarget | undefined> {
    if (!this.currentSlug) return undefined;
    return this.runFor(this.currentSlug);
  }

  /** The session's run for a slug, if it made or adopted one. */
  runFor(slug: string): Promise<RunTarget> | undefined {
    return this.runs.get(slug)?.then((e) => e.run);
  }

  private async latestOrNew(slug: string): Promise<Ensured> {
    const latest = await this.workspaces.latest(slug);
    const run = latest !== undefined ? await this.workspaces.findRun(slug, latest) : undefined;
    if (run) return { run: await this.workspaces.openRun(slug, run.runId), created: false };
    return { run: await this.workspaces.createRun(slug), created: true };
  }
}
