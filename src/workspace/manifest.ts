// Manifest files: one per routing event, `{run}/manifests/manifest_{YYYYMMDD_HHMMSS_mmm}[_{n}].json`,
// written once through the store (temp file + exclusive link) and never rewritten.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Manifest, ManifestEntry, RunTarget, Skipped } from '../routing/types.js';
import type { ArtifactStore } from '../storage/store.js';
import { isoLocal, manifestStamp } from '../time.js';

const NAME = /^manifest_(\d{8}_\d{6}_\d{3})(?:_(\d+))?\.json$/;
/** A manifest this big is not one we wrote (1,000 entries are well under 1 MB). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export function buildManifest(run: RunTarget, tool: string, at: Date, entries: ManifestEntry[], skipped: Skipped[]): Manifest {
  return { schema: 1, dataset: run.dataset, run_id: run.runId, tool, ts: isoLocal(at), entries, skipped };
}

/** Writes the manifest of one event; two events in the same millisecond get `_1`, `_2`. Returns its path. */
export function writeManifest(store: ArtifactStore, run: RunTarget, manifest: Manifest, at: Date): Promise<string> {
  return store.writeJsonExclusive(run.subdirs.manifests, `manifest_${manifestStamp(at)}`, manifest);
}

/** Orders manifest file names by stamp, then numeric suffix (`_2` before `_10`). */
export function compareManifestNames(a: string, b: string): number {
  const ka = manifestKey(a);
  const kb = manifestKey(b);
  if (ka === undefined || kb === undefined) return a < b ? -1 : a > b ? 1 : 0;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * A sort key of a manifest file name (stamp, then numeric suffix), computed once per name so that
 * ordering 100k names costs one regex each rather than one per comparison. Undefined for other names.
 */
export function manifestKey(name: string): string | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return `${m[1]}_${String(Number(m[2] ?? 0)).padStart(16, '0')}`;
}

/** Manifest file names among `names`, newest first, at most `limit` (sort keys computed once per name). */
export function newestManifestNames(names: string[], limit: number): string[] {
  const keyed: [string, string][] = [];
  for (const n of names) {
    const k = manifestKey(n);
    if (k !== undefined) keyed.push([k, n]);
  }
  keyed.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
  return keyed.slice(0, limit).map((e) => e[1]);
}

function isManifest(v: unknown): v is Manifest {
  if (v === null || typeof v !== 'object') return false;
  const m = v as Partial<Manifest>;
  return m.schema === 1 && typeof m.run_id === 'string' && Array.isArray(m.entries) && Array.isArray(m.skipped);
}

async function readManifestFile(file: string): Promise<Manifest | undefined> {
  const st = await fs.lstat(file).catch(() => undefined);
  if (!st?.isFile() || st.size > MAX_MANIFEST_BYTES) return undefined;
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    return isManifest(parsed) ? parsed : undefined;
  } catch {
    // A torn or hand-edited file must not hide the others.
    return undefined;
  }
}

/**
 * The last `n` manifest entries of a run, oldest first, reading manifests newest first and only
 * as many as needed. `newest` (names newest first) spares listing the folder; when it runs out
 * before `n` entries and `complete` is false, the whole folder is listed.
 */
export async function recentEntries(runDir: string, n: number, newest?: { newest: string[]; complete: boolean }): Promise<ManifestEntry[]> {
  const dir = path.join(runDir, 'manifests');
  const out: ManifestEntry[][] = [];
  let have = 0;
  const take = async (names: string[], skip: Set<string>): Promise<void> => {
    for (const name of names) {
      if (have >= n) return;
      if (skip.has(name)) continue;
      const m = await readManifestFile(path.join(dir, name));
      if (!m) continue;
      const entries = m.entries.slice(-(n - have));
      out.unshift(entries);
      have += entries.length;
    }
  };
  const first = newest?.newest ?? [];
  await take(first, new Set());
  if (have < n && !(newest?.complete ?? false)) {
    const all = newestManifestNames(await fs.readdir(dir).catch(() => [] as string[]), Number.POSITIVE_INFINITY);
    await take(all, new Set(first));
  }
  return out.flat();
}

/** Every readable manifest of a run with its file, oldest first; unreadable or foreign files are skipped. */
export async function readManifestFiles(runDir: string): Promise<{ file: string; manifest: Manifest }[]> {
  const dir = path.join(runDir, 'manifests');
  const names = newestManifestNames(await fs.readdir(dir).catch(() => [] as string[]), Number.POSITIVE_INFINITY).reverse();
  const out: { file: string; manifest: Manifest }[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    const manifest = await readManifestFile(file);
    if (manifest) out.push({ file, manifest });
  }
  return out;
}

/** The parsed manifests of a run, oldest first. */
export async function readManifests(runDir: string): Promise<Manifest[]> {
  return (await readManifestFiles(runDir)).map((m) => m.manifest);
}
