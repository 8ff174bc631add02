import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkSource, createSourcePolicy, denyReason, isWithin, secretContentReason, type SourcePolicy } from '../../src/routing/policy.js';
import { scanTree } from '../../src/routing/tree.js';
import { onCleanup } from '../helpers.js';

describe('isWithin (pure)', () => {
  it.each([
    ['/home/u/project', '/home/u/project', true],
    ['/home/u/project/a.txt', '/home/u/project', true],
    ['/home/u/project/', '/home/u/project', true],
    ['/home/u/project/a', '/home/u/project/', true],
    ['/home/u/project/a', '/home/u/project//', true],
    ['/home/u/project2', '/home/u/project', false],
    ['/home/u/project2/a', '/home/u/project', false],
    ['/home/u/projec', '/home/u/project', false],
    ['/home/u/project/../secret', '/home/u/project', false],
    ['/home/u/project/./a/../b', '/home/u/project', true],
    ['/home/u', '/home/u/project', false],
    ['/anything', '/', true],
    ['relative/a', 'relative', false],
    ['/home/u/project/a', 'home/u/project', false],
    ['/home/u/project\0/a', '/home/u/project', false],
    ['/HOME/u/project/a', '/home/u/project', false],
  ])('linux: %j in %j → %s', (child, parent, want) => {
    expect(isWithin(child, parent, 'linux')).toBe(want);
  });

  it.each([
    ['/Users/U/Project/a', '/users/u/project', true],
    ['/Users/U/Project2', '/users/u/project', false],
  ])('darwin (case-insensitive): %j in %j → %s', (child, parent, want) => {
    expect(isWithin(child, parent, 'darwin')).toBe(want);
  });

  it.each([
    ['C:\\Users\\u\\proj\\a.txt', 'c:\\users\\u\\proj', true],
    ['C:\\Users\\u\\proj2', 'C:\\Users\\u\\proj', false],
    ['C:\\Users\\u\\proj\\', 'C:\\Users\\u\\proj', true],
    ['D:\\Users\\u\\proj', 'C:\\Users\\u\\proj', false],
    ['C:\\x', 'C:\\', true],
  ])('win32: %j in %j → %s', (child, parent, want) => {
    expect(isWithin(child, parent, 'win32')).toBe(want);
  });
});

describe('denyReason (pure)', () => {
  const home = '/home/u';
  it.each([
    ['/home/u/.ssh', 'denied: secret (~/.ssh)'],
    ['/home/u/.ssh/config', 'denied: secret (~/.ssh)'],
    ['/home/u/.aws/credentials', 'denied: secret (~/.aws)'],
    ['/home/u/.gnupg/pubring.kbx', 'denied: secret (~/.gnupg)'],
    ['/home/u/.config/gcloud/creds.db', 'denied: secret (~/.config/gcloud)'],
    ['/home/u/.kube/config', 'denied: secret (~/.kube)'],
    ['/home/u/.docker/config.json', 'denied: secret (~/.docker/config.json)'],
    ['/home/u/.netrc', 'denied: secret (~/.netrc)'],
    ['/home/u/.npmrc', 'denied: secret (~/.npmrc)'],
    ['/home/u/.pypirc', 'denied: secret (~/.pypirc)'],
    ['/tmp/x/.env', 'denied: secret (.env)'],
    ['/tmp/x/.env.production', 'denied: secret (.env)'],
    ['/tmp/x/server.pem', 'denied: secret (*.pem)'],
    ['/tmp/x/tls.KEY', 'denied: secret (*.key)'],
    ['/tmp/x/cert.p12', 'denied: secret (*.p12)'],
    ['/tmp/x/cert.pfx', 'denied: secret (*.pfx)'],
    ['/tmp/x/id_rsa', 'denied: secret (id_*)'],
    ['/tmp/x/id_ed25519', 'denied: secret (id_*)'],
    ['/etc/shadow', 'denied: secret (/etc/shadow)'],
    ['/proc/self/environ', 'denied: system path (/proc)'],
    ['/sys/kernel', 'denied: system path (/sys)'],
    ['/dev/zero', 'denied: system path (/dev)'],
    ['/home/u/.git-credentials', 'denied: secret (~/.git-credentials)'],
    ['/srv/proj/.git-credentials', 'denied: secret (.git-credentials)'],
    ['/srv/proj/.npmrc', 'denied: secret (.npmrc)'],
    ['/tmp/x/server.ppk', 'denied: secret (*.ppk)'],
    ['/tmp/x/id_rsa.bak', 'denied: secret (id_*)'],
    ['/tmp/x/id_ed25519.old', 'denied: secret (id_*)'],
    ['/tmp/x/deploy_key', 'denied: secret (deploy key)'],
    ['/tmp/x/deploy-key-prod', 'denied: secret (deploy key)'],
    ['/tmp/krb5cc_1000', 'denied: secret (krb5cc_*)'],
    ['/tmp/x/my-project-service-account.json', 'denied: secret (service account key)'],
    ['/tmp/x/application_default_credentials.json', 'denied: secret (application_default_credentials.json)'],
    ['/tmp/x/credentials.json', 'denied: secret (credentials.json)'],
    ['/home/u/.pgpass', 'denied: secret (~/.pgpass)'],
    ['/etc/gshadow', 'denied: secret (/etc/shadow)'],
  ])('%s → %s', (p, reason) => {
    expect(denyReason(p, home, 'linux')).toBe(reason);
  });

  it.each(['/home/u/.sshd/x', '/home/u/.docker/other.json', '/tmp/x/.environment', '/tmp/x/env', '/tmp/x/id_rsa.pub', '/tmp/x/deploy_key.pub', '/tmp/x/keys.csv', '/devices/x', '/home/u/project/a.png', '/tmp/x/metrics.json', '/tmp/x/account_stats.json'])(
    '%s is allowed',
    (p) => {
      expect(denyReason(p, home, 'linux')).toBeNull();
    },
  );
});

