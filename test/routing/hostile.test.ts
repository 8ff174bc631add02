// Hostile tool results through the real router, store and policy, with a real run folder.
// Each case states the skip reasons it expects; every case also proves that nothing outside the
// run folder changed and that nothing but the manifest (and any routed artifact) appeared in it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { detectArtifacts } from '../../src/routing/detect.js';
import { createSourcePolicy, isWithin } from '../../src/routing/policy.js';
import { routeCandidates, type RouteOutcome } from '../../src/routing/router.js';
import type { Candidate } from '../../src/routing/types.js';
import { LocalStore } from '../../src/storage/local.js';
import { Workspaces } from '../../src/workspace/layout.js';
import { SUBDIRS, type RouteMode, type RunTarget } from '../../src/workspace/types.js';
import { onCleanup } from '../helpers.js';

const CAP = 1024 * 1024;

interface Ctx {
  tmp: string;
  src: string;
  outside: string;
  home: string;
  run: RunTarget;
  store: LocalStore;
  listen(sock: string): Promise<void>;
}
interface Input {
  candidates: Candidate[];
  inputs?: string[];
  limits?: string[];
  baseDir?: string;
}
interface Case {
  name: string;
  mode?: RouteMode;
  make(c: Ctx): Promise<Input>;
  /** Expected skip reasons, in order (the whole list). */
  skip: RegExp[];
  /** Routed entries expected (default none); each must land inside the run. */
  routed?: number;
  check?(out: RouteOutcome, c: Ctx): Promise<void> | void;
}

const p = (s: string): Candidate => ({ kind: 'path', path: s, label: 'plot_paths', explicit: false });
const one = (s: string): Promise<Input> => Promise.resolve({ candidates: [p(s)] });
const detected = (result: unknown): Promise<Input> => {
  const d = detectArtifacts(result);
  return Promise.resolve({ candidates: d.candidates, limits: d.limits });
};
const put = async (file: string, data: string | Buffer = 'x') => {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
  return file;
};
const mkfifo = (file: string) => execFileSync('mkfifo', [file]);

const OUT = /^outside allowed source roots$/;

