// The startup sweep of the store's leftover temps (a writer killed mid-copy), run in the
// background so a host's initialize is never held up, and logged.
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { SweepReport, WorkspaceStore } from '../storage/store.js';

/** Starts the sweep without waiting for it; the promise (for tests) never rejects. */
export function startTempSweep(store: WorkspaceStore, log: Logger, opts: Parameters<WorkspaceStore['sweepTemps']>[0] = {}, now: () => number = Date.now): Promise<SweepReport | undefined> {
  const t0 = now();
  return yieldNow()
    .then(() => store.sweepTemps(opts))
    .then((r) => {
      const msg = `temp sweep: removed ${r.removed.length}, kept ${r.kept} in use, ${r.dirs} folders in ${now() - t0} ms${r.truncated ? ' (folder limit reached; the rest waits for the next start)' : ''}${r.errors ? `, ${r.errors} not readable` : ''}`;
      if (r.removed.length || r.truncated || r.errors) log.info(msg);
      else log.debug(msg);
      return r;
    })
    .catch((e: unknown) => {
      log.warn(`temp sweep failed: ${(e as Error)?.message ?? String(e)}`);
      return undefined;
    });
}
