// Property tests of the source policy and the router on a real file system. A sandbox holds an
// allowed root (regular files, a folder, non-UTF-8 names, secrets, a FIFO, symlinks that leave it,
// a symlink loop), a folder outside every root, and the workspaces. For random results and paths
// (traversal, symlinks, odd bytes, file:// URLs) the router never rejects, writes nothing outside
// the run, copies nothing from outside the allowed root, leaves no temp, and in move mode never
// deletes a file whose bytes did not arrive in the run.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkSource, createSourcePolicy, denyReason, isWithin, type SourcePolicy } from '../../src/routing/policy.js';
import { routeCandidates } from '../../src/routing/router.js';
import { detectArtifacts } from '../../src/routing/detect.js';
import type { Candidate } from '../../src/routing/types.js';
import { Workspaces } from '../../src/workspace/layout.js';
import { onCleanup, snapshot, tempDir } from '../helpers.js';
import { oddString, pathArb, resultArb } from './arbitraries.js';

const SECRET = 'TOP-SECRET';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Sandbox {
  base: string;
  allowed: string;
  outside: string;
  wsRoot: string;
  policy: SourcePolicy;
  ws: Workspaces;
}

let box: Sandbox;

/** (Re)creates the allowed and outside folders with every kind of trap; the workspaces persist. */
async function populate(b: Sandbox): Promise<void> {
  const { allowed: A, outside: O } = b;
  await fs.rm(A, { recursive: true, force: true });
  await fs.rm(O, { recursive: true, force: true });
  await fs.mkdir(path.join(A, 'sub'), { recursive: true });
  await fs.mkdir(path.join(A, 'model', 'nested'), { recursive: true });
  await fs.mkdir(path.join(A, 'badmodel'), { recursive: true });
  await fs.mkdir(path.join(A, 'home', '.ssh'), { recursive: true });
  await fs.mkdir(O, { recursive: true });
  await fs.writeFile(path.join(A, 'a.png'), 'png bytes');
  await fs.writeFile(path.join(A, 'sub', 'b.csv'), 'x,y\n1,2\n');
  await fs.writeFile(path.join(A, 'model', 'w.bin'), 'weights');
  await fs.writeFile(path.join(A, 'model', 'nested', 'cfg.json'), '{}');
  await fs.writeFile(Buffer.concat([Buffer.from(path.join(A, 'model', 'odd-')), Buffer.from([0xff, 0xfe]), Buffer.from('.bin')]), 'not utf-8 name');
  await fs.writeFile(path.join(A, '.env'), `${SECRET}-ENV`);
  await fs.writeFile(path.join(A, 'key.pem'), `${SECRET}-PEM`);
  await fs.writeFile(path.join(A, 'home', '.ssh', 'id_rsa'), `${SECRET}-SSH`);
  await fs.writeFile(path.join(O, 'secret.txt'), `${SECRET}-OUTSIDE`);
  await fs.symlink(path.join(O, 'secret.txt'), path.join(A, 'link-out'));
  await fs.symlink('a.png', path.join(A, 'link-in'));
  await fs.symlink(O, path.join(A, 'dirlink-out'));
  await fs.symlink(b.wsRoot, path.join(A, 'link-ws'));
  await fs.symlink('loop', path.join(A, 'loop'));
  await fs.symlink(path.join(O, 'secret.txt'), path.join(A, 'badmodel', 'leak.txt'));
  await fs.writeFile(path.join(A, 'badmodel', 'ok.txt'), 'fine');
  execFileSync('mkfifo', [path.join(A, 'fifo')]);
}

const SEGMENTS = [
  'a.png', 'sub', 'b.csv', 'model', 'nested', 'w.bin', 'badmodel', 'home', '.ssh', 'id_rsa', '.env', 'key.pem',
  'link-out', 'link-in', 'dirlink-out', 'link-ws', 'loop', 'fifo', 'secret.txt', 'allowed', 'outside', 'ws', 'prop', 'latest', 'plots',
];

