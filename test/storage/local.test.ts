import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSourcePolicy } from '../../src/routing/policy.js';
import { scanTree } from '../../src/routing/tree.js';
import { LocalStore, type LocalStoreOptions } from '../../src/storage/local.js';
import { treeDigest, type TreeSource } from '../../src/storage/store.js';
import { onCleanup } from '../helpers.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let tmp: string;
let src: string;
let dst: string;
/** The destination folder's key in the store (`{root}/d`). */
const D = ['d'];
beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'aw-store-')));
  onCleanup(() => fs.rm(tmp, { recursive: true, force: true }));
  src = path.join(tmp, 'src');
  dst = path.join(tmp, 'ws', 'd');
  await fs.mkdir(src);
  await fs.mkdir(dst, { recursive: true });
});

/** A store on `{tmp}/ws`, closed after the test. */
async function open(o: LocalStoreOptions = {}): Promise<LocalStore> {
  const store = await LocalStore.open(path.join(tmp, 'ws'), o);
  onCleanup(() => store.close());
  return store;
}

const ls = async (d: string) => (await fs.readdir(d)).sort();
const write = async (name: string, data: string | Buffer) => {
  const p = path.join(src, name);
  await fs.writeFile(p, data);
  return p;
};

describe('LocalStore.putFile', () => {
  it('copies and hashes in one pass; the hash matches node:crypto', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const p = await write('big.bin', data);
    const res = await (await open()).putFile(p, D, 'big.bin');
    expect(res).toEqual({ dst: path.join(dst, 'big.bin'), key: ['d', 'big.bin'], bytes: data.length, sha256: sha(data), deduplicated: false });
    expect((await fs.readFile(res.dst)).equals(data)).toBe(true);
    expect(existsSync(p)).toBe(true);
    expect(await ls(dst)).toEqual(['big.bin']);
  });

  it('names clashes name_1, name_2 and stores the same content once', async () => {
    const store = (await open());
    const a = await write('a.png', 'A');
    const b = await write('b.png', 'B');
    const c = await write('c.png', 'C');
    expect((await store.putFile(a, D, 'hist.png')).dst).toBe(path.join(dst, 'hist.png'));
    expect((await store.putFile(b, D, 'hist.png')).dst).toBe(path.join(dst, 'hist_1.png'));
    expect((await store.putFile(c, D, 'hist.png')).dst).toBe(path.join(dst, 'hist_2.png'));
    const again = await store.putFile(b, D, 'hist.png');
    expect(again).toMatchObject({ dst: path.join(dst, 'hist_1.png'), deduplicated: true, sha256: sha('B') });
    expect(await ls(dst)).toEqual(['hist.png', 'hist_1.png', 'hist_2.png']);
  });

  it('parallel writers never overwrite each other', async () => {
    const store = (await open());
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.putBytes(Buffer.from(`v${i % 6}`), D, 'x.txt')));
    expect(new Set(results.map((r) => r.dst)).size).toBe(6);
    for (const r of results) expect(sha(await fs.readFile(r.dst))).toBe(r.sha256);
    expect((await ls(dst)).length).toBe(6);
  });

  it('move on one file system relocates the file', async () => {
    const p = await write('m.pkl', 'model');
    const res = await (await open()).putFile(p, D, 'm.pkl', { mode: 'move' });
    expect(res).toMatchObject({ dst: path.join(dst, 'm.pkl'), bytes: 5, deduplicated: false });
    expect(res.sourceKept).toBeUndefined();
    expect(existsSync(p)).toBe(false);
    expect(await fs.readFile(res.dst, 'utf8')).toBe('model');
  });

  it('move of a file onto itself keeps it', async () => {
    const p = path.join(dst, 'same.csv');
    await fs.writeFile(p, 'x');
    const res = await (await open()).putFile(p, D, 'same.csv', { mode: 'move' });
    expect(res).toMatchObject({ dst: p, deduplicated: true, sourceKept: 'source and destination are the same' });
    expect(await fs.readFile(p, 'utf8')).toBe('x');
    expect(await ls(dst)).toEqual(['same.csv']);
  });

  it('move of content already stored removes the duplicate source', async () => {
    const store = (await open());
    await store.putBytes(Buffer.from('dup'), D, 'd.txt');
    const p = await write('d.txt', 'dup');
    const res = await store.putFile(p, D, 'd.txt', { mode: 'move' });
    expect(res).toMatchObject({ dst: path.join(dst, 'd.txt'), deduplicated: true });
    expect(existsSync(p)).toBe(false);
  });

  it.skipIf(!existsSync('/dev/shm'))('move across file systems copies, verifies, then removes the source', async () => {
    const shm = await fs.mkdtemp('/dev/shm/aw-store-');
    onCleanup(() => fs.rm(shm, { recursive: true, force: true }));
    const p = path.join(shm, 'x.bin');
    const data = randomBytes(100_000);
    await fs.writeFile(p, data);
    const res = await (await open()).putFile(p, D, 'x.bin', { mode: 'move' });
    expect(res).toMatchObject({ bytes: data.length, sha256: sha(data), deduplicated: false });
    expect(res.sourceKept).toBeUndefined();
    expect(existsSync(p)).toBe(false);
    expect((await fs.readFile(res.dst)).equals(data)).toBe(true);
  });

  it.skipIf(process.getuid?.() === 0)('move out of a read-only folder files the copy and keeps the source, saying so (root ignores modes)', async () => {
    const p = await write('ro.csv', 'ro');
    await fs.chmod(src, 0o555);
    onCleanup(() => fs.chmod(src, 0o755));
    const res = await (await open()).putFile(p, D, 'ro.csv', { mode: 'move' });
    expect(res.sourceKept).toBe('source could not be removed (EACCES)');
    expect(await fs.readFile(res.dst, 'utf8')).toBe('ro');
    expect(await fs.readFile(p, 'utf8')).toBe('ro');
  });

  it('refuses files over the size cap and leaves nothing behind', async () => {
    const p = await write('big.csv', Buffer.alloc(11));
    await expect((await open({ maxBytes: 10 })).putFile(p, D, 'big.csv')).rejects.toThrow('larger than the size cap (10 bytes)');
    await expect((await open()).putFile(p, D, 'big.csv', { maxBytes: 5, mode: 'move' })).rejects.toThrow('larger than the size cap (5 bytes)');
    const endless = Readable.from((function* () { for (let i = 0; i < 100; i++) yield Buffer.alloc(1000); })());
    await expect((await open({ maxBytes: 5000 })).putBytes(endless, D, 'stream.bin')).rejects.toThrow('larger than the size cap (5000 bytes)');
    expect(await ls(dst)).toEqual([]);
    expect(existsSync(p)).toBe(true);
  });

  it('refuses a symlink, a swapped file and a FIFO without blocking', async () => {
    const real = await write('r.txt', 'r');
    const link = path.join(src, 'l.txt');
    await fs.symlink(real, link);
    const store = (await open());
    await expect(store.putFile(link, D, 'l.txt')).rejects.toThrow('changed since it was checked (now a symlink)');
    const st = await fs.stat(real);
    await expect(store.putFile(real, D, 'r.txt', { expect: { dev: st.dev, ino: st.ino + 1 } })).rejects.toThrow('changed since it was checked');
    const fifo = path.join(src, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(store.putFile(fifo, D, 'fifo')).rejects.toThrow('not a regular file');
    expect(await ls(dst)).toEqual([]);
  });

  it('sanitises the destination name', async () => {
    const p = await write('ok.txt', 'z');
    expect((await (await open()).putFile(p, D, '../../evil.txt')).dst).toBe(path.join(dst, '___.._evil.txt'));
  });
});

