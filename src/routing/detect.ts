// Finds every artifact a tool result names. Pure and total: any value in, a Detection out.
// Results come from tools we do not control, so the walk is iterative (no stack overflow on deep
// JSON), bounded (depth, values visited, candidates, text parsed) and guards every property read
// (getters and proxies may throw). Each bound that stops the walk is reported in `limits`.
import path from 'node:path';
import type { Candidate, Detection } from './types.js';
import { typeForKey, type ResultKeys } from './classify.js';
import { fileUrlPath, gpuFact, isArray, isOtherUrl, lengthOf, pathOf, read, readKeys } from './detect-util.js';
import { readBlock } from './detect-blocks.js';

export { argumentPaths } from './detect-util.js';

export interface DetectOptions {
  /** Nesting levels below the result itself (default 64). */
  maxDepth?: number;
  /** Values visited in total, array items included (default 100,000). */
  maxNodes?: number;
  /** Candidates kept (default 1,000). */
  maxCandidates?: number;
  /** Longest `text` block parsed as JSON, in UTF-16 units (default 8 MiB). */
  maxTextChars?: number;
  /** More result keys that name artifacts (`routing.resultKeys`). */
  resultKeys?: ResultKeys;
}

const DEFAULTS: Required<DetectOptions> = {
  maxDepth: 64,
  maxNodes: 100_000,
  maxCandidates: 1000,
  maxTextChars: 8 * 1024 * 1024,
  resultKeys: {},
};

// Our own proxy writes routed paths here; walking it would route a result's routing report.
const OWN_META_KEY = 'artifact-workspace/routed';

type PathCandidate = Extract<Candidate, { kind: 'path' }>;
type Frame = { value: unknown; depth: number; text: boolean };

class Walker {
  readonly candidates: Candidate[] = [];
  private readonly byPath = new Map<string, PathCandidate>();
  private readonly limits = new Set<string>();
  private readonly seen = new WeakSet<object>();
  private readonly stack: Frame[] = [];
  private nodes = 0;
  gpu: Detection['gpu'];

  constructor(private readonly o: Required<DetectOptions>) {}

  run(root: unknown): Detection {
    try {
      this.push(root, 0, typeof root === 'string');
      while (this.stack.length > 0) {
        if (!this.tick()) break;
        const f = this.stack.pop() as Frame;
        if (f.text) this.visitText(f.value as string, f.depth);
        else this.visit(f.value, f.depth);
      }
    } catch (e) {
      // Unreachable by design; kept so a surprise can never break the tool call.
      this.limit(`walk stopped: ${e instanceof Error ? e.message : String(e)}`);
    }
    const out: Detection = { candidates: this.candidates, limits: [...this.limits] };
    if (this.gpu) out.gpu = this.gpu;
    return out;
  }

  private limit(msg: string): void {
    this.limits.add(msg);
  }

  private tick(): boolean {
    if (this.nodes >= this.o.maxNodes) {
      this.limit(`max nodes ${this.o.maxNodes} reached`);
      return false;
    }
    this.nodes++;
    return true;
  }

  private push(value: unknown, depth: number, text = false): void {
    if (!text && (value === null || typeof value !== 'object')) return;
    if (depth > this.o.maxDepth) return this.limit(`max depth ${this.o.maxDepth} reached`);
    this.stack.push({ value, depth, text });
  }

  private visitText(text: string, depth: number): void {
    const t = text.trimStart();
    if (!t.startsWith('{') && !t.startsWith('[')) return;
    if (text.length > this.o.maxTextChars) return this.limit(`text block over ${this.o.maxTextChars} chars not parsed`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return; // Prose that happens to start with a bracket.
    }
    this.push(parsed, depth + 1);
  }

  private visit(value: unknown, depth: number): void {
    if (value === null || typeof value !== 'object' || this.seen.has(value)) return;
    this.seen.add(value);
    if (isArray(value)) return this.visitArray(value, depth);
    const keys = readKeys(value);
    const handled = this.visitBlock(value, depth);
    const children: unknown[] = [];
    for (const key of keys) {
      if (handled.has(key) || key === OWN_META_KEY) continue;
      const v = read(value, key);
      if (key === 'artifacts' && this.visitArtifacts(v, depth)) continue;
      const keyType = typeForKey(key, this.o.resultKeys);
      if (keyType !== undefined && this.visitKeyed(key, keyType || undefined, v, depth)) continue;
      // A file:// URI under any key (`uri`, `result`, `download`) names a local file the tool made.
      if (typeof v === 'string' && v.startsWith('file://')) {
        this.addPath(v, undefined, key, false);
        continue;
      }
      this.noteGpu(key, v);
      children.push(v);
    }
    for (let i = children.length - 1; i >= 0; i--) this.push(children[i], depth + 1);
  }

