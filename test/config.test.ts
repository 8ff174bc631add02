import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configPathFrom, parseConfigText, resolveSettings } from '../src/config.js';

const cwd = '/work/proj';
const settings = (fileText: string | undefined, env: NodeJS.ProcessEnv = {}, flags = {}, filePath = fileText ? '/etc/aw/mcp.config.json' : undefined) =>
  resolveSettings({ fileText, filePath, env, flags, cwd });

function problems(text: string): string[] {
  try {
    parseConfigText(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config layering (flag > env > file)', () => {
  const file = JSON.stringify({ workspace: { root: 'ws', uploadRoot: 'up' }, routing: { mode: 'move' } });

  it('defaults with no file: upload root .uploaded in cwd, copy mode, stdio', () => {
    const s = settings(undefined);
    expect(s.uploadRoot).toBe(path.join(cwd, '.uploaded'));
    expect(s.workspacesRoot).toBeUndefined();
    expect(s.mode).toBe('copy');
    expect(s.transport).toBe('stdio');
    expect(s.routingTools).toEqual(['@default']);
  });

  it('file paths are relative to the config file', () => {
    const s = settings(file);
    expect(s.workspacesRoot).toBe('/etc/aw/ws');
    expect(s.uploadRoot).toBe('/etc/aw/up');
    expect(s.mode).toBe('move');
  });

  it('environment beats the file, flags beat the environment', () => {
    const env = { WORKSPACES_ROOT: 'envws', UPLOAD_ROOT: '/abs/up', ARTIFACT_ROUTING_MODE: 'copy' };
    const s = settings(file, env);
    expect(s.workspacesRoot).toBe(path.join(cwd, 'envws'));
    expect(s.uploadRoot).toBe('/abs/up');
    expect(s.mode).toBe('copy');
    const f = settings(file, env, { root: '/flag/ws', mode: 'move' });
    expect(f.workspacesRoot).toBe('/flag/ws');
    expect(f.mode).toBe('move');
  });

  it('an s3:// root is kept as it is, never a folder named "s3:"; file:// is a folder', () => {
    expect(settings(file, { WORKSPACES_ROOT: 's3://team-bucket/ws' }).workspacesRoot).toBe('s3://team-bucket/ws');
    expect(settings(file, {}, { root: 'S3://team-bucket' }).workspacesRoot).toBe('S3://team-bucket');
    expect(settings(file, {}, { root: 'file:///srv/ws' }).workspacesRoot).toBe('/srv/ws');
  });

  it('an empty environment variable does not override', () => {
    expect(settings(file, { ARTIFACT_ROUTING_MODE: '' }).mode).toBe('move');
  });

  it.each([
    [{ ARTIFACT_ROUTING_MODE: 'teleport' }, {}, /ARTIFACT_ROUTING_MODE: expected "copy" or "move", got "teleport"/],
    [{}, { mode: 'zip' }, /--mode: expected "copy" or "move"/],
    [{}, { transport: 'carrier-pigeon' }, /--transport: expected "stdio" or "http"/],
    [{}, { port: '99999' }, /--port: expected an integer 0-65535/],
    [{ WORKSPACES_ROOT: 'gs://bucket/ws' }, {}, /only a local folder or s3:\/\/BUCKET\/PREFIX/],
    [{}, { root: 'https://example.com/ws' }, /only a local folder or s3:\/\/BUCKET\/PREFIX/],
    [{ WORKSPACES_ROOT: 'file://fileserver/share/ws' }, {}, /not a local file URL/],
  ])('rejects bad env/flag values %#', (env, flags, re) => {
    expect(() => settings(undefined, env, flags)).toThrow(re);
  });
});

describe('config file errors name the key and what was expected', () => {
  it.each([
    ['{', /not valid JSON/],
    ['[]', /\(top level\): expected an object/],
    ['{"workspce": {}}', /workspce: unknown key \(did you mean "workspace"\?\)/],
    ['{"routing": {"mdoe": "copy"}}', /routing\.mdoe: unknown key \(did you mean "mode"\?\)/],
    ['{"routing": {"mode": "teleport"}}', /routing\.mode: expected one of "copy", "move"/],
    ['{"mcpServers": {"ds": {"command": 5}}}', /mcpServers\.ds\.command: expected a string/],
    ['{"mcpServers": {"ds": {"comand": "python"}}}', /mcpServers\.ds\.comand: unknown key \(did you mean "command"\?\)/],
    ['{"mcpServers": {"ds": {"type": "http", "url": "not a url"}}}', /mcpServers\.ds\.url: /],
    ['{"mcpServers": {"ds": {"url": "http://x/mcp"}}}', /mcpServers\.ds\.type: expected one of "http", "streamable-http"/],
    ['{"mcpServers": {"ds": {"command": "x", "args": "--flag"}}}', /mcpServers\.ds\.args: expected a list/],
    ['{"mcpServers": {"ds": {"command": "x", "env": {"A": 1}}}}', /mcpServers\.ds\.env\.A: expected a string/],
    ['{"mcpServers": {"bad name!": {"command": "x"}}}', /server names are/],
    ['{"workspace": {"maxArtifactBytes": -1}}', /workspace\.maxArtifactBytes/],
    ['{"routing": {"tools": "plot"}}', /routing\.tools: expected a list/],
    ['{"workspac": {}}', /^workspac: unknown key \(did you mean "workspace"\?\)$/],
  ])('%s', (text, re) => {
    expect(problems(text).join('\n')).toMatch(re);
  });

  it('suggests a key inside a server entry', () => {
    const p = problems('{"mcpServers": {"ds": {"command": "python", "arg": ["x"]}}}').join('\n');
    expect(p).toBe('mcpServers.ds.arg: unknown key (did you mean "args"?)');
  });

  it('accepts Claude Desktop entries unchanged', () => {
    const cfg = parseConfigText(
      JSON.stringify({
        mcpServers: {
          fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { A: 'b' } },
          remote: { type: 'http', url: 'http://127.0.0.1:8000/mcp', headers: { Authorization: 'Bearer x' } },
        },
      }),
    );
    expect(Object.keys(cfg.mcpServers!)).toEqual(['fs', 'remote']);
  });
});