describe('LocalStore.putTree', () => {
  const makeTree = async (config = '{}') => {
    await fs.mkdir(path.join(src, 'model/sub/empty'), { recursive: true });
    await fs.writeFile(path.join(src, 'model/config.json'), config);
    await fs.writeFile(path.join(src, 'model/sub/w.bin'), 'weights');
    await fs.writeFile(Buffer.concat([Buffer.from(path.join(src, 'model/sub') + '/'), Buffer.from([0x6e, 0xff, 0xfe, 0x2e, 0x62])]), 'latin');
    const policy = await createSourcePolicy({ roots: [tmp] });
    const scan = await scanTree(path.join(src, 'model'), policy, { maxBytes: 1e9 });
    expect(scan).toMatchObject({ ok: true });
    return (scan as { tree: TreeSource }).tree;
  };

  it('copies a folder whole, non-UTF-8 names included, with the tree digest', async () => {
    const tree = await makeTree();
    const store = await open();
    const res = await store.putTree(tree, D, 'model');
    const want = treeDigest([
      { rel: 'config.json', sha256: sha('{}') },
      { rel: 'sub/w.bin', sha256: sha('weights') },
      { rel: 'sub/n__.b', sha256: sha('latin') },
    ]);
    expect(res).toEqual({ dst: path.join(dst, 'model'), key: ['d', 'model'], bytes: 2 + 7 + 5, files: 3, sha256: want, deduplicated: false });
    expect(await ls(path.join(dst, 'model/sub'))).toEqual(['empty', 'n__.b', 'w.bin']);
    expect(await store.digest(res.key)).toEqual({ kind: 'folder', bytes: 14, files: 3, sha256: want });
    expect(await ls(dst)).toEqual(['model']);
  });

  it('stores the same folder once and a different one as name_1', async () => {
    const store = (await open());
    const tree = await makeTree();
    await store.putTree(tree, D, 'model');
    expect(await store.putTree(tree, D, 'model')).toMatchObject({ dst: path.join(dst, 'model'), deduplicated: true });
    const changed = await makeTree('{"v":2}');
    expect(await store.putTree(changed, D, 'model')).toMatchObject({ dst: path.join(dst, 'model_1'), deduplicated: false });
    expect(await ls(dst)).toEqual(['model', 'model_1']);
  });

  it('moves a folder: verified copy first, then the source goes', async () => {
    const tree = await makeTree();
    const store = await open();
    const res = await store.putTree(tree, D, 'model', { mode: 'move' });
    expect(res.sourceKept).toBeUndefined();
    expect(existsSync(path.join(src, 'model'))).toBe(false);
    expect((await store.digest(res.key)).sha256).toBe(res.sha256);
  });

  it('refuses a folder over the cap with nothing left behind', async () => {
    const tree = await makeTree();
    await expect((await open({ maxBytes: 10 })).putTree(tree, D, 'model')).rejects.toThrow('larger than the size cap (10 bytes)');
    await expect((await open()).putTree({ ...tree, bytes: 3 }, D, 'model', { maxBytes: 10 })).rejects.toThrow('larger than the size cap (10 bytes)');
    expect(await ls(dst)).toEqual([]);
  });
});

