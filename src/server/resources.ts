// Every file in the workspaces as an MCP resource with a file:// URI (the same URI the proxy's
// resource_link blocks carry). Listing is paged with an opaque cursor and never follows symlinks;
// reads are contained: a URI must resolve, lexically and through symlinks, inside the root.
import fs from 'node:fs/promises';
import { constants as C, type Dirent } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mime from 'mime-types';
import { ErrorCode, McpError, type ListResourcesResult, type ReadResourceResult, type Resource } from '@modelcontextprotocol/sdk/types.js';
import { isWithin } from '../routing/policy.js';
import type { RoutedEvent, RoutingService } from './context.js';
import type { ResourceSource, SourceEvent } from './sources.js';

export const PAGE_SIZE = 500;
export const MAX_READ_BYTES = 64 * 1024 ** 2;
// Temp names of the store and the latest pointer: never resources.
const HIDDEN = /^\.(aw-tmp-|aw-index$|latest-)/;
const TEXTUAL = /^(text\/|application\/(json|xml|yaml|x-yaml|javascript|x-ndjson|csv|sql|toml)|.*\+(json|xml)$)/;

/** Opaque cursor: the relative path of the last resource on the previous page. */
const encodeCursor = (rel: string): string => Buffer.from(rel, 'utf8').toString('base64url');
function decodeCursor(c: string): string[] {
  const rel = Buffer.from(c, 'base64url').toString('utf8');
  if (!rel || rel.includes('\0') || rel.split('/').some((s) => s === '..' || s === '')) throw new McpError(ErrorCode.InvalidParams, 'invalid cursor');
  return rel.split('/');
}

export function mimeOf(file: string): string {
  return mime.lookup(file) || 'application/octet-stream';
}

/** Listings fetched ahead of the walk: enough to keep the thread pool busy, few enough to waste little. */
const LOOKAHEAD = 8;

/**
 * One page of files under `root` in a stable order (sorted names, depth first), starting after
 * `after`. Subtrees wholly before the cursor are skipped without being read, so a page costs about
 * its own size, not the size of the whole tree. The next few sibling folders are listed while the
 * current one is walked (a page of small runs is thousands of small readdirs, not CPU work).
 */