beforeEach(async () => {
  const base = await tempDir('aw-prop-');
  const b: Omit<Sandbox, 'policy' | 'ws'> = { base, allowed: path.join(base, 'allowed'), outside: path.join(base, 'outside'), wsRoot: path.join(base, 'ws') };
  const ws = await Workspaces.open(b.wsRoot, undefined, { maxBytes: 1024 * 1024 });
  onCleanup(() => ws.store.close());
  // Not the OS temp folder: the sandbox itself lives there, and `outside` must be outside.
  const policy = await createSourcePolicy({ roots: [b.allowed, b.wsRoot], homeDir: path.join(b.allowed, 'home') });
  box = { ...b, ws, policy };
});

/** Paths that name something in the sandbox (each trap among them), directly or by traversal. */
function knownPaths(): fc.Arbitrary<string> {
  const A = box.allowed;
  const O = box.outside;
  const abs = [
    'a.png', 'sub/b.csv', 'sub', 'model', 'model/', 'model/w.bin', 'badmodel', 'link-out', 'link-in', 'dirlink-out', 'dirlink-out/secret.txt',
    'link-ws', 'link-ws/prop', 'loop', 'fifo', '.env', 'key.pem', 'home/.ssh/id_rsa', 'home', '.', '..', 'sub/../a.png', './a.png',
    '../outside/secret.txt', 'sub/../../outside/secret.txt', 'model/../../ws', 'nothing-here.png',
  ].map((r) => path.join(A, r));
  const rel = ['a.png', 'sub/b.csv', 'model', 'link-out', '../outside/secret.txt', '../allowed/a.png', 'secret.txt', 'fifo'];
  return fc.tuple(fc.constantFrom(...abs, ...rel, O, path.join(O, 'secret.txt'), box.wsRoot, box.base), fc.constantFrom('plain', 'url', 'slash')).map(([p, form]) => {
    if (form === 'url' && path.isAbsolute(p)) return `file://${encodeURI(p)}`;
    return form === 'slash' ? `${p}/` : p;
  });
}

const paths = () => fc.oneof({ weight: 3, arbitrary: knownPaths() }, { weight: 1, arbitrary: pathArb(SEGMENTS, [box.allowed, box.outside, box.wsRoot, box.base]) });

function candidatesArb(): fc.Arbitrary<Candidate[]> {
  const pathCand = fc.record({
    kind: fc.constant('path' as const),
    path: paths(),
    type: fc.option(fc.oneof(fc.constantFrom('model', 'plot', 'report', 'data', 'manifests', 'tmp', '../..'), oddString), { nil: undefined }),
    label: oddString,
    explicit: fc.boolean(),
  });
  const inlineCand = fc.record({
    kind: fc.constant('inline' as const),
    blockType: fc.constantFrom('image' as const, 'audio' as const, 'resource' as const),
    encoding: fc.constantFrom('base64' as const, 'utf8' as const),
    data: fc.oneof(oddString, fc.uint8Array({ maxLength: 32 }).map((u) => Buffer.from(u).toString('base64'))),
    mime: fc.option(fc.oneof(fc.constantFrom('image/png', 'text/plain'), oddString), { nil: undefined }),
    name: fc.option(fc.oneof(fc.constantFrom('../../escape.txt', '/etc/passwd', '.aw-tmp-1-ab', 'con', '..', 'a/b\\c.png', 'x'.repeat(300)), oddString), { nil: undefined }),
    label: oddString,
  });
  // Candidates straight, or as detection finds them in a random result.
  return fc.oneof(
    fc.array(fc.oneof({ weight: 3, arbitrary: pathCand }, { weight: 1, arbitrary: inlineCand }), { maxLength: 8 }),
    resultArb(paths(), 4).map((r) => detectArtifacts(r).candidates.slice(0, 12)),
  );
}

/** Every regular file under `dir` (symlinks not followed) with its bytes' digest. */
async function fileDigests(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: Buffer): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true, encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from(path.sep), e.name]);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.set(p.toString('latin1'), sha(await fs.readFile(p)));
    }
  };
  await walk(Buffer.from(dir));
  return out;
}

