import { describe, expect, it } from 'vitest';
import { compareRunIds, datasetSlug, isRunId, runIdFor } from '../../src/workspace/slug.js';

describe('datasetSlug', () => {
  it.each([
    ['tips.csv', 'tips'],
    ['/data/uploads/tips.csv', 'tips'],
    ['C:\\Users\\me\\tips.csv', 'tips'],
    ['tips', 'tips'],
    ['Tips Data.xlsx', 'tips_data'],
    ['uploaded_1697571234_tips.csv', 'tips'],
    ['1697571234_tips.csv', 'tips'],
    ['tips.csv.gz', 'tips'],
    ['Café Sales.parquet', 'cafe_sales'],
    ['../../etc/passwd', 'passwd'],
    ['..', 'default'],
    ['.', 'default'],
    ['', 'default'],
    ['   ', 'default'],
    ['////', 'default'],
    ['a'.repeat(300), 'a'.repeat(64)],
    ['名前.csv', 'default'],
    ['x\u0000y.csv', 'x_y'],
    ['my-data_v2.csv', 'my-data_v2'],
    ['2024', '2024'],
    // Windows device names cannot name a folder: a workspace copied there must still open.
    ['con', 'con_dataset'],
    ['NUL.csv', 'nul_dataset'],
    ['com1', 'com1_dataset'],
    ['lpt9.parquet', 'lpt9_dataset'],
    ['console', 'console'],
  ])('%j → %j', (input, want) => {
    expect(datasetSlug(input)).toBe(want);
  });

  it('is idempotent and always matches [a-z0-9_-]{1,64}', () => {
    for (const s of ['tips.csv', 'A b C', '..', 'x'.repeat(100), '__a__']) {
      const slug = datasetSlug(s);
      expect(slug).toMatch(/^[a-z0-9_-]{1,64}$/);
      expect(datasetSlug(slug)).toBe(slug);
    }
  });
});

describe('run ids', () => {
  const d = new Date(2025, 9, 17, 22, 30, 45);
  it('formats local time, suffix from the second run on', () => {
    expect(runIdFor(d)).toBe('20251017_223045');
    expect(runIdFor(d, 2)).toBe('20251017_223045_2');
    expect(isRunId('20251017_223045_12')).toBe(true);
    expect(isRunId('../20251017_223045')).toBe(false);
    expect(isRunId('20251017_223045_')).toBe(false);
  });

  it('orders by timestamp, then numerically by suffix', () => {
    const ids = ['20251017_223045_10', '20251017_223046', '20251017_223045', '20251017_223045_2'];
    expect([...ids].sort(compareRunIds)).toEqual(['20251017_223045', '20251017_223045_2', '20251017_223045_10', '20251017_223046']);
  });
});
