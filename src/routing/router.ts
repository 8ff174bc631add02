// One routing event: clears each candidate with the source policy, stores it in the run folder its
// type calls for, and writes one manifest. Never throws: routing must not break a tool call, so
// every failure becomes a skipped entry with a reason a person can act on.
import fs from 'node:fs/promises';
import path from 'node:path';
import mime from 'mime-types';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { StoreRefusal, sizeCapReason, type Key, type PutResult, type WorkspaceStore } from '../storage/store.js';
import { isoLocal, manifestStamp, systemClock, type Clock } from '../time.js';
import { buildManifest, writeManifest } from '../workspace/manifest.js';
import type { ManifestEntry, RouteMode, RunTarget, Skipped, Subdir, TargetSubdir } from '../workspace/types.js';
import { normaliseType, subdirFor } from './classify.js';
import { inlineBytes, inlineMime, inlineName, inlineSize } from './inline.js';
import { checkSource, isWithin, pathSyntaxReason, policyReason, secretContentReason, type SourcePolicy } from './policy.js';
import { scanTree } from './tree.js';
import type { Candidate } from './types.js';

export interface RouteRequest {
  tool: string;
  candidates: Candidate[];
  /** Paths the call received as arguments: inputs, not artifacts (unless a candidate is explicit). */
  inputs: string[];
  mode: RouteMode;
  /** The run to file into; a function when it is to be made only if something is filed or refused there. */
  run: RunTarget | (() => Promise<RunTarget>);
  /** For a tool's result (not route_artifacts): what is already stored stays where it is. */
  keep?: KeepRule;
  /** Type for candidates that declare none (route_artifacts' `type`). */
  defaultType?: string;
  gpu?: { used: boolean; device?: string };
  /** Detection bounds that were hit; reported as skips so the manifest shows the list is incomplete. */
  limits?: string[];
  /** Folder that relative candidate paths are resolved against (default: the working folder). */
  baseDir?: string;
  /** Told how a long copy goes: bytes stored so far in this event, and what is being copied. */
  onProgress?: (p: { done: number; message: string }) => void;
  /** Aborted: the files not yet begun are skipped (`cancelled`); the one being copied finishes. */
  signal?: AbortSignal;
}

/**
 * How a tool result's files that are already stored are treated (README "Chaining"). A file under
 * the workspaces root (any run's) is linked where it is, never copied into another run. A file an
 * inner artifact-workspace reports it stored (`inner`, by source path) is taken from where that
 * server stored it: linked if that is under our root, else copied (`otherRoots: 'copy'`) or left
 * to that server's link (`'link'`).
 */
export interface KeepRule {
  inner: ReadonlyMap<string, { dst: string }>;
  otherRoots: 'copy' | 'link';
}

/** A file named by a result that was already stored under the root: linked, not filed again. */
export interface KeptFile {
  /** The path the result named. */
  src: string;
  /** Where it is stored (a real path under the root). */
  dst: string;
  mime: string;
}

export interface RouteDeps {
  store: WorkspaceStore;
  policy: SourcePolicy;
  clock?: Clock;
  log?: Logger;
}

export interface RouteOutcome {
  routed: ManifestEntry[];
  skipped: Skipped[];
  /** Path of the manifest written for this event; null when nothing was routed or skipped. */
  manifest: string | null;
  /** Files already stored under the root, linked where they are (requests with `keep`). */
  kept: KeptFile[];
  /** The run filed into, when the event needed one. */
  run?: RunTarget;
}

type Decision = { kind: 'routed'; entry: ManifestEntry } | { kind: 'skipped'; skip: Skipped } | { kind: 'kept'; file: KeptFile } | { kind: 'ignored'; why: string };

/** The run could not be had: the whole event fails with that one reason, nothing is filed. */
class RunUnavailable extends Error {
  constructor(readonly reason: unknown) {
    super(`routing failed: ${(reason as Error)?.message ?? String(reason)}`);
  }
}

const skip = (src: string, reason: string): Decision => ({ kind: 'skipped', skip: { src, reason } });

class RoutingEvent {
  private readonly base: string;
  private readonly inputs: Set<string>;
  private inputReals?: Promise<Set<string>>;
  private readonly seen = new Set<string>();
  /** Bytes of the files stored so far in this event, for progress. */
  private bytesDone = 0;
  private runP?: Promise<RunTarget>;
  /** The run, once asked for. */
  ran?: RunTarget;

  constructor(
    private readonly req: RouteRequest,
    private readonly deps: Required<RouteDeps>,
    private readonly stamp: string,
  ) {
    this.base = req.baseDir ?? process.cwd();
    this.inputs = new Set((req.inputs ?? []).filter((p) => !pathSyntaxReason(p)).map((p) => path.resolve(this.base, p)));
  }

  /** The run, made on first use when the request left that to the event. */
  run(): Promise<RunTarget> {
    const r = this.req.run;
    return (this.runP ??= (typeof r === 'function' ? r() : Promise.resolve(r)).then(
      (run) => (this.ran = run),
      (e: unknown) => {
        throw new RunUnavailable(e);
      },
    ));
  }

