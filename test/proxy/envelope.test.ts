// The 2026-07-28 envelope on its way through the proxy (src/proxy/envelope.ts).
import { describe, expect, it } from 'vitest';
import { laneEnvelope, retryFields, stripEnvelope } from '../../src/proxy/envelope.js';

const V = 'io.modelcontextprotocol/protocolVersion';
const I = 'io.modelcontextprotocol/clientInfo';
const C = 'io.modelcontextprotocol/clientCapabilities';
const good = { [V]: '2026-07-28', [I]: { name: 'h', version: '1' }, [C]: {} };

describe('laneEnvelope: only a plain envelope from a host that takes no requests rides the lane', () => {
  it('takes a plain one', () => expect(laneEnvelope({ ...good, progressToken: 3 })).toBe(true));

  // Each is left to the SDK path, which answers it (an error, or input_required rounds).
  const refused: [string, Record<string, unknown> | undefined][] = [
    ['no _meta', undefined],
    ['no envelope', { progressToken: 1 }],
    ['another revision', { ...good, [V]: '2025-11-25' }],
    ['a revision as a number', { ...good, [V]: 20260728 }],
    ['no client info', { [V]: '2026-07-28', [C]: {} }],
    ['client info without a version', { ...good, [I]: { name: 'h' } }],
    ['client info as a string', { ...good, [I]: 'h/1' }],
    ['no capabilities', { [V]: '2026-07-28', [I]: { name: 'h', version: '1' } }],
    ['capabilities as an array', { ...good, [C]: [] }],
    ['capabilities null', { ...good, [C]: null }],
    ['a host that samples', { ...good, [C]: { sampling: {} } }],
    ['a host that elicits', { ...good, [C]: { elicitation: {} } }],
    ['a host with roots', { ...good, [C]: { roots: { listChanged: true } } }],
  ];
  it.each(refused)('refuses %s', (_what, meta) => expect(laneEnvelope(meta)).toBe(false));
});

describe('what a server is told', () => {
  it('never the host\'s envelope; the rest of _meta as it came', () => {
    expect(stripEnvelope({ ...good, progressToken: 7, 'artifact-workspace/workspace': 'tips/20261130_101112', 'io.modelcontextprotocol/logLevel': 'debug' })).toEqual({
      progressToken: 7,
      'artifact-workspace/workspace': 'tips/20261130_101112',
    });
    expect(stripEnvelope(undefined)).toEqual({});
  });

  it('the retry fields only when the host sent them', () => {
    expect(retryFields({})).toEqual({});
    expect(retryFields({ requestState: 's', inputResponses: { a: {} } })).toEqual({ requestState: 's', inputResponses: { a: {} } });
  });
});