export async function listPage(root: string, after: string[] | undefined, limit: number): Promise<{ files: { rel: string; size: number }[]; more: boolean }> {
  const found: { rel: string[]; abs: string }[] = [];
  let more = false;
  const listings = new Map<string, Promise<Dirent[]>>();
  const list = (dir: string): Promise<Dirent[]> => {
    let p = listings.get(dir);
    if (!p) {
      p = fs
        .readdir(dir, { withFileTypes: true })
        .catch(() => [] as Dirent[])
        .then((ds) => ds.filter((d) => !HIDDEN.test(d.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
      listings.set(dir, p);
    }
    return p;
  };
  const walk = async (rel: string[], bound: string[] | undefined): Promise<boolean> => {
    const dir = path.join(root, ...rel);
    const names = await list(dir);
    listings.delete(dir);
    for (const [i, d] of names.entries()) {
      const head = bound?.[0];
      if (head !== undefined && d.name < head) continue;
      const childBound = head !== undefined && d.name === head ? bound!.slice(1) : undefined;
      if (d.isDirectory()) {
        for (const ahead of names.slice(i + 1, i + 1 + LOOKAHEAD)) if (ahead.isDirectory()) void list(path.join(dir, ahead.name));
        if (!(await walk([...rel, d.name], childBound))) return false;
      } else if (d.isFile()) {
        // The cursor names the last file already listed: skip it itself.
        if (childBound !== undefined && childBound.length === 0) continue;
        if (found.length === limit) {
          more = true;
          return false;
        }
        found.push({ rel: [...rel, d.name], abs: path.join(dir, d.name) });
      }
    }
    return true;
  };
  await walk([], after);
  // Sizes of the page's files in one parallel batch, not one round trip each.
  const sizes = await Promise.all(found.map((f) => fs.lstat(f.abs).then((st) => st.size, () => 0)));
  return { files: found.map((f, i) => ({ rel: f.rel.join('/'), size: sizes[i]! })), more };
}

/**
 * One per MCP session (subscriptions are per session). It listens to routing only while someone
 * listens to it, so a closed session leaves nothing attached to the shared routing service.
 */
export class WorkspaceResources implements ResourceSource {
  private readonly listeners = new Set<(e: SourceEvent) => void>();
  /** Subscribed URIs: a file, or a folder whose new files count as updates to it. */
  private readonly subscribed = new Map<string, string>();
  private detach: (() => void) | undefined;

  constructor(
    private readonly root: string,
    private readonly routing?: Pick<RoutingService, 'onRouted'>,
    private readonly pageSize = PAGE_SIZE,
  ) {}

  onEvent(listener: (e: SourceEvent) => void): () => void {
    this.listeners.add(listener);
    this.detach ??= this.routing?.onRouted((e) => this.routed(e));
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) {
        this.detach?.();
        this.detach = undefined;
      }
    };
  }

  /** Artifacts arrived: hosts re-list, and subscribers of those files or their folders hear. */
  private routed(e: RoutedEvent): void {
    const emit = (ev: SourceEvent): void => this.listeners.forEach((l) => l(ev));
    emit({ kind: 'resources_changed' });
    for (const [uri, file] of this.subscribed) {
      if (e.written.some((w) => isWithin(w, file))) emit({ kind: 'resource_updated', params: { uri } });
    }
  }

  subscribeResource(uri: string): Promise<void> | undefined {
    const file = this.claim(uri);
    if (file === undefined) return undefined;
    this.subscribed.set(uri, file);
    return Promise.resolve();
  }

  unsubscribeResource(uri: string): Promise<void> | undefined {
    if (this.claim(uri) === undefined) return undefined;
    this.subscribed.delete(uri);
    return Promise.resolve();
  }

  async listResources(cursor: string | undefined): Promise<ListResourcesResult> {
    const { files, more } = await listPage(this.root, cursor ? decodeCursor(cursor) : undefined, this.pageSize);
    const resources: Resource[] = files.map((f) => {
      const abs = path.join(this.root, ...f.rel.split('/'));
      return { uri: pathToFileURL(abs).href, name: f.rel, mimeType: mimeOf(abs), size: f.size };
    });
    const last = files[files.length - 1];
    return more && last ? { resources, nextCursor: encodeCursor(last.rel) } : { resources };
  }

  async listResourceTemplates(): Promise<{ resourceTemplates: [] }> {
    return { resourceTemplates: [] };
  }

  /** Undefined for a URI that is not a file under the root, so another source may own it. */
  readResource(uri: string): Promise<ReadResourceResult> | undefined {
    const file = this.claim(uri);
    return file === undefined ? undefined : this.read(uri, file);
  }

  private claim(uri: string): string | undefined {
    if (!uri.startsWith('file:')) return undefined;
    let file: string;
    try {
      // Rejects encoded `/` (%2F) and non-local hosts; `..` segments are resolved by URL parsing.
      file = fileURLToPath(uri);
    } catch {
      return undefined;
    }
    return isWithin(path.resolve(file), this.root) ? path.resolve(file) : undefined;
  }

  private async read(uri: string, file: string): Promise<ReadResourceResult> {
    const notFound = (why: string): McpError => new McpError(ErrorCode.InvalidParams, `resource not readable: ${why}`, { uri });
    // A symlink inside the root may point out of it: the real path must stay inside too.
    const real = await fs.realpath(file).catch(() => undefined);
    if (!real) throw notFound('no such file');
    if (!isWithin(real, this.root)) throw notFound('outside the workspaces root');
    const fh = await fs.open(real, C.O_RDONLY | (C.O_NOFOLLOW ?? 0) | (C.O_NONBLOCK ?? 0)).catch(() => undefined);
    if (!fh) throw notFound('cannot be opened');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw notFound('not a regular file');
      if (st.size > MAX_READ_BYTES) throw notFound(`larger than ${MAX_READ_BYTES} bytes; open ${real} directly`);
      const bytes = await fh.readFile();
      const mimeType = mimeOf(real);
      if (TEXTUAL.test(mimeType)) {
        const text = new TextDecoder('utf-8', { fatal: true });
        try {
          return { contents: [{ uri, mimeType, text: text.decode(bytes) }] };
        } catch {
          // Not UTF-8 after all: fall through to a blob.
        }
      }
      return { contents: [{ uri, mimeType, blob: bytes.toString('base64') }] };
    } finally {
      await fh.close().catch(() => {});
    }
  }
}