const CASES: Case[] = [
  { name: 'absolute path outside the roots', make: (c) => one(path.join(c.outside, 'o.csv')), skip: [OUT] },
  { name: 'relative path outside the roots', make: async (c) => ({ candidates: [p('outside/o.csv')], baseDir: c.tmp }), skip: [OUT] },
  { name: '.. traversal out of a root', make: (c) => one(path.join(c.src, '..', 'outside', 'o.csv')), skip: [OUT] },
  { name: 'deep .. traversal to /etc/passwd', make: (c) => one(`${c.src}/a/b/../../../../../../../../../etc/passwd`), skip: [OUT] },
  { name: 'relative .. traversal', make: async (c) => ({ candidates: [p('../outside/o.csv')], baseDir: c.src }), skip: [OUT] },
  { name: '/etc/passwd', make: () => one('/etc/passwd'), skip: [OUT] },
  { name: '/etc/shadow', make: () => one('/etc/shadow'), skip: [/^(denied: secret \(\/etc\/shadow\)|does not exist)$/] },
  { name: 'symlink at the file escaping the root', make: async (c) => { await fs.symlink(path.join(c.outside, 'o.csv'), path.join(c.src, 'l.csv')); return one(path.join(c.src, 'l.csv')); }, skip: [OUT] },
  { name: 'symlink at a parent folder escaping the root', make: async (c) => { await fs.symlink(c.outside, path.join(c.src, 'ld')); return one(path.join(c.src, 'ld', 'o.csv')); }, skip: [OUT] },
  {
    name: 'symlink chain ending at /etc/passwd',
    make: async (c) => { await fs.symlink('/etc/passwd', path.join(c.src, 'l2')); await fs.symlink(path.join(c.src, 'l2'), path.join(c.src, 'l1.png')); return one(path.join(c.src, 'l1.png')); },
    skip: [OUT],
  },
  { name: 'symlink loop', make: async (c) => { await fs.symlink(path.join(c.src, 'b'), path.join(c.src, 'a')); await fs.symlink(path.join(c.src, 'a'), path.join(c.src, 'b')); return one(path.join(c.src, 'a')); }, skip: [/^symlink loop$/] },
  { name: '/dev/zero', make: () => one('/dev/zero'), skip: [/^denied: system path \(\/dev\)$/] },
  { name: 'symlink to /dev/zero inside a root', make: async (c) => { await fs.symlink('/dev/zero', path.join(c.src, 'z.bin')); return one(path.join(c.src, 'z.bin')); }, skip: [/^denied: system path \(\/dev\)$/] },
  { name: '/proc/self/environ', make: () => one('/proc/self/environ'), skip: [/^denied: system path \(\/proc\)$/] },
  { name: 'a FIFO', make: async (c) => { mkfifo(path.join(c.src, 'pipe.csv')); return one(path.join(c.src, 'pipe.csv')); }, skip: [/^not a regular file \(fifo\)$/] },
  { name: 'a unix socket', make: async (c) => { await c.listen(path.join(c.src, 's.sock')); return one(path.join(c.src, 's.sock')); }, skip: [/^not a regular file \(socket\)$/] },
  { name: 'fake ~/.ssh/id_rsa', make: async (c) => one(await put(path.join(c.home, '.ssh', 'id_rsa'), 'KEY')), skip: [/^denied: secret \(~\/\.ssh\)$/] },
  { name: 'fake ~/.aws/credentials', make: async (c) => one(await put(path.join(c.home, '.aws', 'credentials'))), skip: [/^denied: secret \(~\/\.aws\)$/] },
  { name: '~/.ssh as a folder', make: async (c) => { await put(path.join(c.home, '.ssh', 'id_rsa')); return one(path.join(c.home, '.ssh')); }, skip: [/^denied: secret \(~\/\.ssh\)$/] },
  { name: 'a .env file', make: async (c) => one(await put(path.join(c.src, '.env'), 'TOKEN=1')), skip: [/^denied: secret \(\.env\)$/] },
  { name: 'a .env.local file', make: async (c) => one(await put(path.join(c.src, 'app', '.env.local'))), skip: [/^denied: secret \(\.env\)$/] },
  { name: 'a *.pem file', make: async (c) => one(await put(path.join(c.src, 'server.pem'))), skip: [/^denied: secret \(\*\.pem\)$/] },
  { name: 'an id_ed25519 outside ~/.ssh', make: async (c) => one(await put(path.join(c.src, 'id_ed25519'))), skip: [/^denied: secret \(id_\*\)$/] },
  { name: 'a symlink inside a root to a secret', make: async (c) => { await put(path.join(c.home, '.ssh', 'id_rsa')); await fs.symlink(path.join(c.home, '.ssh', 'id_rsa'), path.join(c.src, 'plot.png')); return one(path.join(c.src, 'plot.png')); }, skip: [/^denied: secret \(~\/\.ssh\)$/] },
  {
    name: 'a folder artifact holding a symlink to /etc',
    make: async (c) => { await put(path.join(c.src, 'model', 'w.bin')); await fs.symlink('/etc', path.join(c.src, 'model', 'etc')); return one(path.join(c.src, 'model')); },
    skip: [/^folder member etc: outside allowed source roots$/],
  },
  {
    name: 'a folder artifact holding a FIFO',
    make: async (c) => { await put(path.join(c.src, 'model', 'w.bin')); mkfifo(path.join(c.src, 'model', 'p')); return one(path.join(c.src, 'model')); },
    skip: [/^folder member p: not a regular file \(fifo\)$/],
  },
  {
    name: 'a folder artifact holding a .env deep inside',
    make: async (c) => { await put(path.join(c.src, 'model', 'a', 'b', '.env')); return one(path.join(c.src, 'model')); },
    skip: [/^folder member a\/b\/\.env: denied: secret \(\.env\)$/],
  },
  { name: 'a folder that is an allowed root', make: (c) => one(c.src), skip: [/^folder contains an allowed source root$/] },
  { name: 'the root folder /', make: () => one('/'), skip: [OUT] },
  {
    name: 'a non-UTF-8 name named as a (lossy) string',
    make: async (c) => { await fs.writeFile(Buffer.concat([Buffer.from(`${c.src}/bad`), Buffer.from([0xff, 0xfe]), Buffer.from('.csv')]), 'x'); return one(`${c.src}/bad\ufffd\ufffd.csv`); },
    skip: [/^does not exist$/],
  },
  {
    name: 'a folder holding a non-UTF-8 name is copied under a sanitised name',
    make: async (c) => {
      await fs.mkdir(path.join(c.src, 'm'));
      await fs.writeFile(Buffer.concat([Buffer.from(`${c.src}/m/w`), Buffer.from([0xff]), Buffer.from('.bin')]), 'W');
      return { candidates: [{ kind: 'path', path: path.join(c.src, 'm'), type: 'model', label: 'model_path', explicit: false }] };
    },
    skip: [],
    routed: 1,
    check: async (out, c) => expect(await fs.readdir(path.join(c.run.subdirs.models, 'm'))).toEqual(['w_.bin']),
  },
  { name: 'a 300-character name', make: (c) => one(path.join(c.src, `${'n'.repeat(296)}.png`)), skip: [/^path too long$/] },
  {
    name: 'an inline resource with a 300-character name',
    make: async () => ({ candidates: [{ kind: 'inline', blockType: 'resource', encoding: 'utf8', data: 'r', name: `${'é'.repeat(300)}.md`, label: 'resource' }] }),
    skip: [],
    routed: 1,
    check: (out) => expect(Buffer.byteLength(path.basename(out.routed[0]!.dst))).toBeLessThanOrEqual(200),
  },
  {
    name: '10,000 paths in one result',
    make: (c) => detected({ plot_paths: Array.from({ length: 10_000 }, (_, i) => path.join(c.src, `nope${i}.png`)) }),
    skip: [/^detection stopped: max candidates 1000 reached$/, ...Array.from({ length: 1000 }, () => /^does not exist$/)],
  },
  {
    name: 'JSON nested 10,000 deep',
    make: (c) => detected({ content: [{ type: 'text', text: '{"a":'.repeat(10_000) + JSON.stringify({ plot_path: path.join(c.outside, 'o.csv') }) + '}'.repeat(10_000) }] }),
    skip: [/^detection stopped: max depth 64 reached$/],
  },
  { name: 'a path that does not exist', make: (c) => one(path.join(c.src, 'missing.png')), skip: [/^does not exist$/] },
  { name: 'a path through a file (ENOTDIR)', make: async (c) => one(path.join(await put(path.join(c.src, 'f.csv')), 'x.png')), skip: [/^does not exist$/] },
  { name: 'an empty string', make: () => one(''), skip: [/^empty path$/] },
  { name: 'a NUL byte in the path', make: (c) => one(`${c.src}/a.png\0/../../../etc/passwd`), skip: [/^path contains a NUL byte$/] },
  { name: 'a NUL byte in a file:// URI', make: (c) => detected({ plot_path: `${pathToFileURL(c.src).href}/a%00b.png` }), skip: [/^path contains a NUL byte$/] },
  { name: 'resource_link file:///etc/passwd', make: () => detected({ content: [{ type: 'resource_link', uri: 'file:///etc/passwd', name: 'passwd' }] }), skip: [OUT] },
  { name: 'resource_link with a remote URI is ignored', make: () => detected({ content: [{ type: 'resource_link', uri: 'https://evil.example/x.png', name: 'x' }] }), skip: [] },
  {
    name: 'an embedded resource named ../../escape.txt lands sanitised inside the run',
    make: () => detected({ content: [{ type: 'resource', resource: { uri: 'mem://h/..%2F..%2F..%2Fescape.txt', text: 'e' } }] }),
    skip: [],
    routed: 1,
    check: (out, c) => expect(path.dirname(out.routed[0]!.dst)).toBe(c.run.subdirs.data),
  },
  {
    name: 'huge base64 over the size cap',
    make: () => detected({ content: [{ type: 'image', data: Buffer.alloc(CAP + 10).toString('base64'), mimeType: 'image/png' }] }),
    skip: [new RegExp(`^larger than the size cap \\(${CAP} bytes\\)$`)],
  },
  { name: 'a file over the size cap', make: async (c) => one(await put(path.join(c.src, 'big.csv'), Buffer.alloc(CAP + 1))), skip: [/^larger than the size cap \(1048576 bytes\)$/] },
  {
    name: 'a folder over the size cap',
    make: async (c) => { await put(path.join(c.src, 'm', 'a'), Buffer.alloc(CAP / 2 + 1)); await put(path.join(c.src, 'm', 'b'), Buffer.alloc(CAP / 2 + 1)); return one(path.join(c.src, 'm')); },
    skip: [/^larger than the size cap \(1048576 bytes\)$/],
  },
  {
    name: 'a file already in the run, in move mode, is neither copied nor deleted',
    mode: 'move',
    make: async (c) => one(await put(path.join(c.run.subdirs.plots, 'done.png'))),
    skip: [/^already in workspace$/],
  },
  {
    name: 'a move-mode escape attempt through a parent symlink deletes nothing',
    mode: 'move',
    make: async (c) => { await fs.symlink(c.outside, path.join(c.src, 'ld')); return one(path.join(c.src, 'ld', 'o.csv')); },
    skip: [OUT],
  },
  // Credentials the deny list knows by name, wherever they lie, and by their own markers whatever their name.
  { name: 'a .git-credentials in a project folder', make: async (c) => one(await put(path.join(c.src, 'proj', '.git-credentials'), 'https://u:t@h')), skip: [/^denied: secret \(\.git-credentials\)$/] },
  { name: 'a PuTTY key (*.ppk)', make: async (c) => one(await put(path.join(c.src, 'server.ppk'))), skip: [/^denied: secret \(\*\.ppk\)$/] },
  { name: 'an id_rsa.bak copy', make: async (c) => one(await put(path.join(c.src, 'id_rsa.bak'))), skip: [/^denied: secret \(id_\*\)$/] },
  { name: 'a deploy_key', make: async (c) => one(await put(path.join(c.src, 'deploy_key'))), skip: [/^denied: secret \(deploy key\)$/] },
  { name: 'a Kerberos ticket cache', make: async (c) => one(await put(path.join(c.src, 'krb5cc_1000'))), skip: [/^denied: secret \(krb5cc_\*\)$/] },
  { name: 'a private key renamed plot.png', make: async (c) => one(await put(path.join(c.src, 'plot.png'), '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n')), skip: [/^denied: secret \(a private key\)$/] },
  {
    name: 'a service-account key renamed metrics.json',
    make: async (c) => one(await put(path.join(c.src, 'metrics.json'), JSON.stringify({ type: 'service_account', project_id: 'p', private_key: 'k' }))),
    skip: [/^denied: secret \(a service account key\)$/],
  },
  {
    name: 'a folder artifact holding a renamed private key',
    make: async (c) => { await put(path.join(c.src, 'model', 'w.bin'), 'w'); await put(path.join(c.src, 'model', 'notes.txt'), '-----BEGIN RSA PRIVATE KEY-----'); return one(path.join(c.src, 'model')); },
    skip: [/^folder member notes\.txt: denied: secret \(a private key\)$/],
  },
  {
    // Counted at its apparent size: storing it takes that much real disk, so the cap applies to it.
    name: 'a sparse file whose apparent size is over the cap',
    make: async (c) => { const f = path.join(c.src, 'sparse.bin'); await fs.writeFile(f, ''); await fs.truncate(f, CAP * 1024); return one(f); },
    skip: [/^larger than the size cap \(1048576 bytes\)$/],
  },
  {
    name: 'another run\'s artifact in move mode is copied, never moved out of its run',
    mode: 'move',
    make: async (c) => one(await put(path.join(c.tmp, 'ws', 'iris', '20250101_000000', 'models', 'm.pkl'), 'model of another run')),
    skip: [],
    routed: 1,
    check: async (out, c) => {
      expect(out.routed[0]!.mode).toBe('copy');
      expect(await fs.readFile(path.join(c.tmp, 'ws', 'iris', '20250101_000000', 'models', 'm.pkl'), 'utf8')).toBe('model of another run');
    },
  },
  { name: 'a Windows-style path on POSIX', make: async (c) => ({ candidates: [p('C:\\Windows\\win.ini')], baseDir: c.src }), skip: [/^does not exist$/] },
];

