import { describe, expect, it } from 'vitest';
import { normaliseType, subdirFor, typeForKey } from '../../src/routing/classify.js';

describe('subdirFor', () => {
  it.each([
    ['model', 'x.bin', 'models'],
    ['report', 'x', 'reports'],
    ['plot', 'x.csv', 'plots'],
    ['image', 'x', 'plots'],
    ['figure', 'x', 'plots'],
    ['metrics', 'x', 'metrics'],
    ['data', 'x.png', 'data'],
    ['dataset', 'x', 'data'],
    ['upload', 'x', 'uploads'],
    ['index', 'x', 'indexes'],
    ['log', 'x', 'logs'],
    ['tmp', 'x', 'tmp'],
    ['MODEL', 'x', 'models'],
    [' Plot ', 'x', 'plots'],
  ])('type %s (%s) → %s', (type, name, dir) => {
    expect(subdirFor(type, name)).toBe(dir);
  });

  it.each([
    ['a.png', 'plots'], ['a.JPG', 'plots'], ['a.jpeg', 'plots'], ['a.svg', 'plots'], ['a.gif', 'plots'], ['a.webp', 'plots'],
    ['a.pdf', 'reports'], ['a.html', 'reports'], ['a.md', 'reports'], ['a.docx', 'reports'],
    ['a.pkl', 'models'], ['a.joblib', 'models'], ['a.pt', 'models'], ['a.pth', 'models'], ['a.h5', 'models'],
    ['a.onnx', 'models'], ['a.pb', 'models'], ['a.safetensors', 'models'], ['a.keras', 'models'],
    ['a.csv', 'data'], ['a.parquet', 'data'], ['a.feather', 'data'], ['a.xlsx', 'data'],
    ['a.faiss', 'indexes'], ['a.index', 'indexes'], ['a.log', 'logs'],
    ['a.weird', 'data'], ['noext', 'data'], ['.png', 'data'],
  ])('unknown type guesses from %s → %s', (name, dir) => {
    expect(subdirFor(undefined, name)).toBe(dir);
    expect(subdirFor('something-else', name)).toBe(dir);
  });

  it('does not treat Object.prototype names as types', () => {
    expect(subdirFor('constructor', 'a.png')).toBe('plots');
    expect(subdirFor('__proto__', 'a')).toBe('data');
  });
});

describe('typeForKey', () => {
  it.each([
    ['model_path', 'model'], ['model_paths', 'model'],
    ['report_path', 'report'], ['report_paths', 'report'], ['pdf_path', 'report'],
    ['plot_path', 'plot'], ['plot_paths', 'plot'], ['image_path', 'plot'], ['image_paths', 'plot'],
    ['metrics_path', 'metrics'], ['metrics_paths', 'metrics'],
    ['index_path', 'index'], ['index_paths', 'index'],
    ['data_path', 'data'], ['data_paths', 'data'],
  ])('%s → %s', (key, type) => {
    expect(typeForKey(key)).toBe(type);
  });

  it.each(['path', 'csv_path', 'toString', 'artifacts', 'Model_Path', 'constructor', '__proto__'])('%s is not an artifact key', (key) => {
    expect(typeForKey(key)).toBeUndefined();
  });

  it.each(['plotPath', 'imagePaths', 'modelPath', 'pdfPath'])('camelCase %s names the same type as its snake_case twin', (key) => {
    expect(typeForKey(key)).toBe(typeForKey(key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)));
  });

  it.each(['output_path', 'outputPath', 'output_file', 'outputFiles', 'file_path', 'filePath', 'saved_path'])('%s is an output typed by its extension', (key) => {
    expect(typeForKey(key)).toBe('');
  });

  it('keys the config adds come first, typed as it says', () => {
    expect(typeForKey('chart', { chart: 'plot' })).toBe('plot');
    expect(typeForKey('plot_path', { plot_path: 'report' })).toBe('report');
    expect(typeForKey('toString', {})).toBeUndefined();
  });
});

describe('normaliseType', () => {
  it.each([
    ['figure', 'plots', 'plot'], ['images', 'plots', 'plot'], ['models', 'models', 'model'], ['dataset', 'data', 'data'],
    [undefined, 'reports', 'report'], ['mystery', 'indexes', 'index'], ['uploads', 'uploads', 'upload'], ['log', 'logs', 'log'],
    ['tmp', 'tmp', 'tmp'], ['metric', 'metrics', 'metrics'],
  ] as const)('%s in %s → %s', (type, dir, want) => {
    expect(normaliseType(type, dir)).toBe(want);
  });
});
