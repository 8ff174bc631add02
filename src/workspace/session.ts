// Per-session state: a session (one stdio process, or one HTTP session) starts a new run for a
// dataset the first time it touches it and keeps using that run after. Security-relevant state
// lives on this object, never in a module global.
import type { RunTarget } from '../workspace/types.js';
import type { Workspaces } from './layout.js';
import { datasetSlug } from './slug.js';

export interface Ensured {
  run: RunTarget;
  /** True when this call made the run. */
  created: boolean;
}

export class WorkspaceSession {
  // Promises, not values: two concurrent first touches of a dataset must share one run.
  private readonly runs = new Map<string, Promise<RunTarget>>();
  private currentSlug: string | undefined;

  constructor(readonly workspaces: Workspaces) {}

  get current(): string | undefined {
    return this.currentSlug;
  }

  /** The session's run for a dataset (name or path), made on first touch; it becomes current. */
  async ensure(dataset?: string, opts: { newRun?: boolean } = {}): Promise<Ensured> {
    const slug = dataset !== undefined && dataset !== '' ? datasetSlug(dataset) : (this.currentSlug ?? 'default');
    let created = false;
    let p = this.runs.get(slug);
    if (!p || opts.newRun) {
      created = true;
      p = this.workspaces.createRun(slug);
      this.runs.set(slug, p);
      // A failed creation must not poison later attempts.
      p.catch(() => {
        if (this.runs.get(slug) === p) this.runs.delete(slug);
      });
    }
    const run = await p;
    this.currentSlug = slug;
    return { run, created };
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

  /** The current run, if the session has made one for its current dataset. */
  async currentRun(): Promise<RunTarget | undefined> {
    if (!this.currentSlug) return undefined;
    return this.runs.get(this.currentSlug);
  }

  /** The session's run for a slug, if it made one. */
  runFor(slug: string): Promise<RunTarget> | undefined {
    return this.runs.get(slug);
  }
}
