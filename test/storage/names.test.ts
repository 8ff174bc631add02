import { describe, expect, it } from 'vitest';
import { MAX_NAME_BYTES, sanitiseName, splitExt, variantName } from '../../src/storage/names.js';

describe('sanitiseName', () => {
  it.each([
    ['plot.png', 'plot.png'],
    ['a/b.png', 'a_b.png'],
    ['a\\b.png', 'a_b.png'],
    ['..', 'artifact'],
    ['.', 'artifact'],
    ['', 'artifact'],
    ['.env', '_env'],
    ['../../etc/passwd', '___.._etc_passwd'],
    ['.aw-tmp-123', '_aw-tmp-123'],
    ['a\0b\x01c\x7f.txt', 'a_b_c_.txt'],
    ['name\ufffd.csv', 'name_.csv'],
    ['trailing. ', 'trailing'],
    ['CON.txt', '_CON.txt'],
    ['con', '_con'],
    ['a:b*c?.md', 'a_b_c_.md'],
    ['café.csv', 'café.csv'],
    // A right-to-left override makes this read "reportexe.pdf"; zero-width and other invisible
    // format characters let two names look alike.
    ['report\u202Efdp.exe', 'report_fdp.exe'],
    ['a\u200Bb\u200Dc\uFEFF.png', 'a_b_c_.png'],
    ['\u2066x\u2069.csv', '_x_.csv'],
  ])('%j → %j', (raw, want) => {
    expect(sanitiseName(raw)).toBe(want);
  });

  it('caps names at 200 UTF-8 bytes keeping the extension and whole characters', () => {
    const long = sanitiseName(`${'é'.repeat(300)}.parquet`);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(long.endsWith('é.parquet')).toBe(true);
    expect(sanitiseName('x'.repeat(300))).toHaveLength(200);
  });
});

describe('variantName and splitExt', () => {
  it.each([
    ['hist.png', 0, 'hist.png'],
    ['hist.png', 1, 'hist_1.png'],
    ['model.tar.gz', 2, 'model_2.tar.gz'],
    ['noext', 3, 'noext_3'],
  ])('%s #%d → %s', (name, n, want) => {
    expect(variantName(name, n)).toBe(want);
  });
  it('keeps variants of a maximal name within the cap', () => {
    const v = variantName(`${'x'.repeat(196)}.csv`, 12345);
    expect(Buffer.byteLength(v)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(v.endsWith('_12345.csv')).toBe(true);
  });
  it('does not mistake a leading dot or a long tail for an extension', () => {
    expect(splitExt('.bashrc')).toEqual(['.bashrc', '']);
    expect(splitExt(`a.${'y'.repeat(40)}`)).toEqual([`a.${'y'.repeat(40)}`, '']);
  });
});