describe('what a new user writes', () => {
  it('a whole claude_desktop_config.json pasted as it is: foreign top-level keys ignored with a warning, typos still errors', () => {
    const s = settings(JSON.stringify({ globalShortcut: 'Ctrl+Space', preferences: { x: 1 }, mcpServers: { ds: { command: 'python' } } }));
    expect(Object.keys(s.servers)).toEqual(['ds']);
    expect(s.warnings).toEqual(['/etc/aw/mcp.config.json: ignoring "globalShortcut", "preferences" (not settings of artifact-workspace)']);
    expect(problems('{"mcpServer": {}}')).toEqual(['mcpServer: unknown key (did you mean "mcpServers"?)']);
  });

  it('~ and ${VAR} in sourceRoots and the roots', () => {
    const s = settings(JSON.stringify({ workspace: { root: '~/ws', uploadRoot: '${DATA}/up' }, routing: { sourceRoots: ['~/.cache/out', '${DATA}/tool', '~'] } }), { HOME: '/home/me', DATA: '/srv/data' });
    expect(s.workspacesRoot).toBe('/home/me/ws');
    expect(s.uploadRoot).toBe('/srv/data/up');
    expect(s.sourceRoots).toEqual(['/home/me/.cache/out', '/srv/data/tool', '/home/me']);
  });

  it('routing.resultKeys: a list of names (typed by extension) or names with a type', () => {
    expect(settings(JSON.stringify({ routing: { resultKeys: ['imageFile'] } })).resultKeys).toEqual({ imageFile: '' });
    expect(settings(JSON.stringify({ routing: { resultKeys: { chart: 'plot' } } })).resultKeys).toEqual({ chart: 'plot' });
    expect(problems('{"routing": {"resultKeys": 7}}')[0]).toMatch(/^routing\.resultKeys: /);
  });
});

describe('which config file', () => {
  const none = () => false;
  it('flag, then env, then ./mcp.config.json when present', () => {
    expect(configPathFrom({ config: 'a.json' }, { ARTIFACT_WORKSPACE_CONFIG: '/b.json' }, cwd, none)).toBe('/work/proj/a.json');
    expect(configPathFrom({}, { ARTIFACT_WORKSPACE_CONFIG: '/b.json' }, cwd, none)).toBe('/b.json');
    expect(configPathFrom({}, {}, cwd, (p) => p === '/work/proj/mcp.config.json')).toBe('/work/proj/mcp.config.json');
    expect(configPathFrom({}, {}, cwd, none)).toBeUndefined();
  });
});