/** Every entry under `dir` (symlinks not followed): kind, size and content hash or link target. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const stack = [Buffer.from(dir)];
  while (stack.length) {
    const d = stack.pop()!;
    for (const name of await fs.readdir(d, { encoding: 'buffer' })) {
      const full = Buffer.concat([d, Buffer.from('/'), name]);
      const st = await fs.lstat(full);
      const key = full.toString('latin1');
      if (st.isDirectory()) {
        out.set(key, 'dir');
        stack.push(full);
      } else if (st.isFile()) out.set(key, `file:${st.size}:${createHash('sha256').update(await fs.readFile(full)).digest('hex')}:${st.mtimeMs}`);
      else if (st.isSymbolicLink()) out.set(key, `link:${await fs.readlink(full)}`);
      else out.set(key, `special:${st.mode}`);
    }
  }
  return out;
}

describe('hostile results through routeCandidates', () => {
  let c: Ctx;
  beforeEach(async () => {
    const tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'aw-hostile-')));
    onCleanup(() => fs.rm(tmp, { recursive: true, force: true }));
    const store = await LocalStore.open(path.join(tmp, 'ws'), { maxBytes: CAP });
    onCleanup(() => store.close());
    const run: RunTarget = new Workspaces(store).target('tips', '20251017_223045');
    await Promise.all(SUBDIRS.map((s) => store.ensureFolder([...run.key, s])));
    c = {
      tmp, run, store, src: path.join(tmp, 'src'), outside: path.join(tmp, 'outside'), home: path.join(tmp, 'src', 'home'),
      listen: (sock) =>
        new Promise((resolve, reject) => {
          const server = net.createServer();
          onCleanup(() => new Promise<void>((r) => server.close(() => r())));
          server.once('error', reject).listen(sock, () => resolve());
        }),
    };
    await fs.mkdir(c.home, { recursive: true });
    await put(path.join(c.outside, 'o.csv'), 'outside data');
  });

  it(`has at least 30 cases`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((k) => [k.name, k] as const))('%s', async (_name, k) => {
    const input = await k.make(c);
    // The fake home sits inside an allowed root, so only the deny list stands between it and the run.
    const policy = await createSourcePolicy({ roots: [c.src, path.join(c.tmp, 'ws')], homeDir: c.home });
    const { store } = c;
    const before = await snapshot(c.tmp);
    const out = await routeCandidates({ tool: 'plot', inputs: [], mode: k.mode ?? 'copy', run: c.run, ...input }, { store, policy, clock: { now: () => new Date(2025, 9, 17, 22, 31, 45, 120) } });
    const after = await snapshot(c.tmp);

    expect(out.skipped.map((s) => s.reason)).toHaveLength(k.skip.length);
    out.skipped.forEach((s, i) => expect(s.reason).toMatch(k.skip[i]!));
    expect(out.routed).toHaveLength(k.routed ?? 0);
    for (const e of out.routed) expect(isWithin(e.dst, c.run.runDir, 'linux')).toBe(true);
    await k.check?.(out, c);

    // Outside the run: nothing added, removed or changed.
    const outsideRun = (m: Map<string, string>) => [...m].filter(([key]) => !isWithin(Buffer.from(key, 'latin1').toString(), c.run.runDir, 'linux'));
    expect(outsideRun(after)).toEqual(outsideRun(before));
    // Inside the run: only the manifest and what was routed.
    const added = [...after.keys()].filter((key) => !before.has(key)).map((key) => Buffer.from(key, 'latin1').toString());
    const expected = (f: string) => f === out.manifest || out.routed.some((e) => isWithin(f, e.dst, 'linux'));
    expect(added.filter((f) => !expected(f))).toEqual([]);
    expect(out.manifest === null).toBe(out.routed.length + out.skipped.length === 0);
    expect([...after.keys()].filter((key) => key.includes('.aw-tmp-'))).toEqual([]);
  });
});
