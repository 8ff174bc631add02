// The source policy for folder artifacts. Every member is checked before a single byte is copied;
// one bad member refuses the whole folder, so a model folder is stored complete or not at all,
// and nothing that resolves outside the allowed roots is ever read. Names are read as Buffers so
// members whose names are not valid UTF-8 are still copied (under a sanitised name).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TreeDir, TreeFile, TreeSource } from '../storage/store.js';
import { sizeCapReason } from '../storage/store.js';
import { denyReason, errnoReason, isWithin, kindOf, policyReason, type SourcePolicy } from './policy.js';

export interface TreeLimits {
  /** Most regular files in one folder artifact (default 100,000). */
  maxFiles?: number;
  /** Deepest nesting below the folder (default 64). */
  maxDepth?: number;
  /** Size cap of the folder's total, in bytes. */
  maxBytes: number;
}

export type TreeScan = { ok: true; tree: TreeSource } | { ok: false; reason: string };

const SEP = Buffer.from(path.sep);

class Refusal extends Error {}

/**
 * Walks a folder the policy already cleared (`realDir` is its real path). Symlinked files that
 * resolve inside the allowed roots are read through (their target is copied); a symlinked
 * folder, a special file, a secret or anything resolving outside the roots refuses the folder.
 */
export async function scanTree(realDir: string, policy: SourcePolicy, limits: TreeLimits): Promise<TreeScan> {
  const maxFiles = limits.maxFiles ?? 100_000;
  const maxDepth = limits.maxDepth ?? 64;
  // Copying a folder that holds a whole allowed root (the workspaces, the temp folder) would copy
  // far more than any tool made, and the workspace into itself.
  if (policy.roots.some((r) => isWithin(r, realDir, policy.platform))) return { ok: false, reason: 'folder contains an allowed source root' };
  const files: TreeFile[] = [];
  const dirs: TreeDir[] = [];
  let bytes = 0;
  const stack: { abs: Buffer; rel: string[] }[] = [{ abs: Buffer.from(realDir), rel: [] }];
  try {
    while (stack.length > 0) {
      const { abs, rel } = stack.pop() as { abs: Buffer; rel: string[] };
      const names = (await fs.readdir(abs, { encoding: 'buffer' })).sort(Buffer.compare);
      const subdirs: { abs: Buffer; rel: string[] }[] = [];
      for (const name of names) {
        const entry = Buffer.concat([abs, SEP, name]);
        const r = [...rel, name.toString('utf8')];
        const shown = r.join('/');
        const fail = (why: string): never => {
          throw new Refusal(`folder member ${shown}: ${why}`);
        };
        const st = await fs.lstat(entry).catch((e: unknown) => fail(errnoReason(e)));
        const entryStr = entry.toString('utf8');
        const denied = denyReason(entryStr, policy.homeDir, policy.platform);
        if (denied) fail(denied);
        if (st.isDirectory()) {
          if (r.length > maxDepth) throw new Refusal(`folder deeper than ${maxDepth} levels`);
          dirs.push({ rel: r, entry });
          subdirs.push({ abs: entry, rel: r });
          continue;
        }
        let src: string | Buffer = entry;
        let target = st;
        if (st.isSymbolicLink()) {
          const real = await fs.realpath(entry, { encoding: 'buffer' }).catch((e: unknown) => fail(errnoReason(e)));
          const why = policyReason(real.toString('utf8'), policy);
          if (why) fail(why);
          target = await fs.stat(real).catch((e: unknown) => fail(errnoReason(e)));
          if (target.isDirectory()) fail('symlink to a folder');
          src = real;
        }
        if (!target.isFile()) fail(`not a regular file (${kindOf(target)})`);
        files.push({ rel: r, src, entry, dev: target.dev, ino: target.ino, size: target.size });
        bytes += target.size;
        if (files.length > maxFiles) throw new Refusal(`folder holds more than ${maxFiles} files`);
        if (bytes > limits.maxBytes) throw new Refusal(sizeCapReason(limits.maxBytes));
      }
      // Depth-first, parents before children, in name order: a stable copy order and digest input.
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as { abs: Buffer; rel: string[] });
    }
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.message };
    return { ok: false, reason: errnoReason(e) };
  }
  return { ok: true, tree: { root: realDir, files, dirs, bytes } };
}
