// Time, passed in: the clock (local-time stamps of run ids, manifest names and `ts` fields) and
// the timers (timeouts, expiry, throttles). Defaults are the real ones; tests hand in a fixed
// clock or fake timers. Stamps are pure functions of a Date.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A timer handle, whatever the timers are. */
export type TimerHandle = { unref?(): unknown } | number | object;

export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The real timers, looked up at each call (so a test's fake timers, installed later, are the ones used). */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout | undefined),
};

/** A timer that does not keep the process alive on its own (a timeout guards work, it is not work). */
export function unrefd(h: TimerHandle): TimerHandle {
  if (typeof h === 'object' && h !== null && 'unref' in h && typeof h.unref === 'function') h.unref();
  return h;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYYMMDD_HHMMSS` in local time: the run id of the original design. */
export function runStamp(d: Date): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}_${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** `YYYYMMDD_HHMMSS_mmm` in local time: the stamp in a manifest's file name. */
export function manifestStamp(d: Date): string {
  return `${runStamp(d)}_${pad(d.getMilliseconds(), 3)}`;
}

/** ISO 8601 in local time with its UTC offset: `2025-10-17T22:31:45.120+02:00`. */
export function isoLocal(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `.${pad(d.getMilliseconds(), 3)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}