describe('secretContentReason (pure): credentials by their own markers, whatever the name', () => {
  it.each([
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn…', 'denied: secret (a private key)'],
    ['junk\n-----BEGIN RSA PRIVATE KEY-----\nMIIE', 'denied: secret (a private key)'],
    ['-----BEGIN EC PRIVATE KEY-----', 'denied: secret (a private key)'],
    ['-----BEGIN PRIVATE KEY-----', 'denied: secret (a private key)'],
    ['-----BEGIN ENCRYPTED PRIVATE KEY-----', 'denied: secret (a private key)'],
    ['PuTTY-User-Key-File-3: ssh-ed25519\n', 'denied: secret (a PuTTY key)'],
    ['{\n  "type": "service_account",\n  "project_id": "p",\n  "private_key_id": "1",\n  "private_key": "-----BEGIN', 'denied: secret (a service account key)'],
    ['{"type":"service_account","private_key":"x"}', 'denied: secret (a service account key)'],
    ['[default]\naws_access_key_id = AKIA…\naws_secret_access_key = abc\n', 'denied: secret (AWS credentials)'],
  ])('%j → %s', (head, reason) => {
    expect(secretContentReason(Buffer.from(head))).toBe(reason);
  });

  it.each(['-----BEGIN CERTIFICATE-----', '-----BEGIN PUBLIC KEY-----', 'ssh-ed25519 AAAAC3 user@host', '{"type":"service_account"}', '\x89PNG\r\n', 'a,b\n1,2\n'])('%j is not a secret', (head) => {
    expect(secretContentReason(Buffer.from(head))).toBeNull();
  });
});

