// MCP content blocks (text, resource_link, image, audio, resource) read as artifact findings.
// Pure, and every read guarded: a block is just another untrusted object.
import type { Candidate } from './types.js';
import { candidateName, fileUrlPath, read } from './detect-util.js';

type Inline = Extract<Candidate, { kind: 'inline' }>;

export interface BlockFinding {
  /** Keys the block shape used up; the generic walk skips them. */
  consumed: string[];
  /** A text block's text, to be parsed when it looks like JSON. */
  text?: string;
  /** A `file://` resource_link, as a local path. */
  link?: { path: string; label: string };
  inline?: Inline;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function inline(blockType: Inline['blockType'], encoding: Inline['encoding'], data: string, mime?: string, name?: string): Inline {
  const c: Inline = { kind: 'inline', blockType, encoding, data, label: blockType };
  if (mime !== undefined) c.mime = mime;
  if (name !== undefined) c.name = name;
  return c;
}

/** What a content block names; an object that is not a block yields nothing. */
export function readBlock(block: object): BlockFinding {
  const type = read(block, 'type');
  if (type === 'text') {
    const text = read(block, 'text');
    return typeof text === 'string' ? { consumed: ['text'], text } : { consumed: ['text'] };
  }
  if (type === 'resource_link') {
    // Other schemes (https:, custom) are not local files: ignored, and reported nowhere.
    const p = fileUrlPath(read(block, 'uri'));
    return p === undefined ? { consumed: ['uri'] } : { consumed: ['uri'], link: { path: p, label: str(read(block, 'name')) ?? 'resource_link' } };
  }
  if (type === 'image' || type === 'audio') {
    const data = read(block, 'data');
    return typeof data === 'string' ? { consumed: ['data'], inline: inline(type, 'base64', data, str(read(block, 'mimeType'))) } : { consumed: ['data'] };
  }
  if (type === 'resource') {
    const res = read(block, 'resource');
    if (res === null || typeof res !== 'object') return { consumed: [] };
    const uri = read(res, 'uri');
    const text = read(res, 'text');
    const blob = read(res, 'blob');
    const mime = str(read(res, 'mimeType'));
    // README "Where artifacts are found": the bytes are the text or blob; the URI only gives the file name.
    const name = typeof uri === 'string' ? candidateName(uri) : undefined;
    if (typeof blob === 'string') return { consumed: ['resource'], inline: inline('resource', 'base64', blob, mime, name) };
    if (typeof text === 'string') return { consumed: ['resource'], inline: inline('resource', 'utf8', text, mime, name) };
    return { consumed: ['resource'] };
  }
  return { consumed: [] };
}