async function routeOnce(mode: 'copy' | 'move', candidates: Candidate[], inputs: string[], baseDir: string) {
  await populate(box);
  const run = await box.ws.createRun('prop');
  const beforeOutside = await snapshot(box.outside);
  const beforeAllowed = await fileDigests(box.allowed);
  const beforeWs = await snapshot(box.wsRoot);
  const out = await routeCandidates({ tool: 'prop', candidates, inputs, mode, run, baseDir }, { store: box.ws.store, policy: box.policy });
  const afterWs = await snapshot(box.wsRoot);
  const runRel = path.relative(box.wsRoot, run.runDir);
  // Nothing in the workspaces changed except inside this run.
  for (const [k, v] of afterWs) if (beforeWs.get(k) !== v) expect(isWithin(path.join(box.wsRoot, k), run.runDir), `${k} changed outside the run`).toBe(true);
  for (const k of beforeWs.keys()) if (!afterWs.has(k)) expect(k.startsWith(runRel), `${k} vanished`).toBe(true);
  expect([...afterWs.keys()].filter((k) => k.includes('.aw-tmp-'))).toEqual([]);
  // Outside every root: untouched, in either mode.
  expect(await snapshot(box.outside)).toEqual(beforeOutside);
  // No secret's bytes reached the run, whatever path led there.
  const stored = await fileDigests(run.runDir);
  for (const f of stored.keys()) {
    if (!f.includes(`${path.sep}manifests${path.sep}`)) expect((await fs.readFile(Buffer.from(f, 'latin1'))).toString('latin1')).not.toContain(SECRET);
  }
  for (const e of out.routed) {
    expect(isWithin(e.dst, run.runDir)).toBe(true);
    if (!e.src.startsWith('inline:')) expect(denyReason(e.src, box.policy.homeDir)).toBeNull();
  }
  return { out, run, beforeAllowed, stored };
}

describe('router and source policy over random paths and results', () => {
  it('copy: never rejects, writes only inside the run, never reads outside the allowed root', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constant(null).chain(() => candidatesArb()), fc.array(paths(), { maxLength: 3 }), fc.boolean(), async (candidates, inputs, relToOutside) => {
        const { out, beforeAllowed } = await routeOnce('copy', candidates, inputs, relToOutside ? box.outside : box.allowed);
        // Copy mode: every source is still there, unchanged.
        expect(await fileDigests(box.allowed)).toEqual(beforeAllowed);
        expect(out.routed.length + out.skipped.length).toBeLessThanOrEqual(candidates.length);
        if (out.routed.length || out.skipped.length) {
          expect(out.manifest).not.toBeNull();
          const m = JSON.parse(await fs.readFile(out.manifest!, 'utf8'));
          expect(m.entries).toEqual(JSON.parse(JSON.stringify(out.routed)));
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('move: a source disappears only when its bytes are in the run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constant(null).chain(() => candidatesArb()), async (candidates) => {
        const { beforeAllowed, stored } = await routeOnce('move', candidates, [], box.allowed);
        const after = await fileDigests(box.allowed);
        const inRun = new Set(stored.values());
        for (const [file, digest] of beforeAllowed) {
          if (!after.has(file)) expect(inRun.has(digest), `${file} was removed but its bytes are not in the run`).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('checkSource never throws; a cleared source is a regular file or folder inside a root, and no secret', async () => {
    await populate(box);
    await fc.assert(
      fc.asyncProperty(fc.oneof(paths(), oddString), async (p) => {
        const r = await checkSource(p, box.policy);
        if (!r.ok) {
          expect(r.reason).toMatch(/\S/);
          return;
        }
        expect(r.stat.isFile() || r.stat.isDirectory()).toBe(true);
        expect(box.policy.roots.some((root) => isWithin(r.real, root))).toBe(true);
        expect(denyReason(r.real, box.policy.homeDir)).toBeNull();
        expect(isWithin(r.real, box.outside)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('isWithin: a sibling sharing a prefix is never inside; a clean child always is', () => {
    const seg = fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 4 }), fc.array(seg, { maxLength: 4 }), seg, (rootSegs, childSegs, suffix) => {
        const root = `/${rootSegs.join('/')}`;
        expect(isWithin(path.posix.join(root, ...childSegs), root, 'linux')).toBe(true);
        expect(isWithin(`${root}${suffix}`, root, 'linux')).toBe(false);
        // Traversal is judged after normalising: `/a/key/../key` is the root itself, `/a/key/../x` is not inside.
        const up = path.posix.join(root, '..', suffix);
        expect(isWithin(up, root, 'linux')).toBe(up === root);
        expect(isWithin(`${root}/../${suffix}`, root, 'linux')).toBe(up === root);
      }),
      { numRuns: 500 },
    );
  });
});