describe('checkSource and scanTree (real fs)', () => {
  let tmp: string;
  let policy: SourcePolicy;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'aw-policy-'));
    onCleanup(() => fs.rm(tmp, { recursive: true, force: true }));
    await fs.mkdir(path.join(tmp, 'root/sub'), { recursive: true });
    await fs.mkdir(path.join(tmp, 'outside'));
    await fs.mkdir(path.join(tmp, 'home/.ssh'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'root/a.csv'), 'a');
    await fs.writeFile(path.join(tmp, 'outside/o.csv'), 'o');
    await fs.writeFile(path.join(tmp, 'home/.ssh/id_rsa'), 'k');
    policy = await createSourcePolicy({ roots: [path.join(tmp, 'root'), path.join(tmp, 'home')], homeDir: path.join(tmp, 'home') });
  });

  it('resolves roots once and accepts files and folders inside them', async () => {
    expect(policy.roots).toEqual([await fs.realpath(path.join(tmp, 'root')), await fs.realpath(path.join(tmp, 'home'))]);
    const f = await checkSource(path.join(tmp, 'root/a.csv'), policy);
    expect(f).toMatchObject({ ok: true, kind: 'file' });
    expect(await checkSource(path.join(tmp, 'root/sub'), policy)).toMatchObject({ ok: true, kind: 'dir' });
  });

  it('gives stable reasons', async () => {
    await fs.symlink(path.join(tmp, 'outside/o.csv'), path.join(tmp, 'root/link.csv'));
    await fs.symlink(path.join(tmp, 'outside'), path.join(tmp, 'root/linkdir'));
    execFileSync('mkfifo', [path.join(tmp, 'root/fifo')]);
    const reasons = await Promise.all(
      ['', 'a\0b', path.join(tmp, 'root/nope'), path.join(tmp, 'outside/o.csv'), path.join(tmp, 'root/link.csv'), path.join(tmp, 'root/linkdir/o.csv'),
        path.join(tmp, 'root/../outside/o.csv'), path.join(tmp, 'root/fifo'), path.join(tmp, 'home/.ssh/id_rsa'), '/dev/zero'].map(async (p) => {
        const r = await checkSource(p, policy);
        return r.ok ? 'ok' : r.reason;
      }),
    );
    expect(reasons).toEqual([
      'empty path', 'path contains a NUL byte', 'does not exist', 'outside allowed source roots', 'outside allowed source roots',
      'outside allowed source roots', 'outside allowed source roots', 'not a regular file (fifo)', 'denied: secret (~/.ssh)', 'denied: system path (/dev)',
    ]);
  });

  it('scans a clean folder: files, dirs, sizes, symlinked files inside the roots read through', async () => {
    await fs.writeFile(path.join(tmp, 'root/sub/b.bin'), 'bb');
    await fs.mkdir(path.join(tmp, 'root/sub/empty'));
    await fs.symlink(path.join(tmp, 'root/a.csv'), path.join(tmp, 'root/sub/alias.csv'));
    const scan = await scanTree(await fs.realpath(path.join(tmp, 'root/sub')), policy, { maxBytes: 100 });
    expect(scan.ok).toBe(true);
    const tree = scan.ok ? scan.tree : { files: [], dirs: [], bytes: -1 };
    expect(tree.files.map((f) => [f.rel.join('/'), f.size])).toEqual([['alias.csv', 1], ['b.bin', 2]]);
    expect(tree.dirs.map((d) => d.rel.join('/'))).toEqual(['empty']);
    expect(tree.bytes).toBe(3);
  });

  it.each([
    ['a symlink escaping the roots', async (d: string) => fs.symlink('/etc', path.join(d, 'etc')), 'folder member etc: outside allowed source roots'],
    ['a symlinked folder inside', async (d: string, t: string) => fs.symlink(path.join(t, 'root'), path.join(d, 'loop')), 'folder member loop: symlink to a folder'],
    ['a fifo', async (d: string) => void execFileSync('mkfifo', [path.join(d, 'p')]), 'folder member p: not a regular file (fifo)'],
    ['a .env', async (d: string) => fs.writeFile(path.join(d, '.env'), 'K=V'), 'folder member .env: denied: secret (.env)'],
    ['a key deep inside', async (d: string) => { await fs.mkdir(path.join(d, 'x/y'), { recursive: true }); await fs.writeFile(path.join(d, 'x/y/tls.pem'), 'k'); }, 'folder member x/y/tls.pem: denied: secret (*.pem)'],
    ['a dangling symlink', async (d: string) => fs.symlink('/nonexistent/zzz', path.join(d, 'dangling')), 'folder member dangling: does not exist'],
    ['too much data', async (d: string) => fs.writeFile(path.join(d, 'big'), Buffer.alloc(200)), 'larger than the size cap (100 bytes)'],
  ])('refuses a folder holding %s', async (_name, setup, reason) => {
    const d = path.join(tmp, 'root/sub');
    await setup(d, tmp);
    const scan = await scanTree(await fs.realpath(d), policy, { maxBytes: 100 });
    expect(scan.ok).toBe(false);
    expect(scan.ok ? '' : scan.reason).toMatch(reason);
  });

  it('refuses a folder that contains an allowed root, and bounds file count and depth', async () => {
    expect(await scanTree(await fs.realpath(tmp), policy, { maxBytes: 1e9 })).toEqual({ ok: false, reason: 'folder contains an allowed source root' });
    for (let i = 0; i < 5; i++) await fs.writeFile(path.join(tmp, 'root/sub', `f${i}`), '');
    expect(await scanTree(await fs.realpath(path.join(tmp, 'root/sub')), policy, { maxBytes: 1e9, maxFiles: 3 })).toEqual({ ok: false, reason: 'folder holds more than 3 files' });
    await fs.mkdir(path.join(tmp, 'root/sub/a/b/c'), { recursive: true });
    expect(await scanTree(await fs.realpath(path.join(tmp, 'root/sub')), policy, { maxBytes: 1e9, maxDepth: 2 })).toEqual({ ok: false, reason: 'folder deeper than 2 levels' });
  });
});
