import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { argumentPaths, detectArtifacts } from '../../src/routing/detect.js';
import type { Candidate } from '../../src/routing/types.js';

const paths = (r: unknown) =>
  detectArtifacts(r).candidates.flatMap((c) => (c.kind === 'path' ? [c.path] : []));

describe('detectArtifacts: keys', () => {
  it('finds every artifact key, strings and lists, at any depth', () => {
    const d = detectArtifacts({
      model_path: '/t/m.pkl',
      report_paths: ['/t/r1.pdf', '/t/r2.html'],
      nested: { deeper: [{ plot_path: '/t/p.png', pdf_path: '/t/x.pdf' }], metrics_paths: ['/t/m.json'] },
      index_path: '/t/i.faiss',
      data_paths: ['/t/d.csv', { path: '/t/e.csv' }],
      image_paths: ['/t/img.jpg'],
    });
    const byPath = (a: Candidate, b: Candidate) => ((a as { path: string }).path < (b as { path: string }).path ? -1 : 1);
    expect([...d.candidates].sort(byPath)).toEqual<Candidate[]>([
      { kind: 'path', path: '/t/d.csv', label: 'data_paths', type: 'data', explicit: false },
      { kind: 'path', path: '/t/e.csv', label: 'data_paths', type: 'data', explicit: false },
      { kind: 'path', path: '/t/i.faiss', label: 'index_path', type: 'index', explicit: false },
      { kind: 'path', path: '/t/img.jpg', label: 'image_paths', type: 'plot', explicit: false },
      { kind: 'path', path: '/t/m.json', label: 'metrics_paths', type: 'metrics', explicit: false },
      { kind: 'path', path: '/t/m.pkl', label: 'model_path', type: 'model', explicit: false },
      { kind: 'path', path: '/t/p.png', label: 'plot_path', type: 'plot', explicit: false },
      { kind: 'path', path: '/t/r1.pdf', label: 'report_paths', type: 'report', explicit: false },
      { kind: 'path', path: '/t/r2.html', label: 'report_paths', type: 'report', explicit: false },
      { kind: 'path', path: '/t/x.pdf', label: 'pdf_path', type: 'report', explicit: false },
    ]);
    expect(d.limits).toEqual([]);
  });

  it('reads artifacts: [{path,type,label}] and plain string lists as explicit', () => {
    const d = detectArtifacts({ artifacts: [{ path: '/t/a.bin', type: 'model', label: 'weights' }, '/t/b.txt', { path: '/t/c' }] });
    expect(d.candidates).toEqual([
      { kind: 'path', path: '/t/a.bin', type: 'model', label: 'weights', explicit: true },
      { kind: 'path', path: '/t/b.txt', label: 'artifacts', explicit: true },
      { kind: 'path', path: '/t/c', label: 'artifacts', explicit: true },
    ]);
  });

  it('ignores empty strings, remote URLs and unrelated keys; converts file:// URLs', () => {
    expect(paths({ plot_path: '', report_path: 'https://x/y.pdf', data_path: 's3://b/k.csv', path: '/t/not-a-key', csv_path: '/t/in.csv' })).toEqual([]);
    expect(paths({ plot_path: pathToFileURL('/t/a b.png').href })).toEqual(['/t/a b.png']);
  });

  it('reads camelCase keys, generic output keys, file:// URIs under any key, and the keys the config adds', () => {
    expect(detectArtifacts({ imagePath: '/t/a.png', modelPaths: ['/t/m.pt'], outputPath: '/t/r.pdf', output_file: '/t/d.csv', filePath: '/t/f.bin' }).candidates).toEqual([
      { kind: 'path', path: '/t/a.png', type: 'plot', label: 'imagePath', explicit: false },
      { kind: 'path', path: '/t/m.pt', type: 'model', label: 'modelPaths', explicit: false },
      { kind: 'path', path: '/t/r.pdf', label: 'outputPath', explicit: false },
      { kind: 'path', path: '/t/d.csv', label: 'output_file', explicit: false },
      { kind: 'path', path: '/t/f.bin', label: 'filePath', explicit: false },
    ]);
    // mcp-pdf answers {success, uri}: a file:// URI names a local file whatever the key.
    expect(paths({ success: true, uri: pathToFileURL('/t/out.pdf').href, note: 'file is ready', nested: { download: 'file:///t/x.bin' } })).toEqual(['/t/out.pdf', '/t/x.bin']);
    expect(paths({ uri: 'https://example.com/x.pdf' })).toEqual([]);
    expect(detectArtifacts({ resultFile: '/t/r.csv' }, { resultKeys: { resultFile: 'data' } }).candidates).toEqual([{ kind: 'path', path: '/t/r.csv', type: 'data', label: 'resultFile', explicit: false }]);
    expect(detectArtifacts({ resultFile: '/t/r.csv' }).candidates).toEqual([]);
  });

  it('dedupes a path found twice; an explicit naming wins', () => {
    const d = detectArtifacts({ plot_path: '/t/p.png', more: { plot_paths: ['/t/./p.png'] }, artifacts: [{ path: '/t/p.png', type: 'figure', label: 'hist' }] });
    expect(d.candidates).toEqual([{ kind: 'path', path: '/t/p.png', type: 'figure', label: 'hist', explicit: true }]);
  });
});

