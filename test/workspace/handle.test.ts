import { describe, expect, it } from 'vitest';
import { HandleError, handleOf, parseHandle } from '../../src/workspace/handle.js';

describe('workspace handles', () => {
  it('round-trip a run', () => {
    const h = handleOf({ dataset: 'tips', runId: '20261130_101112_3' });
    expect(h).toBe('tips/20261130_101112_3');
    expect(parseHandle(h)).toEqual({ dataset: 'tips', runId: '20261130_101112_3' });
  });

  // Every one is refused with a reason, never reinterpreted into some other run.
  const hostile: [string, unknown, RegExp][] = [
    ['not a string', 42, /not number/],
    ['null', null, /not null/],
    ['no slash', 'tips', /expected "\{dataset\}\/\{run_id\}"/],
    ['empty', '', /expected/],
    ['three parts', 'tips/20261130_101112/x', /expected/],
    ['parent segment', '../20261130_101112', /dataset part/],
    ['dot dataset', './20261130_101112', /dataset part/],
    ['absolute', '/etc/passwd', /expected/],
    ['not a slug (upper case)', 'Tips/20261130_101112', /dataset part/],
    ['not a slug (data file)', 'tips.csv/20261130_101112', /dataset part/],
    ['empty dataset', '/20261130_101112', /dataset part/],
    ['backslash', 'tips\\x/20261130_101112', /dataset part/],
    ['run id traversal', 'tips/..', /run id/],
    ['run id latest', 'tips/latest', /run id/],
    ['run id with suffix text', 'tips/20261130_101112x', /run id/],
    ['NUL', 'tips/20261130_101112\u0000', /run id/],
    ['newline', 'tips/20261130_101112\n', /run id/],
    ['bidi override in dataset', 'ti\u202eps/20261130_101112', /dataset part/],
    ['too long', `${'a'.repeat(120)}/20261130_101112`, /longer than 128/],
  ];
  it.each(hostile)('refuses %s', (_what, value, why) => {
    expect(() => parseHandle(value)).toThrow(HandleError);
    expect(() => parseHandle(value)).toThrow(why);
  });
});