  private visitArray(arr: unknown[], depth: number): void {
    const len = lengthOf(arr);
    // Never queue more items than the node budget can still visit: a 10-million item array stays cheap.
    const room = Math.max(0, this.o.maxNodes - this.nodes - this.stack.length);
    if (len > room) this.limit(`max nodes ${this.o.maxNodes} reached`);
    for (let i = Math.min(len, room) - 1; i >= 0; i--) this.push(read(arr, i), depth + 1);
  }

  /** MCP content blocks. Returns the keys consumed, so the generic walk skips them. */
  private visitBlock(block: object, depth: number): Set<string> {
    const f = readBlock(block);
    if (f.text !== undefined) this.push(f.text, depth + 1, true);
    if (f.link) this.addPath(f.link.path, undefined, f.link.label, false);
    if (f.inline && this.roomFor()) this.candidates.push(f.inline);
    return new Set(f.consumed);
  }

  /** `artifacts: [{path, type, label}]` or a list of strings: explicit artifacts. */
  private visitArtifacts(v: unknown, depth: number): boolean {
    if (!isArray(v)) return false;
    const len = Math.min(lengthOf(v), this.o.maxNodes);
    for (let i = 0; i < len; i++) {
      if (!this.tick()) return true;
      const item = read(v, i);
      if (typeof item === 'string') this.addPath(item, undefined, 'artifacts', true);
      else if (item !== null && typeof item === 'object' && typeof read(item, 'path') === 'string') {
        const label = read(item, 'label');
        this.addPath(read(item, 'path') as string, str(read(item, 'type')), typeof label === 'string' && label ? label : 'artifacts', true);
      } else this.push(item, depth + 1);
    }
    return true;
  }

  /** `plot_paths: "…" | ["…"]` and friends; `type` undefined: by extension. */
  private visitKeyed(key: string, type: string | undefined, v: unknown, depth: number): boolean {
    if (typeof v === 'string') {
      this.addPath(v, type, key, false);
      return true;
    }
    if (!isArray(v)) return false;
    const len = Math.min(lengthOf(v), this.o.maxNodes);
    for (let i = 0; i < len; i++) {
      if (!this.tick()) return true;
      const item = read(v, i);
      const p = pathOf(item);
      if (p !== undefined) this.addPath(p, type, key, false);
      else this.push(item, depth + 1);
    }
    return true;
  }

  private noteGpu(key: string, v: unknown): void {
    const fact = gpuFact(key, v);
    if (!fact) return;
    this.gpu ??= { used: true };
    if (fact.device !== undefined) this.gpu.device ??= fact.device;
  }

  private addPath(raw: string, type: string | undefined, label: string, explicit: boolean): void {
    if (raw === '' || isOtherUrl(raw)) return; // "" means "no file"; remote URLs are not ours to fetch.
    const p = fileUrlPath(raw) ?? raw;
    const key = p.includes('\0') ? p : path.normalize(p);
    const prev = this.byPath.get(key);
    if (prev) {
      // The same file named twice (structuredContent and its JSON text mirror) is one artifact;
      // the explicit naming wins because it carries the author's own type and label.
      if (explicit && !prev.explicit) Object.assign(prev, { explicit: true, type: type ?? prev.type, label });
      else prev.type ??= type;
      return;
    }
    if (!this.roomFor()) return;
    const c: PathCandidate = { kind: 'path', path: p, label, explicit };
    if (type !== undefined) c.type = type;
    this.byPath.set(key, c);
    this.candidates.push(c);
  }

  private roomFor(): boolean {
    if (this.candidates.length < this.o.maxCandidates) return true;
    this.limit(`max candidates ${this.o.maxCandidates} reached`);
    return false;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Every artifact a tool result names (an object's own keys before what is nested in it), deduplicated by path. Never throws. */
export function detectArtifacts(result: unknown, opts: DetectOptions = {}): Detection {
  return new Walker({ ...DEFAULTS, ...opts }).run(result);
}
