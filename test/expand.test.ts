import { describe, expect, it } from 'vitest';
import { expandList, expandMap, expandString } from '../src/expand.js';

const env = { HOME: '/home/u', TOKEN: 's3cr3t', EMPTY: '' };

describe('expandString', () => {
  it.each([
    ['plain', 'plain', []],
    ['${HOME}/data', '/home/u/data', []],
    ['Bearer ${TOKEN}', 'Bearer s3cr3t', []],
    ['${HOME}:${TOKEN}', '/home/u:s3cr3t', []],
    ['${NOPE}', '', ['NOPE']],
    ['${NOPE:-fallback}', 'fallback', []],
    ['${EMPTY:-fallback}', 'fallback', []],
    ['${EMPTY}', '', []],
    ['$HOME stays', '$HOME stays', []],
    ['${1BAD}', '${1BAD}', []],
  ])('%s → %s', (input, value, missing) => {
    expect(expandString(input, env)).toEqual({ value, missing });
  });
});

describe('expandList / expandMap', () => {
  it('expands every item and collects what is missing', () => {
    expect(expandList(['--dir', '${HOME}', '${A}', '${B}'], env)).toEqual({ value: ['--dir', '/home/u', '', ''], missing: ['A', 'B'] });
    expect(expandList(undefined, env)).toEqual({ value: [], missing: [] });
  });
  it('expands values, never keys', () => {
    expect(expandMap({ Authorization: 'Bearer ${TOKEN}', '${HOME}': 'x' }, env)).toEqual({
      value: { Authorization: 'Bearer s3cr3t', '${HOME}': 'x' },
      missing: [],
    });
  });
});
