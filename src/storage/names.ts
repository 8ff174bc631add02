// Safe destination file names. Names come from hostile places (tool results, resource URIs, file
// systems with non-UTF-8 names), so each is reduced to one harmless path segment. Pure.

/** Longest name in UTF-8 bytes; 255 is the common file-system limit, the rest leaves room for `_N`. */
export const MAX_NAME_BYTES = 200;

// Windows refuses these stems whatever the extension; a workspace may be copied there.
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
const DOUBLE_EXT = /\.(tar\.(gz|bz2|xz|zst))$/i;

/** `[stem, ext]` with the extension's dot; `.tar.gz` stays whole so `model_1.tar.gz` reads right. */
export function splitExt(name: string): [string, string] {
  const dbl = DOUBLE_EXT.exec(name);
  if (dbl && dbl.index > 0) return [name.slice(0, dbl.index), name.slice(dbl.index)];
  const i = name.lastIndexOf('.');
  // A dot at 0 is a hidden-file marker, not an extension; very long "extensions" are just text.
  if (i <= 0 || name.length - i > 24) return [name, ''];
  return [name.slice(0, i), name.slice(i)];
}

/** Cuts `s` to at most `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * One safe path segment: no separators, NUL or control characters, no replacement characters
 * (a non-UTF-8 name decoded by Node), no invisible format characters (a right-to-left override
 * makes `report\u202Efdp.exe` read as `reportexe.pdf`; zero-width ones make two names look
 * alike), no leading dot (no hidden files, `.` or `..`, nor a name that looks like our own temp
 * files), at most MAX_NAME_BYTES, keeping the extension.
 */
export function sanitiseName(raw: string, fallback = 'artifact'): string {
  let s = raw.normalize('NFC');
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f-\u009f/\\:*?"<>|\ufffd]|\p{Cf}/gu, '_');
  s = s.replace(/^[.\s]+/, (m) => '_'.repeat(Math.min(m.length, 3)));
  s = s.replace(/[.\s]+$/, ''); // Windows drops trailing dots and spaces; make that explicit.
  if (s === '' || /^_+$/.test(s)) s = fallback; // Nothing left that names anything.
  const [stem, ext] = splitExt(s);
  const safeStem = RESERVED.test(stem) ? `_${stem}` : stem;
  return fit(safeStem, ext, '');
}

/** `name`, then `name_1.ext`, `name_2.ext`, … kept within MAX_NAME_BYTES. */
export function variantName(name: string, n: number): string {
  if (n === 0) return name;
  const [stem, ext] = splitExt(name);
  return fit(stem, ext, `_${n}`);
}

function fit(stem: string, ext: string, suffix: string): string {
  const room = MAX_NAME_BYTES - Buffer.byteLength(ext + suffix, 'utf8');
  const cut = truncateUtf8(stem, Math.max(1, room));
  return `${cut === '' ? '_' : cut}${suffix}${ext}`;
}