describe('LocalStore.writeJsonExclusive and sweepTemps', () => {
  it('never rewrites a manifest name', async () => {
    const store = (await open());
    const names = await Promise.all([1, 2, 3].map((n) => store.writeJsonExclusive(D, 'manifest_x', { n })));
    expect(names.map((n) => n[n.length - 1]).sort()).toEqual(['manifest_x.json', 'manifest_x_1.json', 'manifest_x_2.json']);
    const parsed = await Promise.all(names.map(async (n) => JSON.parse(await fs.readFile(path.join(tmp, 'ws', ...n), 'utf8')).n));
    expect(parsed.sort()).toEqual([1, 2, 3]);
  });

  it('removes only stale temp files', async () => {
    await fs.writeFile(path.join(dst, '.aw-tmp-old'), 'x');
    await fs.mkdir(path.join(dst, '.aw-tmp-olddir'));
    await fs.writeFile(path.join(dst, '.aw-tmp-new'), 'x');
    await fs.writeFile(path.join(dst, 'keep.txt'), 'x');
    const old = new Date(Date.now() - 120_000);
    await fs.utimes(path.join(dst, '.aw-tmp-old'), old, old);
    await fs.utimes(path.join(dst, '.aw-tmp-olddir'), old, old);
    expect((await (await open()).sweepTemps({ maxAgeMs: 60_000 })).removed).toHaveLength(2);
    expect(await ls(dst)).toEqual(['.aw-tmp-new', 'keep.txt']);
  });
});
