// The garbage of big messages, collected soon after they are let go. A 1 MB call leaves megabytes
// of buffers and strings in V8's old generation, where they wait for the next full collection:
// after a batch of big calls a proxy sat at ~110 MB resident where a full collection brings it back
// to ~70 (README "Benchmarks"); a burst of thousands of small calls leaves the same kind of
// promoted garbage. So after a call of 1 MB or more, or after many calls, the first quiet moment
// (no call for `quietMs`) starts a full collection. Node offers the
// collector to code only behind --expose-gc; the flag is set here, for a fresh context's `gc`
// alone: nothing else in the process changes.
import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (o: { type: 'major'; execution: 'async' }) => Promise<void>;

let collect: Collect | null | undefined;

function collector(): Collect | undefined {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc: unknown = vm.runInNewContext('gc');
      collect = typeof gc === 'function' ? (gc as Collect) : null;
    } catch {
      collect = null;
    }
  }
  return collect ?? undefined;
}

export const BIG_MESSAGE = 1 << 20;

export class BigGarbage {
  private timer?: NodeJS.Timeout;
  private calls = 0;
  /** `calls` when the last collection ran. */
  private since = 0;

  constructor(
    private readonly quietMs = 300,
    /** Calls after which a quiet moment is used too, whatever their size. */
    private readonly manyCalls = 2000,
    private readonly run: () => void = () => void collector()?.({ type: 'major', execution: 'async' })?.catch(() => {}),
  ) {}

  /**
   * A call whose messages were `bytes` long was handled and let go: a count, on the path of every
   * call. The collection waits for a whole `quietMs` without another call: forced between
   * back-to-back 1 MB calls, it doubled their latency here.
   */
  released(bytes: number): void {
    this.calls++;
    if (!this.timer && (bytes >= BIG_MESSAGE || this.calls - this.since >= this.manyCalls)) this.arm();
  }

  private arm(): void {
    const seen = this.calls;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Calls came meanwhile: not quiet yet, wait another while.
      if (this.calls !== seen) return this.arm();
      this.since = this.calls;
      this.run();
    }, this.quietMs).unref();
  }
}

/** The process's one: the lane tells it of each call it carried (src/proxy/lane.ts). */
export const bigGarbage = new BigGarbage();
