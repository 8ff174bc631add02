import { describe, expect, it } from 'vitest';
import { hostAllowed, originAllowed, splitHost } from '../../src/transports/http-guard.js';

describe('Host header against DNS rebinding', () => {
  it.each([
    ['127.0.0.1:3000', '127.0.0.1', 3000, [], true],
    ['localhost:3000', '127.0.0.1', 3000, [], true],
    ['[::1]:3000', '127.0.0.1', 3000, [], true],
    ['localhost', '127.0.0.1', 3000, [], true],
    ['LOCALHOST:3000', '127.0.0.1', 3000, [], true],
    ['localhost:3001', '127.0.0.1', 3000, [], false],
    ['evil.example:3000', '127.0.0.1', 3000, [], false],
    ['evil.example', '127.0.0.1', 3000, [], false],
    ['127.0.0.1.evil.example:3000', '127.0.0.1', 3000, [], false],
    ['localhost@evil.example', '127.0.0.1', 3000, [], false],
    ['', '127.0.0.1', 3000, [], false],
    [undefined, '127.0.0.1', 3000, [], false],
    ['10.0.0.5:3000', '0.0.0.0', 3000, [], false],
    ['10.0.0.5:3000', '0.0.0.0', 3000, ['10.0.0.5:3000'], true],
    ['mybox:3000', '0.0.0.0', 3000, ['mybox'], true],
    ['mybox:3000', '127.0.0.1', 3000, ['mybox:4000'], false],
    ['[::1]:3000', '::1', 3000, [], true],
  ] as const)('%s (bound %s:%s, extra %j) → %s', (header, host, port, extra, want) => {
    expect(hostAllowed(header, host, port, [...extra])).toBe(want);
  });

  it('splits host and port', () => {
    expect(splitHost('[::1]:80')).toEqual(['[::1]', 80]);
    expect(splitHost('a.b')).toEqual(['a.b', undefined]);
  });
});

describe('Origin header', () => {
  it.each([
    [undefined, [], true],
    ['http://localhost:5173', [], true],
    ['https://127.0.0.1', [], true],
    ['http://[::1]:8080', [], true],
    ['http://evil.example', [], false],
    ['http://localhost.evil.example', [], false],
    ['null', [], false],
    ['file://', [], false],
    ['chrome-extension://abc', [], false],
    ['https://app.example', ['https://app.example'], true],
  ] as const)('%s → %s', (origin, extra, want) => {
    expect(originAllowed(origin, [...extra])).toBe(want);
  });
});
