import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config.js';
import { chooseRoots, userDataDir } from '../../src/storage/local-roots.js';
import { tempDir } from '../helpers.js';

describe('choosing the workspaces root', () => {
  it('falls back to the per-user data folder when the default cannot be written', async () => {
    const d = await tempDir();
    const blocker = path.join(d, 'file');
    await fs.writeFile(blocker, '');
    // cwd below a regular file: mkdir fails with ENOTDIR even for root, like `/` for a normal user.
    const settings = resolveSettings({ env: {}, flags: {}, cwd: path.join(blocker, 'cwd') });
    const got = await chooseRoots(settings, path.join(d, 'data'));
    expect(got.workspacesRoot).toBe(path.join(d, 'data', 'uploads', '_workspaces'));
    expect(got.fallback).toMatch(/not writable \(ENOTDIR\)/);
  });

  it('an explicit root never falls back', async () => {
    const d = await tempDir();
    await fs.writeFile(path.join(d, 'file'), '');
    const settings = resolveSettings({ env: { WORKSPACES_ROOT: path.join(d, 'file', 'ws') }, flags: {}, cwd: d });
    await expect(chooseRoots(settings, path.join(d, 'data'))).rejects.toThrow(/cannot be written \(ENOTDIR\)/);
  });

  it('per-user data folders by platform', () => {
    expect(userDataDir({ XDG_DATA_HOME: '/x' }, 'linux', '/home/u')).toBe('/x/artifact-workspace-mcp');
    expect(userDataDir({}, 'linux', '/home/u')).toBe('/home/u/.local/share/artifact-workspace-mcp');
    expect(userDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/artifact-workspace-mcp');
  });
});
