// Path containment as plain string logic (no fs): the check every layer shares, kept pure so that
// prefix attacks (`/home/u/project2` against `/home/u/project`) are tested with plain strings.
import path from 'node:path';

const caseInsensitive = (platform: NodeJS.Platform): boolean => platform === 'win32' || platform === 'darwin';

/**
 * True when `child` is `parent` or inside it. Pure string check on absolute paths: `/home/u/project2`
 * is not inside `/home/u/project`; trailing separators do not matter; case follows the platform's
 * default file system (insensitive on Windows and macOS). Relative paths are never inside anything.
 */
export function isWithin(child: string, parent: string, platform: NodeJS.Platform = process.platform): boolean {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (!p.isAbsolute(child) || !p.isAbsolute(parent) || child.includes('\0') || parent.includes('\0')) return false;
  let c = p.normalize(child);
  let r = p.normalize(parent);
  if (caseInsensitive(platform)) {
    c = c.toLowerCase();
    r = r.toLowerCase();
  }
  const strip = (s: string) => (s.length > p.parse(s).root.length ? s.replace(/[\\/]+$/, '') : s);
  c = strip(c);
  r = strip(r);
  if (c === r) return true;
  return c.startsWith(r.endsWith(p.sep) ? r : r + p.sep);
}

/** Whether a workspaces root names an object store (`s3://…`) rather than a folder (a path or `file://`). */
export const isRemoteRoot = (root: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(root) && !/^file:\/\//i.test(root);
