// Large-file copies: the streaming copy+hash (several chunks, caps, empty files), the fallback
// when the file system cannot clone, and the clone itself on an XFS reflink=1 loop mount.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { statfsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/storage/local.js';
import { Folder } from '../../src/storage/local-folder.js';
import { cloneHashed, copyFileHashed, COPY_CHUNK, openSource, openTemp } from '../../src/storage/local-io.js';
import { onCleanup, tempDir } from '../helpers.js';

async function folder(dir: string): Promise<Folder> {
  const f = await Folder.open(dir);
  onCleanup(() => f.close());
  return f;
}

async function store(root: string, maxBytes?: number): Promise<LocalStore> {
  const s = await LocalStore.open(root, { maxBytes });
  onCleanup(() => s.close());
  return s;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('copyFileHashed', () => {
  it('copies and hashes files of several chunks, one byte, and none', async () => {
    const dir = await tempDir();
    for (const size of [0, 1, COPY_CHUNK, 2 * COPY_CHUNK + 12_345]) {
      const data = randomBytes(size);
      const src = path.join(dir, `s${size}`);
      await fs.writeFile(src, data);
      const { fh } = await openSource(src);
      const tmp = await openTemp(await folder(dir));
      try {
        expect(await copyFileHashed(fh, tmp.fh, Number.POSITIVE_INFINITY)).toEqual({ bytes: size, sha256: sha(data) });
      } finally {
        await fh.close();
      }
      expect((await fs.readFile(path.join(dir, tmp.name))).equals(data)).toBe(true);
    }
  });

  it('stops at the cap and names the reported cap', async () => {
    const dir = await tempDir();
    const src = path.join(dir, 's');
    await fs.writeFile(src, randomBytes(COPY_CHUNK + 10));
    const { fh } = await openSource(src);
    const tmp = await openTemp(await folder(dir));
    try {
      await expect(copyFileHashed(fh, tmp.fh, COPY_CHUNK, 999)).rejects.toThrow('larger than the size cap (999 bytes)');
    } finally {
      await fh.close();
    }
  });
});

/** A small XFS with reflink=1 on a loop device, when we are root and mkfs.xfs is installed. */
function reflinkUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'reflink clones are tested on Linux only';
  if (process.getuid?.() !== 0) return 'not root: cannot loop-mount an XFS image';
  if (spawnSync('mkfs.xfs', ['-V']).status !== 0) return 'mkfs.xfs not installed (apt-get install xfsprogs)';
  return undefined;
}

describe('clone path', () => {
  it('falls back to the streaming copy where cloning is unsupported, leaving the temp file empty and open', async (ctx) => {
    const dir = await tempDir();
    if (spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim() === 'xfs') ctx.skip();
    const data = randomBytes(3000);
    await fs.writeFile(path.join(dir, 's'), data);
    const { fh } = await openSource(path.join(dir, 's'));
    const tmp = await openTemp(await folder(dir));
    try {
      expect(await cloneHashed(fh, tmp.fh, Number.POSITIVE_INFINITY)).toBeNull();
      expect((await tmp.fh.stat()).size).toBe(0);
      expect(await copyFileHashed(fh, tmp.fh, Number.POSITIVE_INFINITY)).toEqual({ bytes: 3000, sha256: sha(data) });
    } finally {
      await fh.close();
    }
    const res = await (await store(dir)).putFile(path.join(dir, 's'), [], 'copy.bin');
    expect(res).toMatchObject({ bytes: 3000, sha256: sha(data), deduplicated: false });
    expect((await fs.stat(res.dst)).mode & 0o777).toBe(0o644);
  });

  const why = reflinkUnavailable();
  if (why) console.warn(`skipping the XFS clone test: ${why}`);
  describe.skipIf(why !== undefined)('on XFS with reflink=1', () => {
    let mnt = '';
    let img = '';
    beforeAll(async () => {
      const base = await fs.realpath(await fs.mkdtemp('/tmp/aw-xfs-test-'));
      img = path.join(base, 'xfs.img');
      mnt = path.join(base, 'mnt');
      await fs.mkdir(mnt);
      await fs.writeFile(img, '');
      await fs.truncate(img, 320 * 1024 * 1024);
      expect(spawnSync('mkfs.xfs', ['-q', '-m', 'reflink=1', img]).status).toBe(0);
      const m = spawnSync('mount', ['-o', 'loop', img, mnt], { encoding: 'utf8' });
      expect(m.status, m.stderr).toBe(0);
    });
    afterAll(async () => {
      spawnSync('umount', [mnt]);
      await fs.rm(path.dirname(img), { recursive: true, force: true });
    });

    it('stores a clone that shares the data blocks, hashed from the stored bytes', async () => {
      const src = path.join(mnt, 'model.bin');
      const data = randomBytes(8 * 1024 * 1024);
      await fs.writeFile(src, data, { mode: 0o600 });
      const out = path.join(mnt, 'models');
      await fs.mkdir(out);
      const used = () => {
        const s = statfsSync(mnt);
        return (s.blocks - s.bfree) * s.bsize;
      };
      const before = used();
      const res = await (await store(out)).putFile(src, [], 'model.bin');
      // A copy would take 8 MiB more; a clone only its metadata.
      expect(used() - before).toBeLessThan(1024 * 1024);
      expect(res).toMatchObject({ bytes: data.length, sha256: sha(data), deduplicated: false });
      expect((await fs.readFile(res.dst)).equals(data)).toBe(true);
      expect((await fs.stat(res.dst)).mode & 0o777).toBe(0o644);
      expect((await fs.stat(res.dst)).ino).not.toBe((await fs.stat(src)).ino);
      // Copy on write: the source changing later leaves the stored bytes as they were hashed.
      const fh = await fs.open(src, 'r+');
      await fh.write(Buffer.from('changed'), 0, 7, 0);
      await fh.close();
      expect(sha(await fs.readFile(res.dst))).toBe(res.sha256);
    });

    it('refuses a symlink at the source and respects the size cap', async () => {
      const real = path.join(mnt, 'real.bin');
      await fs.writeFile(real, randomBytes(4096));
      const link = path.join(mnt, 'link.bin');
      await fs.symlink(real, link);
      await expect((await store(mnt)).putFile(link, [], 'x.bin')).rejects.toThrow(/symlink|not a regular file/);
      await expect((await store(mnt, 100)).putFile(real, [], 'y.bin')).rejects.toThrow(/size cap/);
      expect((await fs.readdir(mnt)).filter((n) => n.startsWith('.aw-tmp-'))).toEqual([]);
    });
  });
});
