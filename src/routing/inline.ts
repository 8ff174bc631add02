// Bytes that arrive inside a tool result (image, audio and embedded resource blocks): their size
// before decoding, a file name for them, and decoding in slices so a large blob is never held
// more than twice (the string the result carries, plus one slice).
import mime from 'mime-types';
import path from 'node:path';
import type { Candidate } from './types.js';

type Inline = Extract<Candidate, { kind: 'inline' }>;

/** 1 MiB of base64 text per slice; a multiple of 4, so slices decode independently. */
const SLICE_CHARS = 1024 * 1024;

/** Decoded size, computed without decoding (an upper bound when the text holds whitespace). */
export function inlineSize(c: Inline): number {
  if (c.encoding === 'utf8') return Buffer.byteLength(c.data, 'utf8');
  const len = c.data.length;
  const pad = c.data.endsWith('==') ? 2 : c.data.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((len * 3) / 4) - pad);
}

function* base64Slices(data: string): Generator<Buffer> {
  // Line-wrapped base64 would break the 4-character alignment of the slices.
  const s = /\s/.test(data) ? data.replace(/\s+/g, '') : data;
  for (let i = 0; i < s.length; i += SLICE_CHARS) yield Buffer.from(s.slice(i, i + SLICE_CHARS), 'base64');
}

export function inlineBytes(c: Inline): Iterable<Buffer> {
  return c.encoding === 'base64' ? base64Slices(c.data) : [Buffer.from(c.data, 'utf8')];
}

/**
 * The file name for inline bytes: the block's own name (the last URI segment; the store sanitises
 * it), given the extension of its MIME type when it has none; else named after the tool that made
 * it, `{tool}_{blockType}_{stamp}.{ext}` (`get-tiny-image_image_20251017_223145_120.png`), which
 * says more in a folder of plots than a bare `image_…`.
 */
export function inlineName(c: Inline, stamp: string, tool?: string): string {
  const ext = (c.mime && mime.extension(c.mime)) || (c.encoding === 'utf8' ? 'txt' : 'bin');
  if (c.name) return path.extname(c.name) ? c.name : `${c.name}.${ext}`;
  return `${tool ? `${tool}_` : ''}${c.blockType}_${stamp}.${ext}`;
}

export function inlineMime(c: Inline, name: string): string {
  return c.mime || mime.lookup(name) || 'application/octet-stream';
}
