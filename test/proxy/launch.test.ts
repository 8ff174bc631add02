import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { downstreamSourceRoots, launchSpec } from '../../src/proxy/launch.js';
import { backoffDelay, Tail } from '../../src/proxy/tail.js';

describe('launchSpec', () => {
  it('stdio: the whole environment plus the entry\'s, ${VAR} expanded, cwd relative to the config', () => {
    const l = launchSpec({ command: 'node', args: ['${ROOT}/s.js', '${MISSING}'], env: { K: '${TOKEN}' }, cwd: 'srv' }, { PATH: '/bin', ROOT: '/r', TOKEN: 't' }, '/cfg');
    expect(l).toEqual({
      spec: { kind: 'stdio', command: 'node', args: ['/r/s.js', ''], env: { PATH: '/bin', ROOT: '/r', TOKEN: 't', K: 't' }, cwd: path.resolve('/cfg/srv') },
      missing: ['MISSING'],
    });
  });
  it('stdio: never the bearer token, nor npm\'s variables for the proxy\'s own run, unless the entry sets them', () => {
    const env = { PATH: '/bin', ARTIFACT_WORKSPACE_TOKEN: 's3cret', npm_config_prefix: '/tmp/npx', npm_package_name: 'artifact-workspace-mcp', NPM_CONFIG_CACHE: '/c', INIT_CWD: '/x', HOME: '/h' };
    expect(launchSpec({ command: 'node' }, env, '/cfg').spec).toMatchObject({ env: { PATH: '/bin', HOME: '/h' } });
    expect(Object.keys((launchSpec({ command: 'node' }, env, '/cfg').spec as { env: object }).env).sort()).toEqual(['HOME', 'PATH']);
    expect(launchSpec({ command: 'node', env: { ARTIFACT_WORKSPACE_TOKEN: '${ARTIFACT_WORKSPACE_TOKEN}' } }, env, '/cfg').spec).toMatchObject({ env: { ARTIFACT_WORKSPACE_TOKEN: 's3cret' } });
  });
  it('http: headers expanded', () => {
    expect(launchSpec({ type: 'http', url: 'http://h/mcp', headers: { Authorization: 'Bearer ${T}' } }, { T: 'x' }, '/cfg')).toEqual({
      spec: { kind: 'http', url: 'http://h/mcp', headers: { Authorization: 'Bearer x' } },
      missing: [],
    });
  });
});

describe('downstreamSourceRoots', () => {
  const home = '/home/u';
  it.each<[string, Record<string, any>, string, string[], number]>([
    ['explicit cwd, relative to the config', { a: { command: 'x', cwd: 'work' } }, '/cfg', [path.resolve('/cfg/work')], 0],
    ['no cwd: the config file\'s folder', { a: { command: 'x' } }, '/proj', ['/proj'], 0],
    ['no cwd, a config at / is too broad', { a: { command: 'x' } }, '/', [], 1],
    ['no cwd, a config in home is too broad', { a: { command: 'x' } }, home, [], 1],
    ['a folder inside home is fine', { a: { command: 'x' } }, `${home}/proj`, [`${home}/proj`], 0],
    ['an explicit cwd of / is too broad', { a: { command: 'x', cwd: '/' } }, '/proj', [], 1],
    ['an explicit cwd of home is too broad', { a: { command: 'x', cwd: home } }, '/proj', [], 1],
    ['an explicit cwd holding home is too broad', { a: { command: 'x', cwd: '/home' } }, '/proj', [], 1],
    ['an explicit cwd reaching home through ..', { a: { command: 'x', cwd: `${home}/proj/..` } }, '/proj', [], 1],
    ['~ in cwd is the home folder', { a: { command: 'x', cwd: '~/ds' } }, '/proj', [`${home}/ds`], 0],
    ['http servers add nothing', { a: { type: 'http', url: 'http://h' } }, '/', [], 0],
    ['disabled servers add nothing', { a: { command: 'x', disabled: true } }, '/', [], 0],
  ])('%s', (_t, servers, baseDir, roots, warnings) => {
    const r = downstreamSourceRoots(servers, { home, baseDir, env: { HOME: home } });
    expect(r.roots).toEqual(roots);
    expect(r.warnings).toHaveLength(warnings);
  });
});

describe('Tail and backoff', () => {
  it('keeps the last characters, from a line start', () => {
    const t = new Tail(20);
    for (let i = 0; i < 50; i++) t.push(`line ${i}\n`);
    expect(t.text()).toBe('line 48\nline 49');
  });
  it('doubles up to the cap', () => {
    expect([1, 2, 3, 4, 10, 20].map((n) => backoffDelay(n, 250, 5000))).toEqual([250, 500, 1000, 2000, 5000, 5000]);
  });
});
