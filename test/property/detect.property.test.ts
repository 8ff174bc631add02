// Property tests of detection (pure): for any nested result, hostile objects included, no
// exception escapes, the output has its promised shape and bounds, the same input gives the same
// answer, and a path planted under an artifact key at any depth inside noise is found.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argumentPaths, detectArtifacts } from '../../src/routing/detect.js';
import { oddString, pathArb, poison, resultArb } from './arbitraries.js';

const SEGMENTS = ['t', 'out', 'plot.png', 'model.pkl', 'a b.csv', '.ssh', 'id_rsa', '.env', 'latest'];
const paths = pathArb(SEGMENTS, ['/tmp/x', '/data', 'C:', '']);
const BLOCK_TYPES = new Set(['image', 'audio', 'resource']);

function checkShape(d: ReturnType<typeof detectArtifacts>, maxCandidates = 1000): void {
  expect(Array.isArray(d.candidates)).toBe(true);
  expect(Array.isArray(d.limits)).toBe(true);
  expect(d.candidates.length).toBeLessThanOrEqual(maxCandidates);
  for (const c of d.candidates) {
    expect(typeof c.label).toBe('string');
    if (c.kind === 'path') {
      expect(typeof c.path).toBe('string');
      expect(c.path).not.toBe('');
      expect(c.path).not.toMatch(/^(https?|s3|data):/i);
      expect(typeof c.explicit).toBe('boolean');
    } else {
      expect(BLOCK_TYPES.has(c.blockType)).toBe(true);
      expect(typeof c.data).toBe('string');
    }
  }
}

describe('detectArtifacts over random results', () => {
  it('never throws; shape, bounds and determinism hold', () => {
    fc.assert(
      fc.property(resultArb(paths), (result) => {
        const d = detectArtifacts(result);
        checkShape(d);
        expect(detectArtifacts(result)).toEqual(d);
        // Tight bounds are honoured and reported, never an exception.
        const small = detectArtifacts(result, { maxDepth: 2, maxNodes: 20, maxCandidates: 3, maxTextChars: 50 });
        checkShape(small, 3);
      }),
      { numRuns: 400 },
    );
  });

  it('hostile objects (throwing getters and proxies, revoked proxies, cycles) never break it', () => {
    fc.assert(
      fc.property(resultArb(paths), fc.array(fc.nat(), { minLength: 1, maxLength: 16 }), (result, choices) => {
        const hostile = poison(structuredClone(result), choices);
        checkShape(detectArtifacts(hostile));
        expect(() => argumentPaths(hostile)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('a path under an artifact key is found at any depth inside noise', () => {
    const key = fc.constantFrom(['plot_path', 'plot'], ['model_paths', 'model'], ['report_path', 'report'], ['data_paths', 'data'], ['metrics_path', 'metrics']);
    const wrap = fc.array(fc.oneof(fc.constant('arr'), fc.constant('obj'), fc.constant('text')), { maxLength: 12 });
    fc.assert(
      fc.property(resultArb(paths, 3), key, wrap, fc.stringMatching(/^\/[a-z0-9_]{1,12}\/[a-z0-9_]{1,12}\.(png|pkl|csv)$/), (noise, [k, type], layers, planted) => {
        let v: unknown = { [k]: k.endsWith('s') ? [planted] : planted };
        for (const layer of layers) {
          if (layer === 'arr') v = [noise, v];
          else if (layer === 'obj') v = { noise, inner: v };
          else v = { content: [{ type: 'text', text: JSON.stringify(v) }] };
        }
        const found = detectArtifacts(v).candidates.find((c) => c.kind === 'path' && c.path === planted);
        expect(found).toMatchObject({ kind: 'path', path: planted });
        // The key's type, unless the noise named the same path explicitly first.
        if (found?.kind === 'path' && !found.explicit) expect(found.type).toBe(type);
      }),
      { numRuns: 300 },
    );
  });

  it('argumentPaths never throws and returns strings', () => {
    fc.assert(
      fc.property(fc.oneof(resultArb(paths), oddString), (args) => {
        const out = argumentPaths(args);
        expect(out.every((p) => typeof p === 'string')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
