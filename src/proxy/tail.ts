// The last few KiB a downstream wrote to stderr, kept so that a crash can be explained in the
// failed call's result. Bounded by characters, so a chatty server costs a fixed amount of memory.
export class Tail {
  private chunks: string[] = [];
  private size = 0;

  constructor(private readonly max = 4096) {}

  push(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.max * 2 && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }

  /** The last `max` characters, starting at a line boundary when one is near. */
  text(): string {
    const all = this.chunks.join('');
    if (all.length <= this.max) return all.trimEnd();
    const cut = all.slice(-this.max);
    const nl = cut.indexOf('\n');
    return (nl >= 0 && nl < 200 ? cut.slice(nl + 1) : cut).trimEnd();
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}

/** Delay before restart attempt `n` (1-based): base·2^(n-1), capped. */
export function backoffDelay(n: number, baseMs = 250, maxMs = 30_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, n - 1));
}
