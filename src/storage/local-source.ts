// Removing a source after a move, without letting a swapped folder redirect the unlink: the
// source's folder is opened, its real path read back from the descriptor and cleared by the
// policy again, and the name is unlinked inside that very folder, only while it is still the file
// that was copied.
import fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { Folder } from './local-folder.js';
import type { SourceAdmission } from './store.js';
import { sameInode } from './local-io.js';

/** Removes the source `file` if it is still `st`. Returns why it was kept, if it was. */
export async function removeSource(
  file: string | Buffer,
  st: Pick<Stats, 'dev' | 'ino' | 'size'> & { mtimeMs?: number },
  admit?: SourceAdmission,
  /** A symlink standing at `file` is removed too (a folder's member that was read through its link). */
  linkOk = false,
): Promise<string | undefined> {
  const raw = Buffer.isBuffer(file) ? file : Buffer.from(file);
  const cut = raw.lastIndexOf(0x2f);
  const parentPath = cut <= 0 ? '/' : raw.subarray(0, cut).toString('utf8');
  const base = raw.subarray(cut + 1);
  let dir: Folder;
  try {
    dir = await Folder.open(parentPath);
  } catch {
    return 'source changed while it was moved';
  }
  try {
    if (admit) {
      const real = await dir.realPath();
      if (!real || admit(path.join(real, base.toString('utf8')))) return 'source changed while it was moved';
    }
    const now = await fs.lstat(dir.at(base)).catch(() => undefined);
    const same = now && ((linkOk && now.isSymbolicLink()) || (sameInode(now, st) && now.size === st.size && (st.mtimeMs === undefined || now.mtimeMs === st.mtimeMs)));
    if (!same) return 'source changed while it was moved';
    // The copy is already filed; a read-only source folder must not turn that into a failure.
    return await fs.unlink(dir.at(base)).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => `source could not be removed (${e.code ?? e.message})`,
    );
  } finally {
    await dir.close();
  }
}

/** Removes an emptied source folder (only when empty: rmdir never removes contents). */
export async function removeEmptyFolder(dirPath: string | Buffer): Promise<void> {
  await fs.rmdir(dirPath).catch(() => undefined);
}
