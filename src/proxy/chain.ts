// Chains of artifact-workspaces (README "Chaining"): a proxy in front of another of ours. Pure
// functions over what crosses the wire: whether a server is one of ours and which root it answers
// from (the root identity on its own tools, else its server name), what a forwarded call tells it
// of our run, and what its results say it already stored (their `_meta["artifact-workspace/routed"]`,
// a hint only: every path in it is checked again like any other path in a tool result).
import path from 'node:path';
import type { Tool } from '@modelcontextprotocol/server';
import { DATASET_META_KEY, ROOT_META_KEY, WORKSPACE_META_KEY, handleOf } from '../workspace/handle.js';
import type { RunTarget } from '../workspace/types.js';

/** A downstream that is an artifact-workspace itself. */
export interface InnerWorkspace {
  /** The identity of its workspaces root, when it said (the proxy compares it with its own). */
  root?: string;
}

const MAX_IDENTITY = 128;

/**
 * Whether a server is an artifact-workspace: one of `ownNames` carries our root marker in its
 * `_meta`, or the server calls itself by our package name. A server that merely has a tool named
 * `ensure_workspace` is not one of ours (its tools are exposed as any server's).
 */
export function innerWorkspace(tools: readonly Tool[], ownNames: ReadonlySet<string>, serverName: string | undefined, packageName: string): InnerWorkspace | undefined {
  for (const t of tools) {
    if (!ownNames.has(t.name)) continue;
    const root = (t._meta as Record<string, unknown> | undefined)?.[ROOT_META_KEY];
    if (typeof root === 'string' && root !== '' && root.length <= MAX_IDENTITY) return { root };
  }
  return serverName === packageName ? {} : undefined;
}

/** What a call forwarded to an inner artifact-workspace carries in `_meta` to say where its files go. */
export function chainMeta(inner: InnerWorkspace, ourRoot: string, run: RunTarget | undefined, dataset: string | undefined): Record<string, string> {
  // The same root: the run itself, so both file into one run. Another root has no such run: the
  // dataset, so both file under one dataset name.
  if (inner.root === ourRoot) return run ? { [WORKSPACE_META_KEY]: handleOf(run) } : dataset ? { [DATASET_META_KEY]: dataset } : {};
  const name = run?.dataset ?? dataset;
  return name ? { [DATASET_META_KEY]: name } : {};
}

/** The keys `chainMeta` writes: a host's own values for them are not passed to an inner server as they are. */
const CHAIN_META_KEYS = [WORKSPACE_META_KEY, DATASET_META_KEY] as const;

/** A call's `_meta` on its way to an inner artifact-workspace: the host's chain keys replaced by ours. */
export function toInner(meta: Record<string, unknown>, inner: InnerWorkspace, ourRoot: string, chain: { run?: RunTarget; dataset?: string }): void {
  for (const k of CHAIN_META_KEYS) delete meta[k];
  Object.assign(meta, chainMeta(inner, ourRoot, chain.run, chain.dataset));
}

/** The dataset a proxy in front named in `_meta["artifact-workspace/dataset"]`: a short non-blank string, else none. */
export function chainDataset(meta: Record<string, unknown> | undefined): string | undefined {
  const v = meta?.[DATASET_META_KEY];
  return typeof v === 'string' && v.trim() !== '' && v.length <= 256 ? v : undefined;
}

/** One file a server in front reported it stored. */
export interface StoredByInner {
  /** Where the server stored it: an absolute path. */
  dst: string;
  bytes?: number;
}

/** Entries read from one result: a bound, so a hostile result costs little. */
const MAX_ENTRIES = 10_000;
const MAX_PATH = 4096;

/**
 * What a result's `_meta["artifact-workspace/routed"]` says was stored, by the source path it was
 * stored from: absolute paths only, nothing that is not a string, at most 10,000 entries.
 */
export function storedByInner(meta: unknown, key: string): Map<string, StoredByInner> {
  const out = new Map<string, StoredByInner>();
  const routed = meta && typeof meta === 'object' ? (meta as Record<string, unknown>)[key] : undefined;
  const entries = routed && typeof routed === 'object' ? (routed as { entries?: unknown }).entries : undefined;
  if (!Array.isArray(entries)) return out;
  for (const e of entries.slice(0, MAX_ENTRIES)) {
    if (!e || typeof e !== 'object') continue;
    const { src, dst, bytes } = e as Record<string, unknown>;
    if (!isAbsolutePath(src) || !isAbsolutePath(dst) || out.has(src)) continue;
    out.set(src, { dst, ...(typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes >= 0 && { bytes }) });
  }
  return out;
}

const isAbsolutePath = (p: unknown): p is string => typeof p === 'string' && p.length <= MAX_PATH && !p.includes('\0') && path.isAbsolute(p);
