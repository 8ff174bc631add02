// Progress on stderr for long work, only when stderr is a terminal (never in logs or pipes).
import type { Writable } from 'node:stream';
import { systemTimers, type Timers } from './time.js';

export interface Progress {
  /** One more item done (verify: a file checked). */
  tick(label: string): void;
  /** A free-form status line (a long copy). */
  show(text: string): void;
  done(): void;
}

/** At most ten updates a second. */
export function terminalProgress(verb: string, stream: Writable & { isTTY?: boolean } = process.stderr, timers: Pick<Timers, 'now'> = systemTimers): Progress | undefined {
  if (!stream.isTTY) return undefined;
  let n = 0;
  let last = 0;
  return {
    tick(label) {
      n++;
      const now = timers.now();
      if (now - last < 100) return;
      last = now;
      stream.write(`\r\x1b[K${verb} ${n}: ${label.slice(-60)}`);
    },
    show(text) {
      const now = timers.now();
      if (now - last < 100) return;
      last = now;
      stream.write(`\r\x1b[K${verb}: ${text.slice(0, 100)}`);
    },
    done() {
      stream.write('\r\x1b[K');
    },
  };
}
