// fast-check generators for hostile tool results and paths, shared by the property tests.
import fc from 'fast-check';

/** Keys detection reads, mixed with keys it must not treat specially. */
export const KEYS = [
  'model_path', 'model_paths', 'report_path', 'report_paths', 'pdf_path', 'plot_path', 'plot_paths',
  'image_path', 'image_paths', 'metrics_path', 'metrics_paths', 'index_path', 'index_paths', 'data_path',
  'data_paths', 'artifacts', 'path', 'type', 'label', 'content', 'structuredContent', 'text', 'uri', 'resource',
  'data', 'blob', 'mimeType', 'gpu', 'gpu_used', 'gpu_device', 'device', 'artifact-workspace/routed',
  '__proto__', 'constructor', 'toString', 'length', '',
] as const;

/** Characters that break naive path and name handling. */
const ODD_CHARS = ['\0', '\ud800', '\udc00', '\ufffd', '/', '\\', '%2F', '%00', '\n', '\r', '~', ':', '*', '?', '"', '<', '|', ' ', '.', '\u202e', 'é', 'e\u0301'];
export const oddString = fc.string({ unit: fc.oneof(fc.constantFrom(...ODD_CHARS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 24 });

/**
 * A path built from `segments` (names that exist in the sandbox, traversal, odd strings), relative
 * or absolute under `bases`, sometimes as a file:// URL or with a trailing slash.
 */
export function pathArb(segments: readonly string[], bases: readonly string[]): fc.Arbitrary<string> {
  const seg = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...segments) }, { weight: 2, arbitrary: fc.constantFrom('..', '.', '', '...') }, { weight: 1, arbitrary: oddString });
  return fc
    .tuple(fc.option(fc.constantFrom(...bases), { nil: undefined }), fc.array(seg, { minLength: 1, maxLength: 5 }), fc.constantFrom('plain', 'url', 'slash', 'encoded'))
    .map(([base, segs, form]) => {
      const rel = segs.join('/');
      const p = base === undefined ? rel : `${base}/${rel}`;
      if (form === 'slash') return `${p}/`;
      if (form === 'url' && base !== undefined) return fileUrl(p);
      if (form === 'encoded' && base !== undefined) return `file://${p.replace(/\//g, '%2F')}`;
      return p;
    });
}

/** A file:// URL of `p`; a lone surrogate cannot be percent-encoded, so it stays raw (hostile too). */
function fileUrl(p: string): string {
  try {
    return `file://${encodeURI(p)}`;
  } catch {
    return `file://${p}`; // URIError: only a lone surrogate gets here
  }
}

const base64 = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));

/** MCP content blocks, well-formed and not. */
export function blockArb(paths: fc.Arbitrary<string>, inner: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    inner.map((v) => ({ type: 'text', text: safeStringify(v) })),
    fc.record({ type: fc.constant('text'), text: oddString }),
    paths.map((p) => ({ type: 'resource_link', uri: p.startsWith('file:') ? p : fileUrl(p), name: 'link' })),
    fc.record({ type: fc.constantFrom('image', 'audio'), data: fc.oneof(base64, oddString), mimeType: fc.oneof(fc.constantFrom('image/png', 'audio/wav', ''), oddString) }),
    fc.record({
      type: fc.constant('resource'),
      resource: fc.record({ uri: fc.oneof(oddString, paths, fc.constant('fixture://x/../../etc/passwd')), text: fc.option(oddString, { nil: undefined }), blob: fc.option(base64, { nil: undefined }) }, { requiredKeys: ['uri'] }),
    }),
  );
}

/** A random nested tool result: objects with detection keys, arrays, blocks, path-like leaves. */
export function resultArb(paths: fc.Arbitrary<string>, maxDepth = 6): fc.Arbitrary<unknown> {
  const leaf = fc.oneof({ weight: 4, arbitrary: paths }, { weight: 2, arbitrary: oddString }, fc.integer(), fc.boolean(), fc.constant(null), fc.double());
  const { node } = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', maxDepth, withCrossShrink: true }, leaf, tie('arr'), tie('obj'), tie('block')),
    arr: fc.array(tie('node'), { maxLength: 5 }),
    obj: fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: oddString }), tie('node'), { maxKeys: 5 }),
    block: blockArb(paths, tie('leafy')),
    leafy: fc.oneof(leaf, fc.dictionary(fc.constantFrom(...KEYS), leaf, { maxKeys: 3 })),
  }));
  return node;
}

export function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return 'null'; // BigInt or cycles: not JSON, so a text block that is prose.
  }
}

/**
 * Makes a generated result hostile in place: getters that throw, proxies whose traps throw,
 * revoked proxies, cycles. `choices` picks what happens at each object (deterministic per input).
 */
export function poison(value: unknown, choices: number[]): unknown {
  let i = 0;
  const next = () => choices[i++ % Math.max(1, choices.length)] ?? 0;
  const seen = new Set<object>();
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return v;
    seen.add(v);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = walk(o[k]);
    switch (next() % 6) {
      case 0:
        Object.defineProperty(o, 'plot_path', { enumerable: true, get: () => { throw new Error('getter bomb'); } });
        return o;
      case 1:
        return new Proxy(o, { ownKeys: () => { throw new Error('ownKeys bomb'); } });
      case 2:
        return new Proxy(o, { get: () => { throw new Error('get bomb'); } });
      case 3: {
        const r = Proxy.revocable(o, {});
        r.revoke();
        return r.proxy;
      }
      case 4:
        o.self = o; // a cycle
        return o;
      default:
        return o;
    }
  };
  return walk(value);
}
