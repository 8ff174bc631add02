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
  const ma = NAME.exec(a);
  const mb = NAME.exec(b);
  if (!ma || !mb) return a < b ? -1 : a > b ? 1 : 0;
  if (ma[1] !== mb[1]) return (ma[1] as string) < (mb[1] as string) ? -1 : 1;
  return Number(ma[2] ?? 0) - Number(mb[2] ?? 0);
}

function isManifest(v: unknown): v is Manifest {
  if (v === null || typeof v !== 'object') return false;
  const m = v as Partial<Manifest>;
  return m.schema === 1 && typeof m.run_id === 'string' && Array.isArray(m.entries) && Array.isArray(m.skipped);
}

/** Every readable manifest of a run with its file, oldest first; unreadable or foreign files are skipped. */
export async function readManifestFiles(runDir: string): Promise<{ file: string; manifest: Manifest }[]> {
  const dir = path.join(runDir, 'manifests');
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => NAME.test(n)).sort(compareManifestNames);
  const out: { file: string; manifest: Manifest }[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    const st = await fs.lstat(file).catch(() => undefined);
    if (!st?.isFile() || st.size > MAX_MANIFEST_BYTES) continue;
    try {
      const parsed: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
      if (isManifest(parsed)) out.push({ file, manifest: parsed });
    } catch {
      // A torn or hand-edited file must not hide the others.
    }
  }
  return out;
}

/** The parsed manifests of a run, oldest first. */
export async function readManifests(runDir: string): Promise<Manifest[]> {
  return (await readManifestFiles(runDir)).map((m) => m.manifest);
}
