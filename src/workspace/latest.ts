// The `latest` pointer of a dataset folder: a relative symlink swapped atomically
// (temp link + rename), else a junction, else `latest.txt`. Readers accept all three.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isRunId } from './slug.js';

export type LatestKind = 'symlink' | 'junction' | 'file';

/** Points `{datasetDir}/latest` at `runId`. Returns how it was done. */
export async function writeLatest(datasetDir: string, runId: string): Promise<LatestKind> {
  const link = path.join(datasetDir, 'latest');
  const tmp = path.join(datasetDir, `.latest-${randomBytes(6).toString('hex')}`);
  try {
    await fs.symlink(runId, tmp, 'dir');
    await fs.rename(tmp, link);
    return 'symlink';
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    if (!isPermissionError(e)) throw e;
  }
  if (process.platform === 'win32') {
    try {
      // Junctions need an absolute target; rename cannot replace one, so remove first.
      await fs.symlink(path.join(datasetDir, runId), tmp, 'junction');
      await fs.rm(link, { force: true, recursive: false }).catch(() => {});
      await fs.rename(tmp, link);
      return 'junction';
    } catch {
      await fs.rm(tmp, { force: true }).catch(() => {});
    }
  }
  const txt = path.join(datasetDir, 'latest.txt');
  await fs.writeFile(tmp, `${runId}\n`, { flag: 'wx' });
  await fs.rename(tmp, txt);
  return 'file';
}

/** The run id `latest` names, or undefined. */
export async function readLatest(datasetDir: string): Promise<string | undefined> {
  const link = path.join(datasetDir, 'latest');
  try {
    const target = await fs.readlink(link);
    const id = path.basename(target.replace(/[\\/]+$/, ''));
    if (isRunId(id)) return id;
  } catch {
    // not a link: try the file fallback
  }
  try {
    const id = (await fs.readFile(path.join(datasetDir, 'latest.txt'), 'utf8')).trim();
    if (isRunId(id)) return id;
  } catch {
    // no pointer at all
  }
  return undefined;
}

function isPermissionError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EPERM' || code === 'EACCES' || code === 'ENOSYS' || code === 'ENOTSUP';
}