describe('detectArtifacts: MCP CallToolResult shapes', () => {
  const structured = { plot_paths: ['/t/h.png'], model_path: '/t/m.pkl' };
  it('reads structuredContent and its JSON text mirror once', () => {
    const d = detectArtifacts({ content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured });
    expect(d.candidates.map((c) => (c.kind === 'path' ? c.path : '')).sort()).toEqual(['/t/h.png', '/t/m.pkl']);
  });

  it('parses JSON objects and arrays inside text blocks, not prose', () => {
    expect(paths({ content: [{ type: 'text', text: ' [{"report_path": "/t/r.pdf"}]' }] })).toEqual(['/t/r.pdf']);
    expect(paths({ content: [{ type: 'text', text: 'saved {plot_path: /t/x.png}' }, { type: 'text', text: '{broken' }] })).toEqual([]);
    expect(paths('{"artifacts": ["/t/from-json-text.bin"]}')).toEqual(['/t/from-json-text.bin']);
  });

  it('reads file:// resource_link blocks and ignores other schemes', () => {
    const d = detectArtifacts({
      content: [
        { type: 'resource_link', uri: pathToFileURL('/t/out.parquet').href, name: 'out' },
        { type: 'resource_link', uri: 'https://example.com/x.png', name: 'remote' },
        { type: 'resource_link', uri: 'file://otherhost/x.png', name: 'unc' },
      ],
    });
    expect(d.candidates).toEqual([{ kind: 'path', path: '/t/out.parquet', label: 'out', explicit: false }]);
  });

  it('turns image, audio and embedded resource blocks into inline candidates', () => {
    const d = detectArtifacts({
      content: [
        { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
        { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
        { type: 'resource', resource: { uri: 'mem://x/dir/notes.md?v=1', mimeType: 'text/markdown', text: '# hi' } },
        { type: 'resource', resource: { uri: 'file:///t/blob.bin', blob: 'AAEC' } },
        { type: 'resource', resource: { uri: 'x://y/..%2F..%2Fevil.txt', text: 'e' } },
      ],
    });
    expect(d.candidates).toEqual([
      { kind: 'inline', blockType: 'image', encoding: 'base64', data: 'iVBORw0KGgo=', mime: 'image/png', label: 'image' },
      { kind: 'inline', blockType: 'audio', encoding: 'base64', data: 'UklGRg==', mime: 'audio/wav', label: 'audio' },
      { kind: 'inline', blockType: 'resource', encoding: 'utf8', data: '# hi', mime: 'text/markdown', name: 'notes.md', label: 'resource' },
      { kind: 'inline', blockType: 'resource', encoding: 'base64', data: 'AAEC', name: 'blob.bin', label: 'resource' },
      { kind: 'inline', blockType: 'resource', encoding: 'utf8', data: 'e', name: '../../evil.txt', label: 'resource' },
    ]);
  });

  it('does not re-route its own routing report in _meta', () => {
    expect(paths({ _meta: { 'artifact-workspace/routed': { entries: [{ dst: '/w/a.png' }], artifacts: ['/w/a.png'] } } })).toEqual([]);
  });
});

describe('detectArtifacts: GPU facts', () => {
  it.each([
    [{ gpu_used: true }, { used: true }],
    [{ gpu: true }, { used: true }],
    [{ metrics: { gpu_device: 'NVIDIA RTX 4090' } }, { used: true, device: 'NVIDIA RTX 4090' }],
    [{ device: 'cuda:0' }, { used: true }],
    [{ gpu: 'A100' }, { used: true, device: 'A100' }],
  ])('%j → %j', (r, gpu) => {
    expect(detectArtifacts(r).gpu).toEqual(gpu);
  });
  it.each([[{ gpu_used: false }], [{ device: 'cpu' }], [{ gpu: 'none' }], [{}]])('%j → no gpu', (r) => {
    expect(detectArtifacts(r).gpu).toBeUndefined();
  });
});

describe('detectArtifacts: hostile input never throws and stays bounded', () => {
  it('handles 10,000-deep JSON (object and text) and records the depth bound', () => {
    let deep: unknown = { plot_path: '/t/deep.png' };
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    const d = detectArtifacts({ plot_path: '/t/top.png', deep });
    expect(paths({ plot_path: '/t/top.png', deep })).toEqual(['/t/top.png']);
    expect(d.limits).toEqual(['max depth 64 reached']);
    const text = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    expect(detectArtifacts({ content: [{ type: 'text', text }] }).limits).toEqual(['max depth 64 reached']);
  });

  it('keeps the first 1000 of 10,000 paths', () => {
    const list = Array.from({ length: 10_000 }, (_, i) => `/t/f${i}.png`);
    const d = detectArtifacts({ plot_paths: list });
    expect(d.candidates).toHaveLength(1000);
    expect(d.limits).toContain('max candidates 1000 reached');
  });

  it('bounds the nodes visited in a huge array', () => {
    const d = detectArtifacts({ x: new Array(5_000_000).fill(0) });
    expect(d.limits).toContain('max nodes 100000 reached');
  });

  it('skips text blocks over the size bound', () => {
    const text = `{"plot_path": "/t/x.png", "pad": "${'x'.repeat(1000)}"}`;
    const d = detectArtifacts({ content: [{ type: 'text', text }] }, { maxTextChars: 100 });
    expect(d.candidates).toEqual([]);
    expect(d.limits).toEqual(['text block over 100 chars not parsed']);
  });

  it('survives cycles, throwing getters, revoked proxies and odd values', () => {
    const cyc: Record<string, unknown> = { plot_path: '/t/c.png' };
    cyc.self = cyc;
    cyc.list = [cyc, cyc];
    const bad = { get model_path(): string { throw new Error('boom'); }, report_path: '/t/r.pdf' };
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const trap = new Proxy({}, { ownKeys() { throw new Error('no keys'); } });
    for (const v of [cyc, bad, proxy, trap, { content: proxy }, null, undefined, 42, 'text', Symbol('s'), () => 1, new Map(), BigInt(1)]) {
      expect(() => detectArtifacts(v)).not.toThrow();
    }
    expect(paths(cyc)).toEqual(['/t/c.png']);
    expect(paths(bad)).toEqual(['/t/r.pdf']);
  });
});

describe('argumentPaths', () => {
  it('collects path-like strings from arguments, bounded', () => {
    const got = argumentPaths({ csv_path: '/data/tips.csv', opts: { out: './out/x.png', n: 3, name: 'hello world' }, list: ['rel.csv', 'https://x/y.csv'], uri: 'file:///t/u.txt' });
    expect(got.sort()).toEqual(['/data/tips.csv', '/t/u.txt', 'out/x.png', 'rel.csv']);
    let deep: unknown = '/t/deep.csv';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(argumentPaths(deep)).toEqual([]);
    expect(argumentPaths(null)).toEqual([]);
  });
});
