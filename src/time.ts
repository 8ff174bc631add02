// Local-time stamps used in run ids, manifest names and manifest `ts` fields.
// The clock is passed in (default: the real one) so tests can fix it.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

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