  route(c: Candidate): Promise<Decision> {
    return c.kind === 'path' ? this.routePath(c) : this.routeInline(c);
  }

  private async routePath(c: Extract<Candidate, { kind: 'path' }>): Promise<Decision> {
    const bad = pathSyntaxReason(c.path);
    if (bad) return skip(c.path, bad);
    const named = path.resolve(this.base, c.path);
    const namedReal = await fs.realpath(named).catch(() => undefined);
    if (!c.explicit && (this.inputs.has(named) || (namedReal !== undefined && (await this.realInputs()).has(namedReal)))) {
      return { kind: 'ignored', why: 'an input of the call' };
    }
    const { keep } = this.req;
    // A file the inner server stored is taken from where it stored it (its source may be gone,
    // moved there); that path is checked as any other.
    const stored = keep?.inner.get(named);
    const abs = stored?.dst ?? named;
    const real = stored ? await fs.realpath(abs).catch(() => undefined) : namedReal;
    // Keyed by the named path too: after a move the first naming no longer resolves.
    if (this.seen.has(abs) || (real !== undefined && this.seen.has(real))) return { kind: 'ignored', why: 'named twice' };
    if (keep && real !== undefined && isWithin(real, this.deps.store.root)) {
      this.seen.add(real).add(abs).add(named);
      // The root's own bookkeeping (the index, `latest`, temps) is nobody's artifact.
      if (!inRun(this.deps.store.keyOf(real))) return skip(named, 'inside the workspaces root but in no run: not an artifact');
      const st = await fs.stat(real).catch(() => undefined);
      if (!st || (!st.isFile() && !st.isDirectory())) return { kind: 'ignored', why: 'not a file or folder' };
      return { kind: 'kept', file: { src: named, dst: real, mime: st.isDirectory() ? 'inode/directory' : mime.lookup(real) || 'application/octet-stream' } };
    }
    if (stored && (keep!.otherRoots === 'link' || real === undefined)) {
      this.seen.add(abs).add(named);
      return { kind: 'ignored', why: real === undefined ? `stored by the server in front at ${abs}, which is not readable here` : `stored by the server in front at ${abs} (routing.otherRoots: link)` };
    }
    // Before the policy, so a file already filed here is reported as such whatever the roots are.
    const runDir = (await this.run()).runDir;
    if (real !== undefined && isWithin(real, runDir)) return skip(abs, 'already in workspace');
    const chk = await checkSource(abs, this.deps.policy);
    if (!chk.ok) return skip(abs, chk.reason);
    this.seen.add(chk.real).add(abs);
    if (isWithin(chk.real, runDir)) return skip(abs, 'already in workspace');
    const type = c.type ?? this.req.defaultType;
    const name = path.basename(abs);
    const subdir = subdirFor(type, name);
    const destDir = await this.destDir(subdir);
    const { store, policy } = this.deps;
    // What the store opens is checked again, by the real path of the open file: a folder on the
    // way swapped for a symlink after this check cannot carry the read elsewhere.
    const admit = (p: string) => policyReason(p, policy);
    // Something already in the workspaces (another run's artifact) is copied, never moved: a move
    // would empty that run.
    // Nor is a copy another server stored (an inner artifact-workspace's run, under its root).
    const mode = this.req.mode === 'move' && (stored || isWithin(chk.real, store.root)) ? 'copy' : this.req.mode;
    if (mode !== this.req.mode) this.deps.log.warn(`${abs} is inside the workspaces root: copied, not moved (a move would empty the run it belongs to)`);
    let res: PutResult & { files?: number };
    if (chk.kind === 'file') {
      const before = this.bytesDone;
      const size = Number(chk.stat.size);
      const onBytes = this.req.onProgress && ((n: number) => this.req.onProgress!({ done: before + n, message: `copying ${name} (${mib(n)} of ${mib(size)} MiB)` }));
      res = await store.putFile(chk.real, destDir, name, { mode, expect: chk.stat, admit, admitHead: secretContentReason, onBytes });
      this.bytesDone = before + res.bytes;
    } else {
      if (isWithin(runDir, chk.real)) return skip(abs, 'folder contains the workspace');
      const scan = await scanTree(chk.real, policy, { maxBytes: store.maxBytes });
      if (!scan.ok) return skip(abs, scan.reason);
      res = await store.putTree(scan.tree, destDir, name, { mode, admit, admitHead: secretContentReason });
    }
    if (res.sourceKept) this.deps.log.warn(`move of ${abs}: source kept (${res.sourceKept})`);
    const entry = this.entry(c.label, type, subdir, abs, res, res.sourceKept ? 'copy' : mode);
    entry.mime = chk.kind === 'dir' ? 'inode/directory' : mime.lookup(name) || 'application/octet-stream';
    if (res.files !== undefined) entry.files = res.files;
    return { kind: 'routed', entry };
  }

