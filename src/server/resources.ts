// Every file in the workspaces as an MCP resource with a file:// URI (the same URI the proxy's
// resource_link blocks carry). Listing is paged with an opaque cursor and never follows symlinks;
// reads are contained: a URI must resolve, lexically and through symlinks, inside the root.
import mime from 'mime-types';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { ListResourcesResult, ReadResourceResult, Resource } from '@modelcontextprotocol/server';
import { StoreRefusal, type Key, type WorkspaceStore } from '../storage/store.js';
import type { RoutedEvent, RoutingService } from './context.js';
import type { ResourceSource, SourceEvent } from './sources.js';
import { protocolError } from './errors.js';

export const PAGE_SIZE = 500;
export const MAX_READ_BYTES = 64 * 1024 ** 2;
const TEXTUAL = /^(text\/|application\/(json|xml|yaml|x-yaml|javascript|x-ndjson|csv|sql|toml)|.*\+(json|xml)$)/;

/** Opaque cursor: the key of the last resource on the previous page. */
const encodeCursor = (rel: string): string => Buffer.from(rel, 'utf8').toString('base64url');
function decodeCursor(c: string): string[] {
  const rel = Buffer.from(c, 'base64url').toString('utf8');
  if (!rel || rel.includes('\0') || rel.split('/').some((s) => s === '..' || s === '')) throw protocolError(ProtocolErrorCode.InvalidParams, 'invalid cursor');
  return rel.split('/');
}

export function mimeOf(file: string): string {
  return mime.lookup(file) || 'application/octet-stream';
}

/** Listings fetched ahead of the walk: enough to keep the I/O busy, few enough to waste little. */
const LOOKAHEAD = 8;

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const startsWith = (key: Key, prefix: Key): boolean => key.length >= prefix.length && prefix.every((s, i) => key[i] === s);

/**
 * One page of files in the store in a stable order (sorted names, depth first), starting after
 * `after`. Subtrees wholly before the cursor are skipped without being read, so a page costs about
 * its own size, not the size of the whole tree. The next few sibling folders are listed while the
 * current one is walked (a page of small runs is thousands of small listings, not CPU work).
 */
export async function listPage(store: WorkspaceStore, after: string[] | undefined, limit: number): Promise<{ files: { rel: string; size: number }[]; more: boolean }> {
  const found: Key[] = [];
  // A store whose listing carries sizes (an object store's does) is not asked again.
  const sizes: (number | undefined)[] = [];
  let more = false;
  const listings = new Map<string, ReturnType<WorkspaceStore['list']>>();
  const list = (key: Key): ReturnType<WorkspaceStore['list']> => {
    const id = key.join('/');
    let p = listings.get(id);
    if (!p) {
      p = store
        .list(key)
        .catch(() => [])
        .then((es) => es.sort(byName));
      listings.set(id, p);
    }
    return p;
  };
  const walk = async (rel: string[], bound: string[] | undefined): Promise<boolean> => {
    const names = await list(rel);
    listings.delete(rel.join('/'));
    for (const [i, d] of names.entries()) {
      const head = bound?.[0];
      if (head !== undefined && d.name < head) continue;
      const childBound = head !== undefined && d.name === head ? bound!.slice(1) : undefined;
      if (d.kind === 'folder') {
        for (const ahead of names.slice(i + 1, i + 1 + LOOKAHEAD)) if (ahead.kind === 'folder') void list([...rel, ahead.name]);
        if (!(await walk([...rel, d.name], childBound))) return false;
      } else if (d.kind === 'file') {
        // The cursor names the last file already listed: skip it itself.
        if (childBound !== undefined && childBound.length === 0) continue;
        if (found.length === limit) {
          more = true;
          return false;
        }
        found.push([...rel, d.name]);
        sizes.push(d.size);
      }
    }
    return true;
  };
  await walk([], after);
  // Sizes the listings did not give, one batch per folder.
  const groups = new Map<string, { dir: Key; idx: number[] }>();
  found.forEach((k, i) => {
    if (sizes[i] !== undefined) return;
    const id = k.slice(0, -1).join('/');
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { dir: k.slice(0, -1), idx: [] }));
    g.idx.push(i);
  });
  await Promise.all(
    [...groups.values()].map(async (g) => {
      const got = await store.sizes(g.dir, g.idx.map((i) => found[i]![found[i]!.length - 1]!)).catch(() => g.idx.map(() => 0));
      g.idx.forEach((i, j) => (sizes[i] = got[j] ?? 0));
    }),
  );
  return { files: found.map((k, i) => ({ rel: k.join('/'), size: sizes[i] ?? 0 })), more };
}

/**
 * One per MCP session (subscriptions are per session). It listens to routing only while someone
 * listens to it, so a closed session leaves nothing attached to the shared routing service.
 */
export class WorkspaceResources implements ResourceSource {
  private readonly listeners = new Set<(e: SourceEvent) => void>();
  /** Subscribed URIs: a file, or a folder whose new files count as updates to it. */
  private readonly subscribed = new Map<string, Key>();
  private detach: (() => void) | undefined;

  constructor(
    private readonly store: WorkspaceStore,
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
    const written = e.written.map((w) => this.store.keyOf(w)).filter((k): k is Key => k !== undefined);
    for (const [uri, key] of this.subscribed) {
      if (written.some((w) => startsWith(w, key))) emit({ kind: 'resource_updated', params: { uri } });
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
    const { files, more } = await listPage(this.store, cursor ? decodeCursor(cursor) : undefined, this.pageSize);
    const resources: Resource[] = files.map((f) => ({ uri: this.store.uri(f.rel.split('/')), name: f.rel, mimeType: mimeOf(f.rel), size: f.size }));
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

  /** The key a URI names below the root (lexically: no `..`, no encoded `/`), or undefined for another source's URI. */
  private claim(uri: string): Key | undefined {
    return this.store.keyOf(uri);
  }

  private async read(uri: string, key: Key): Promise<ReadResourceResult> {
    const notFound = (why: string): ProtocolError => protocolError(ProtocolErrorCode.InvalidParams, `resource not readable: ${why}`, { uri });
    // `{dataset}/latest/…` reads through the pointer (the one link a reader may take), by its run id.
    if (key[1] === 'latest' && key.length > 2) {
      const id = await this.store.readLatest(key[0]!);
      if (!id) throw notFound('no such file');
      key = [key[0]!, id, ...key.slice(2)];
    }
    let bytes: Buffer;
    try {
      // The store reaches the file from the root one plain folder at a time: a symlink anywhere
      // on the way (or at the end) is refused, never followed, so nothing outside the root is read.
      bytes = await this.store.read(key, MAX_READ_BYTES);
    } catch (e) {
      if (e instanceof StoreRefusal) throw notFound(e.message.includes('larger than') ? `${e.message}; open ${this.store.locate(key)} directly` : e.message);
      const code = (e as NodeJS.ErrnoException).code;
      throw notFound(code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot be opened (${code ?? (e as Error).message})`);
    }
    const mimeType = mimeOf(key[key.length - 1] ?? '');
    if (TEXTUAL.test(mimeType)) {
      const text = new TextDecoder('utf-8', { fatal: true });
      try {
        return { contents: [{ uri, mimeType, text: text.decode(bytes) }] };
      } catch {
        // Not UTF-8 after all: fall through to a blob.
      }
    }
    return { contents: [{ uri, mimeType, blob: bytes.toString('base64') }] };
  }
}
