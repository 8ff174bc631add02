// Guarded reads and path-string helpers for detect.ts, plus the argument scan that tells inputs
// from artifacts. Pure: no fs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A property read that a throwing getter or proxy trap cannot escape. */
export function read(obj: unknown, key: string | number): unknown {
  try {
    return (obj as Record<string | number, unknown>)[key];
  } catch {
    return undefined;
  }
}

export function readKeys(obj: object): string[] {
  try {
    return Object.keys(obj);
  } catch {
    return [];
  }
}

export function isArray(v: unknown): v is unknown[] {
  try {
    return Array.isArray(v);
  } catch {
    return false; // A revoked proxy.
  }
}

export function lengthOf(v: unknown[]): number {
  const n = read(v, 'length');
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** `file://` URI → local path; undefined for anything else (other schemes are never routed). */
export function fileUrlPath(v: unknown): string | undefined {
  if (typeof v !== 'string' || !/^file:/i.test(v)) return undefined;
  try {
    return fileURLToPath(v);
  } catch {
    return undefined; // file://remote-host/…, or an encoded NUL or slash.
  }
}

/** A URL with a scheme other than file: (`https://`, `s3://`, `data:`); not a local path. */
export function isOtherUrl(v: string): boolean {
  return /^[a-z][a-z0-9+.-]+:/i.test(v) && !/^file:/i.test(v);
}

/** A path given as a string or as `{path}` inside a keyed list. */
export function pathOf(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (item !== null && typeof item === 'object') {
    const p = read(item, 'path');
    if (typeof p === 'string') return p;
  }
  return undefined;
}

/** The last segment of a resource URI, decoded but unsanitised (the store sanitises names). */
export function candidateName(uri: string): string | undefined {
  let last: string;
  try {
    last = new URL(uri).pathname.split('/').pop() ?? '';
  } catch {
    last = uri.split(/[?#]/)[0]?.split('/').pop() ?? '';
  }
  try {
    last = decodeURIComponent(last);
  } catch {
    // Keep the raw segment: a bad escape is still a usable name after sanitising.
  }
  return last === '' ? undefined : last;
}

const isDeviceName = (v: string): boolean => v.trim() !== '' && !/^(false|none|no|cpu|null|0)$/i.test(v.trim());

/**
 * What one key of a result says about the GPU: `gpu_used: true`, `gpu: true`, `gpu_device` /
 * `gpu_name` / `gpu` naming a device, or `device: "cuda…"` (used, but "cuda:0" names no device).
 */
export function gpuFact(key: string, v: unknown): { device?: string } | undefined {
  const k = key.toLowerCase();
  if ((k === 'gpu_used' || k === 'gpu') && v === true) return {};
  if ((k === 'gpu_device' || k === 'gpu_name' || k === 'gpu') && typeof v === 'string' && isDeviceName(v)) return { device: v.trim() };
  if (k === 'device' && typeof v === 'string' && /^cuda\b/i.test(v.trim())) return {};
  return undefined;
}

const MAX_ARG_DEPTH = 16;
const MAX_ARG_NODES = 10_000;
const MAX_PATH_CHARS = 4096;

function looksLikePath(s: string): boolean {
  if (s === '' || s.length > MAX_PATH_CHARS || /[\0\r\n]/.test(s)) return false;
  if (/^file:/i.test(s)) return true;
  if (isOtherUrl(s)) return false;
  return /[\\/]/.test(s) || /^[^\s]+\.[A-Za-z0-9]{1,12}$/.test(s);
}

/**
 * Path-like strings in a tool call's arguments: the call's inputs. A result that echoes one of
 * them (a `data_path` pointing at the uploaded CSV) is not a new artifact. Bounded walk.
 */
export function argumentPaths(args: unknown): string[] {
  const out = new Set<string>();
  const seen = new WeakSet<object>();
  const stack: { v: unknown; d: number }[] = [{ v: args, d: 0 }];
  let nodes = 0;
  while (stack.length > 0 && nodes++ < MAX_ARG_NODES) {
    const { v, d } = stack.pop() as { v: unknown; d: number };
    if (typeof v === 'string') {
      if (looksLikePath(v)) out.add(fileUrlPath(v) ?? v);
      continue;
    }
    if (v === null || typeof v !== 'object' || seen.has(v) || d >= MAX_ARG_DEPTH) continue;
    seen.add(v);
    const kids = isArray(v) ? Array.from({ length: Math.min(lengthOf(v), MAX_ARG_NODES) }, (_, i) => read(v, i)) : readKeys(v).map((k) => read(v, k));
    for (const k of kids) stack.push({ v: k, d: d + 1 });
  }
  return [...out].map((p) => path.normalize(p));
}