  private async routeInline(c: Extract<Candidate, { kind: 'inline' }>): Promise<Decision> {
    const src = `inline:${c.blockType}`;
    const { store } = this.deps;
    // Refused before decoding: an oversized blob costs no memory beyond the string itself.
    if (inlineSize(c) > store.maxBytes) return skip(src, sizeCapReason(store.maxBytes));
    const name = inlineName(c, this.stamp, this.req.tool);
    const subdir = subdirFor(this.req.defaultType, name);
    const res = await store.putBytes(inlineBytes(c), await this.destDir(subdir), name);
    const entry = this.entry(c.label, this.req.defaultType, subdir, src, res, 'write');
    entry.mime = inlineMime(c, name);
    return { kind: 'routed', entry };
  }

  private entry(label: string, type: string | undefined, subdir: TargetSubdir, src: string, res: PutResult, mode: ManifestEntry['mode']): ManifestEntry {
    const e: ManifestEntry = {
      tool: this.req.tool, type: normaliseType(type, subdir), label, src, dst: res.dst, mode,
      bytes: res.bytes, sha256: res.sha256, mime: 'application/octet-stream', ts: isoLocal(this.deps.clock.now()),
    };
    if (res.deduplicated) e.deduplicated = true;
    if (this.req.gpu?.used) {
      e.gpu_used = true;
      if (this.req.gpu.device) e.gpu_device = this.req.gpu.device;
    }
    return e;
  }

  /** Real paths of the call's inputs, resolved once per event. */
  private realInputs(): Promise<Set<string>> {
    return (this.inputReals ??= Promise.all([...this.inputs].map((p) => fs.realpath(p).catch(() => p))).then((r) => new Set(r)));
  }

  /**
   * The run subfolder's key, made if missing. The store reaches it from the root one plain folder
   * at a time, so a dataset, run or subfolder swapped for a symlink is refused, never followed.
   */
  async destDir(subdir: Subdir): Promise<Key> {
    const key = [...(await this.run()).key, subdir];
    await this.deps.store.ensureFolder(key);
    return key;
  }
}

/** A key inside a run ({dataset}/{run}/…), none of it ours (hidden names: the index, temps). */
const inRun = (key: Key | undefined): boolean => key !== undefined && key.length >= 3 && key.every((s) => !s.startsWith('.'));

/** Skips logged one per line; the manifest has them all. */
const MAX_LOGGED = 20;

const mib = (n: number): string => (n / 1024 ** 2).toFixed(n < 10 * 1024 ** 2 ? 1 : 0);

const srcOf = (c: Candidate): string => (c.kind === 'path' ? String(c.path) : `inline:${c.blockType}`);

function failure(e: unknown): string {
  if (e instanceof StoreRefusal) return e.message;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return `failed (${code ?? (e instanceof Error ? e.message : String(e))})`;
}

/** Routes one event's candidates into `req.run` and writes its manifest. Never throws. */
export async function routeCandidates(req: RouteRequest, deps: RouteDeps): Promise<RouteOutcome> {
  const d: Required<RouteDeps> = { clock: systemClock, log: silentLogger, ...deps };
  const at = d.clock.now();
  const routed: ManifestEntry[] = [];
  const kept: KeptFile[] = [];
  const skipped: Skipped[] = (req.limits ?? []).map((l) => ({ src: '(result)', reason: `detection stopped: ${l}` }));
  let event: RoutingEvent | undefined;
  try {
    event = new RoutingEvent(req, d, manifestStamp(at));
    for (const c of req.candidates) {
      let dec: Decision;
      try {
        dec = req.signal?.aborted ? skip(srcOf(c), 'cancelled before it was copied') : await event.route(c);
      } catch (e) {
        if (e instanceof RunUnavailable) {
          d.log.error(`${req.tool}: ${e.message}`);
          return { routed: [], skipped: [{ src: '(routing)', reason: e.message }], manifest: null, kept };
        }
        dec = skip(srcOf(c), failure(e));
      }
      if (dec.kind === 'routed') routed.push(dec.entry);
      else if (dec.kind === 'kept') kept.push(dec.file);
      else if (dec.kind === 'skipped') skipped.push(dec.skip);
      else d.log.debug(`${req.tool}: not routing ${srcOf(c)}: ${dec.why}`);
    }
  } catch (e) {
    // Only a malformed request lands here (candidates not a list); report it like any refusal.
    skipped.push({ src: '(request)', reason: failure(e) });
  }
  for (const s of skipped.slice(0, MAX_LOGGED)) d.log.info(`${req.tool}: skipped ${s.src}: ${s.reason}`);
  if (skipped.length > MAX_LOGGED) d.log.info(`${req.tool}: … and ${skipped.length - MAX_LOGGED} more skipped`);
  let manifest: string | null = null;
  let run: RunTarget | undefined = event?.ran;
  if (routed.length > 0 || skipped.length > 0) {
    try {
      run = event ? await event.run() : typeof req.run === 'function' ? await req.run() : req.run;
      await event?.destDir('manifests');
      manifest = await writeManifest(d.store, run, buildManifest(run, req.tool, at, routed, skipped), at);
    } catch (e) {
      d.log.error(`${req.tool}: manifest not written: ${failure(e)}`);
    }
  }
  return { routed, skipped, manifest, kept, ...(run && { run }) };
}
