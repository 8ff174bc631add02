// Manifest files: one per routing event, `{run}/manifests/manifest_{YYYYMMDD_HHMMSS_mmm}[_{n}].json`,
// written once through the store (temp file + exclusive link) and never rewritten. Reading one
// trusts nothing: a file that is torn, too big or of the wrong shape, and each entry that is not
// a well-formed entry, is reported as a problem (verify fails on it) and never handed on.
import { z } from 'zod';
import { StoreRefusal, type WorkspaceStore } from '../storage/store.js';
import { isoLocal, manifestStamp } from '../time.js';
import { manifestKey, newestManifestNames, type Manifest, type ManifestEntry, type RunTarget, type Skipped } from './types.js';

export { manifestKey, newestManifestNames };

/** A manifest this big is not one we wrote (1,000 entries are well under 1 MB). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export const ManifestEntrySchema = z.object({
  tool: z.string(),
  type: z.string(),
  label: z.string(),
  src: z.string(),
  dst: z.string(),
  mode: z.enum(['copy', 'move', 'write']),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  mime: z.string(),
  ts: z.string(),
  files: z.number().int().nonnegative().optional(),
  deduplicated: z.boolean().optional(),
  gpu_used: z.boolean().optional(),
  gpu_device: z.string().optional(),
});

const Envelope = z.object({
  schema: z.literal(1),
  dataset: z.string(),
  run_id: z.string(),
  tool: z.string(),
  ts: z.string(),
  entries: z.array(z.unknown()),
  skipped: z.array(z.object({ src: z.string(), reason: z.string() })),
});

export function buildManifest(run: RunTarget, tool: string, at: Date, entries: ManifestEntry[], skipped: Skipped[]): Manifest {
  return { schema: 1, dataset: run.dataset, run_id: run.runId, tool, ts: isoLocal(at), entries, skipped };
}

/** Writes the manifest of one event; two events in the same millisecond get `_1`, `_2`. Returns where it is. */
export async function writeManifest(store: WorkspaceStore, run: RunTarget, manifest: Manifest, at: Date): Promise<string> {
  return store.locate(await store.writeJsonExclusive([...run.key, 'manifests'], `manifest_${manifestStamp(at)}`, manifest));
}

/** A manifest file as read: its good entries, and what was wrong with it. */
export interface ReadManifest {
  file: string;
  manifest?: Manifest;
  /** Why the file, or some of its entries, could not be used. */
  problems: string[];
}

/** Reads and checks one manifest file. Never throws. */
export async function readManifestFile(store: WorkspaceStore, run: RunTarget, name: string): Promise<ReadManifest> {
  const key = [...run.key, 'manifests', name];
  const file = store.locate(key);
  let raw: unknown;
  try {
    raw = JSON.parse((await store.read(key, MAX_MANIFEST_BYTES)).toString('utf8'));
  } catch (e) {
    const why = e instanceof StoreRefusal ? e.message : e instanceof SyntaxError ? 'not valid JSON (torn or hand-edited)' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    return { file, problems: [why] };
  }
  const env = Envelope.safeParse(raw);
  if (!env.success) return { file, problems: [`not a manifest (${env.error.issues.map((i) => `${i.path.join('.') || 'top level'}: ${i.message}`).join('; ')})`] };
  const problems: string[] = [];
  const entries: ManifestEntry[] = [];
  env.data.entries.forEach((e, i) => {
    const ok = ManifestEntrySchema.safeParse(e);
    if (ok.success) entries.push(ok.data);
    else problems.push(`entries[${i}] is not a manifest entry (${ok.error.issues.map((x) => `${x.path.join('.') || 'entry'}: ${x.message}`).join('; ')})`);
  });
  return { file, manifest: { ...env.data, schema: 1, entries }, problems };
}

/**
 * The last `n` manifest entries of a run, oldest first, reading manifests newest first and only
 * as many as needed. `newest` (names newest first) spares listing the folder; when it runs out
 * before `n` entries and `complete` is false, the whole folder is listed. Bad files and entries
 * are left out.
 */
export async function recentEntries(store: WorkspaceStore, run: RunTarget, n: number, newest?: { newest: string[]; complete: boolean }): Promise<ManifestEntry[]> {
  const out: ManifestEntry[][] = [];
  let have = 0;
  const take = async (names: string[], skip: Set<string>): Promise<void> => {
    for (const name of names) {
      if (have >= n) return;
      if (skip.has(name)) continue;
      const m = (await readManifestFile(store, run, name)).manifest;
      if (!m) continue;
      const entries = m.entries.slice(-(n - have));
      out.unshift(entries);
      have += entries.length;
    }
  };
  const first = newest?.newest ?? [];
  await take(first, new Set());
  if (have < n && !(newest?.complete ?? false)) await take(await manifestNames(store, run), new Set(first));
  return out.flat();
}

/** Manifest file names of a run, newest first. */
async function manifestNames(store: WorkspaceStore, run: RunTarget): Promise<string[]> {
  const entries = await store.list([...run.key, 'manifests']);
  return newestManifestNames(entries.filter((e) => e.kind === 'file').map((e) => e.name), Number.POSITIVE_INFINITY);
}

/** Every manifest file of a run, oldest first, each with its problems; files of other names are not manifests. */
export async function readManifestFiles(store: WorkspaceStore, run: RunTarget): Promise<ReadManifest[]> {
  const out: ReadManifest[] = [];
  for (const name of (await manifestNames(store, run)).reverse()) out.push(await readManifestFile(store, run, name));
  return out;
}
