// The S3-compatible object store (README "S3 workspaces"): the same layout as a local root, key
// for key, `{prefix}/{dataset}/{run_id}/{subdir}/{file}`, kept correct across many processes on
// many machines with nothing but the store's conditional writes:
// - a folder (a run id) is claimed by creating its marker object `…/` with `If-None-Match: *`;
// - a file name is claimed the same way, by a small claim object under
//   `{prefix}/.artifact-workspace/claims/…`, before its bytes are written; whoever holds the claim
//   is the only writer of that key, so nothing is ever overwritten, and a name taken by the same
//   content (sha256 in the object's metadata) is that file, stored once;
// - `latest` only moves forward, by compare-and-swap on its ETag.
// Bytes are read once: streamed from the source through SHA-256 into the upload, multipart above a
// threshold with parts in flight in parallel and bounded memory (./s3-upload.ts). An upload that
// fails is aborted; one a killed process left is aborted by the sweep (its lease names the writer).
import { createHash, randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand,
  ListObjectsV2Command, PutObjectCommand, type S3Client, type _Object,
} from '@aws-sdk/client-s3';
import { openSource, toReadable } from './local-io.js';
import { removeSource } from './local-source.js';
import { DestNames } from './local-tree.js';
import { sanitiseName, variantName } from './names.js';
import { endpointOf, isNotFound, isPreconditionFailed, makeClient, parseS3Root, s3Reason, type S3ClientOptions, type S3Location } from './s3-client.js';
import { uploadHashed, type UploadTarget } from './s3-upload.js';
import {
  checkKey, DEFAULT_MAX_BYTES, sizeCapReason, StoreRefusal, treeDigest, validSegment,
  type ByteSource, type Entry, type FolderCounts, type Key, type PutOptions, type PutResult, type RunShape, type SweepReport, type TreeResult, type TreeSource, type WorkspaceStore,
} from './store.js';

export interface S3StoreOptions extends S3ClientOptions {
  maxBytes?: number;
  /** Check the bucket when opening (default true); a failure is an error naming its cause. */
  probe?: boolean;
  /** Multipart above this size, in parts of at least this size (default 8 MiB; S3's minimum is 5 MiB). */
  partBytes?: number;
  /** Parts in flight per upload (default 4): memory is about (queue + 1) × part size. */
  queue?: number;
  /** A client made elsewhere (tests). */
  client?: S3Client;
}

/** How many `name_N` variants are tried before giving up on a name. */
const MAX_VARIANTS = 10_000;
/** Our bookkeeping below the prefix: name claims and upload leases. Hidden from every listing. */
export const META_DIR = '.artifact-workspace';
const LATEST = 'latest';

/** Metadata keys on every object we store (x-amz-meta-…). */
const META_SHA = 'sha256';

export class S3Store implements WorkspaceStore {
  readonly root: string;
  readonly maxBytes: number;
  readonly identity: string;
  private readonly host = os.hostname();
  private readonly part: number;
  private readonly queue: number;
  /** `If-Match` with the ETag as the store sent it (quoted), or bare: some engines take only one form. */
  private ifMatchBare = true;

  private constructor(
    readonly client: S3Client,
    private readonly loc: S3Location,
    private readonly endpoint: string | undefined,
    opts: S3StoreOptions,
  ) {
    this.root = `s3://${loc.bucket}${loc.prefix.length ? `/${loc.prefix.join('/')}` : ''}`;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.part = Math.max(5 * 1024 ** 2, opts.partBytes ?? 8 * 1024 ** 2);
    this.queue = Math.max(1, opts.queue ?? 4);
    // One bucket and prefix at one endpoint is one root, whichever machine looks at it.
    this.identity = createHash('sha256').update(`s3\0${this.endpoint ?? 'aws'}\0${this.root}`).digest('hex');
  }

  static async open(root: string, opts: S3StoreOptions = {}): Promise<S3Store> {
    const loc = parseS3Root(root);
    const env = opts.env ?? process.env;
    const store = new S3Store(opts.client ?? makeClient(opts), loc, endpointOf(env), opts);
    if (opts.probe !== false) {
      try {
        await store.client.send(new HeadBucketCommand({ Bucket: loc.bucket }));
      } catch (e) {
        // HeadBucket has no body: a missing bucket is a bare 404.
        throw isNotFound(e) ? new StoreRefusal(`S3 bucket "${loc.bucket}" does not exist at ${store.endpoint ?? 'AWS S3'}: create it, or fix the workspaces root`) : store.reason(e);
      }
      await store.probeConditionalWrites();
    }
    return store;
  }

  /**
   * Every rule of this store rests on `If-None-Match: *` being honoured. An engine that ignores it
   * (older S3-compatible stores, test doubles) would let writers overwrite each other: refused.
   */
  private async probeConditionalWrites(): Promise<void> {
    const key = [...this.loc.prefix, META_DIR, 'probe', `${this.host}-${process.pid}-${randomUUID()}`].join('/');
    try {
      if (!(await this.createIfAbsent(key, Buffer.from('1')))) throw new StoreRefusal(`S3 at ${this.endpoint ?? 'AWS S3'}: could not create a probe object in bucket "${this.loc.bucket}"`);
      if (await this.createIfAbsent(key, Buffer.from('2')))
        throw new StoreRefusal(`S3 at ${this.endpoint ?? 'AWS S3'} ignores conditional writes (If-None-Match: *): run ids and names could collide between writers, so this engine cannot hold workspaces`);
    } finally {
      await this.deleteQuiet(key);
    }
  }

  // ---- names ----

  locate(key: Key): string {
    return key.length ? `${this.root}/${key.join('/')}` : this.root;
  }

  uri(key: Key): string {
    return this.locate(key);
  }

  keyOf(locationOrUri: string): Key | undefined {
    const base = `${this.root}/`;
    if (!locationOrUri.startsWith(base)) return undefined;
    const segs = locationOrUri.slice(base.length).split('/');
    if (segs.length && segs[segs.length - 1] === '') segs.pop();
    return segs.length && segs.every(validSegment) && !segs.some((s) => s.startsWith('.')) ? segs : undefined;
  }

  private obj(key: Key): string {
    return [...this.loc.prefix, ...key].join('/');
  }

  private dirPrefix(key: Key): string {
    const k = this.obj(key);
    return k === '' ? '' : `${k}/`;
  }

  private claimKey(key: Key): string {
    return [...this.loc.prefix, META_DIR, 'claims', ...key].join('/');
  }

  private leaseKey(uploadId: string): string {
    return [...this.loc.prefix, META_DIR, 'uploads', Buffer.from(uploadId).toString('base64url')].join('/');
  }

  private reason(e: unknown): StoreRefusal {
    return s3Reason(e, { bucket: this.loc.bucket, endpoint: this.endpoint });
  }

  /** Runs one S3 call; its failure becomes a reason a person can act on. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.reason(e);
    }
  }

  // ---- folders ----

  async createFolder(key: Key): Promise<boolean> {
    checkKey(key);
    return this.createIfAbsent(`${this.obj(key)}/`, Buffer.alloc(0), randomUUID());
  }

  async ensureFolder(key: Key): Promise<void> {
    checkKey(key);
    // Folders are implicit in S3; the marker makes an empty one visible (a run's empty subfolders).
    await this.call(() => this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: `${this.obj(key)}/`, Body: Buffer.alloc(0) })));
  }

  async stat(key: Key): Promise<Entry | undefined> {
    checkKey(key);
    const name = key[key.length - 1] ?? '';
    const head = await this.head(this.obj(key));
    if (head) return { name, kind: 'file', size: head.size, mtimeMs: head.mtimeMs };
    const page = await this.call(() => this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: this.dirPrefix(key), MaxKeys: 1 })));
    return page.KeyCount ? { name, kind: 'folder' } : undefined;
  }

  async list(key: Key): Promise<Entry[]> {
    if (key.length) checkKey(key);
    const prefix = this.dirPrefix(key);
    const out: Entry[] = [];
    for await (const page of this.pages(prefix, '/')) {
      for (const o of page.contents) {
        const name = o.Key!.slice(prefix.length);
        if (name === '' || name.startsWith('.')) continue;
        out.push({ name, kind: 'file', size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() });
      }
      for (const p of page.prefixes) {
        const name = p.slice(prefix.length, -1);
        if (name !== '' && !name.startsWith('.')) out.push({ name, kind: 'folder' });
      }
    }
    return out;
  }

  async sizes(dir: Key, names: readonly string[]): Promise<number[]> {
    const got = new Map((await this.list(dir)).filter((e) => e.kind === 'file').map((e) => [e.name, e.size ?? 0]));
    return names.map((n) => got.get(n) ?? 0);
  }

  // ---- writes ----

  async putFile(src: string | Buffer, dir: Key, name: string, opts: PutOptions = {}): Promise<PutResult> {
    checkKey(dir);
    const max = opts.maxBytes ?? this.maxBytes;
    const { fh, st } = await openSource(src, opts.expect, opts.admit, opts.admitHead);
    let res: PutResult;
    try {
      if (st.size > max) throw new StoreRefusal(sizeCapReason(max));
      res = await this.store(dir, sanitiseName(name), { fh, size: st.size }, max, opts.onBytes);
    } finally {
      await fh.close().catch(() => undefined);
    }
    if (opts.mode === 'move') {
      // The bytes are stored (every part acknowledged, the upload completed): the source may go.
      const kept = await removeSource(src, st, opts.admit);
      if (kept) res.sourceKept = kept;
    }
    return res;
  }

  async putBytes(data: ByteSource, dir: Key, name: string, opts: Pick<PutOptions, 'maxBytes'> = {}): Promise<PutResult> {
    checkKey(dir);
    const max = opts.maxBytes ?? this.maxBytes;
    return this.store(dir, sanitiseName(name), { stream: toReadable(data) }, max);
  }

  async putTree(tree: TreeSource, dir: Key, name: string, opts: PutOptions = {}): Promise<TreeResult> {
    checkKey(dir);
    const max = opts.maxBytes ?? this.maxBytes;
    if (tree.bytes > max) throw new StoreRefusal(sizeCapReason(max));
    const safe = sanitiseName(name);
    // The folder's name is claimed like a file's; its members are written below it by the claim's holder.
    const folder = await this.claimFree(dir, safe);

    const base = [...dir, folder];
    const lines: { rel: string; sha256: string }[] = [];
    let bytes = 0;
    try {
      await this.ensureFolder(base);
      // Two raw names can sanitise alike (`a:b`, `a?b`): each member gets its own name.
      const names = new DestNames();
      for (const d of tree.dirs) await this.ensureFolder([...base, ...names.map(d.rel)]);
      for (const f of tree.files) {
        const rel = names.map(f.rel);
        const { fh, st } = await openSource(f.src, { dev: f.dev, ino: f.ino }, opts.admit, opts.admitHead);
        try {
          const target = { bucket: this.loc.bucket, key: this.obj([...base, ...rel]) };
          const d = await uploadHashed(this.client, target, { fh, size: st.size }, { partBytes: this.part, queue: this.queue, maxBytes: max - bytes, lease: (id) => this.lease(id, target.key), reason: (e) => this.reason(e) });
          if (d.landed === false) throw new StoreRefusal(`${rel.join('/')}: not stored`);
          bytes += d.bytes;
          lines.push({ rel: rel.join('/'), sha256: d.sha256 });
          opts.onBytes?.(bytes);
        } finally {
          await fh.close().catch(() => undefined);
        }
      }
    } catch (e) {
      // Nothing half-made stays: the members stored so far go, and only then is the name free again.
      const removed = await this.removeTree(base).then(
        () => true,
        () => false,
      );
      if (removed) await this.deleteQuiet(this.claimKey(base));
      throw e;
    }
    const key = base;
    const res: TreeResult = { dst: this.locate(key), key, bytes, files: lines.length, sha256: treeDigest(lines), deduplicated: false };
    if (opts.mode === 'move') {
      for (const f of tree.files) {
        const kept = await removeSource(f.entry, { dev: f.dev, ino: f.ino, size: f.size }, opts.admit, true);
        if (kept) res.sourceKept ??= kept;
      }
    }
    return res;
  }

  async writeJsonExclusive(dir: Key, baseName: string, obj: unknown): Promise<Key> {
    checkKey(dir);
    const body = Buffer.from(`${JSON.stringify(obj, null, 2)}\n`, 'utf8');
    const sha256 = createHash('sha256').update(body).digest('hex');
    for (let n = 0; n < MAX_VARIANTS; n++) {
      const name = `${baseName}${n === 0 ? '' : `_${n}`}.json`;
      const token = await this.claim([...dir, name]);
      if (!token) continue;
      // Conditional too: a late write of an earlier holder of the name can never be overwritten.
      if (await this.createIfAbsent(this.obj([...dir, name]), body, token, { [META_SHA]: sha256 }, 'application/json')) return [...dir, name];
    }
    throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${baseName}`);
  }

  /**
   * Stores one file's bytes under the first free variant of `name`, or finds the same bytes
   * already under one: the first name whose claim this writer wins is written (streamed, hashed);
   * if an earlier, taken variant turns out to hold the same bytes, nothing becomes visible, the
   * claim is given back, and that variant is the file.
   */
  private async store(dir: Key, name: string, src: { fh?: import('node:fs/promises').FileHandle; size?: number; stream?: Readable }, max: number, onBytes?: (n: number) => void): Promise<PutResult> {
    const taken: string[] = [];
    let chosen: string | undefined;
    let token: string | undefined;
    for (let n = 0; n < MAX_VARIANTS && !chosen; n++) {
      const v = variantName(name, n);
      token = await this.claim([...dir, v]);
      if (token) chosen = v;
      else taken.push(v);
    }
    if (!chosen || !token) throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${name}`);
    const key = [...dir, chosen];
    const target: UploadTarget = { bucket: this.loc.bucket, key: this.obj(key), token };
    let d;
    try {
      d = await uploadHashed(this.client, target, src.stream ? { stream: src.stream } : { fh: src.fh!, size: src.size! }, {
        partBytes: this.part,
        queue: this.queue,
        maxBytes: max,
        onBytes,
        lease: (id) => this.lease(id, target.key, token!),
        reason: (e) => this.reason(e),
        // Before the object becomes visible: the same bytes under an earlier variant are that file.
        beforeComplete: async (digest) => {
          for (const t of taken) if ((await this.head(this.obj([...dir, t])))?.sha256 === digest.sha256) return t;
          return undefined;
        },
      });
    } catch (e) {
      // The name is given back only when nothing of this write can still land under it.
      if ((e as { settled?: boolean }).settled) await this.deleteQuiet(this.claimKey(key));
      throw e;
    }
    if (d.landed === false) throw new StoreRefusal(`${this.locate(key)} was written meanwhile by another writer; nothing was stored`);
    if (d.same !== undefined) {
      await this.deleteQuiet(this.claimKey(key));
      const k = [...dir, d.same];
      return { dst: this.locate(k), key: k, bytes: d.bytes, sha256: d.sha256, deduplicated: true };
    }
    return { dst: this.locate(key), key, bytes: d.bytes, sha256: d.sha256, deduplicated: false };
  }

  /** Takes the first free variant of `name` in `dir` (folders). */
  private async claimFree(dir: Key, name: string): Promise<string> {
    for (let n = 0; n < MAX_VARIANTS; n++) {
      const v = variantName(name, n);
      if (await this.claim([...dir, v])) return v;
    }
    throw new StoreRefusal(`more than ${MAX_VARIANTS} files named ${name}`);
  }


  /**
   * Claims the name `key` for this writer: true when the claim object was created here and no
   * object has the name yet. A name is claimed once, ever; its holder is its only writer.
   */
  private async claim(key: Key): Promise<string | undefined> {
    const token = randomUUID();
    const body = Buffer.from(JSON.stringify({ host: this.host, pid: process.pid, at: new Date().toISOString() }));
    if (!(await this.createIfAbsent(this.claimKey(key), body, token))) return undefined;
    // A name stored before claims existed, or by a writer that does not claim: never overwritten.
    if (await this.head(this.obj(key))) return undefined;
    return token;
  }

  /**
   * Creates `objKey` only if nothing has that key: true when this call made it. The object carries
   * `token`, so a create whose answer was lost (the SDK's retry then meets our own object, 412),
   * or that some engines answer with a 500 when writers race, is told apart from a lost race.
   */
  private async createIfAbsent(objKey: string, body: Buffer, token: string = randomUUID(), meta: Record<string, string> = {}, contentType?: string): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: objKey, Body: body, IfNoneMatch: '*', Metadata: { ...meta, token }, ...(contentType && { ContentType: contentType }) }));
      return true;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (!isPreconditionFailed(e) && status !== 500) throw this.reason(e);
      const there = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: objKey })).catch(() => undefined);
      if (there) return there.Metadata?.token === token;
      if (status === 500) throw this.reason(e);
      return false;
    }
  }

  /** Who is uploading, and which claim it holds: the sweep aborts uploads whose writer is gone. */
  private async lease(uploadId: string, objKey: string, claimToken?: string): Promise<() => Promise<void>> {
    const key = this.leaseKey(uploadId);
    const body = JSON.stringify({ host: this.host, pidns: PID_NS, pid: process.pid, key: objKey, uploadId, claimToken, at: new Date().toISOString() });
    await this.call(() => this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: key, Body: body })));
    return () => this.deleteQuiet(key);
  }

  // ---- reads ----

  private async head(objKey: string): Promise<{ size: number; mtimeMs?: number; sha256?: string; etag?: string } | undefined> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: objKey }));
      return { size: h.ContentLength ?? 0, mtimeMs: h.LastModified?.getTime(), sha256: h.Metadata?.[META_SHA], etag: h.ETag };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.reason(e);
    }
  }

  async read(key: Key, maxBytes: number): Promise<Buffer> {
    checkKey(key);
    const h = await this.head(this.obj(key));
    if (!h) throw new StoreRefusal(`no file ${this.locate(key)}`);
    if (h.size > maxBytes) throw new StoreRefusal(`larger than ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let n = 0;
    const body = await this.open(key);
    for await (const c of body) {
      n += c.length;
      if (n > maxBytes) {
        body.destroy();
        throw new StoreRefusal(`larger than ${maxBytes} bytes`);
      }
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** The object's bytes as a stream (resources/read of a large object, verify). */
  async open(key: Key): Promise<Readable> {
    checkKey(key);
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.obj(key) }));
      return got.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) throw new StoreRefusal(`no file ${this.locate(key)}`);
      throw this.reason(e);
    }
  }

  async digest(key: Key, onBytes?: (done: number) => void): Promise<{ kind: 'file' | 'folder'; bytes: number; sha256: string; files?: number }> {
    checkKey(key);
    if (await this.head(this.obj(key))) return { kind: 'file', ...(await this.hashObject(key, onBytes)) };
    const prefix = this.dirPrefix(key);
    const lines: { rel: string; sha256: string }[] = [];
    let bytes = 0;
    for await (const page of this.pages(prefix)) {
      for (const o of page.contents) {
        const rel = o.Key!.slice(prefix.length);
        if (rel === '' || rel.endsWith('/') || rel.split('/').some((s) => s.startsWith('.'))) continue;
        const h = await this.hashObject([...key, ...rel.split('/')]);
        bytes += h.bytes;
        lines.push({ rel, sha256: h.sha256 });
        onBytes?.(bytes);
      }
    }
    if (!lines.length && !(await this.stat(key))) throw new StoreRefusal(`no file ${this.locate(key)}`);
    return { kind: 'folder', bytes, sha256: treeDigest(lines), files: lines.length };
  }

  private async hashObject(key: Key, onBytes?: (done: number) => void): Promise<{ bytes: number; sha256: string }> {
    const h = createHash('sha256');
    let bytes = 0;
    try {
      for await (const c of await this.open(key)) {
        h.update(c as Buffer);
        bytes += (c as Buffer).length;
        onBytes?.(bytes);
      }
    } catch (e) {
      throw this.reason(e);
    }
    return { bytes, sha256: h.digest('hex') };
  }

  async removeTree(key: Key): Promise<void> {
    if (checkKey(key).length === 0) throw new StoreRefusal('refusing to remove the workspaces root');
    // The objects, the folder's own marker, and the claims of its names.
    for (const prefix of [this.dirPrefix(key), `${this.claimKey(key)}/`]) {
      const batch: string[] = [];
      for await (const page of this.pages(prefix)) {
        batch.push(...page.contents.map((o) => o.Key!));
        while (batch.length >= 1000) await this.deleteMany(batch.splice(0, 1000));
      }
      if (batch.length) await this.deleteMany(batch);
    }
    await this.deleteQuiet(this.claimKey(key));
  }

  private async deleteMany(keys: string[]): Promise<void> {
    const res = await this.call(() => this.client.send(new DeleteObjectsCommand({ Bucket: this.loc.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })));
    if (res.Errors?.length) throw new StoreRefusal(`S3 could not delete ${res.Errors.length} objects (${res.Errors[0]?.Code ?? '?'}: ${res.Errors[0]?.Key ?? ''})`);
  }

  private async deleteQuiet(objKey: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: objKey })).catch(() => undefined);
  }

  // ---- latest ----

  async readLatest(dataset: string): Promise<string | undefined> {
    return (await this.readLatestTagged(dataset))?.runId || undefined;
  }

  private async readLatestTagged(dataset: string): Promise<{ runId: string; etag: string } | undefined> {
    checkKey([dataset]);
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.obj([dataset, LATEST]) }));
      if ((got.ContentLength ?? 0) > 256) {
        // Not ours to read: its connection goes back to the pool now, not at the socket timeout.
        (got.Body as Readable | undefined)?.destroy();
        return { runId: '', etag: got.ETag ?? '' };
      }
      const runId = (await got.Body!.transformToString()).trim();
      return { runId, etag: got.ETag ?? '' };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.reason(e);
    }
  }

  /**
   * Moves `{dataset}/latest` to `runId` only forward (by `order`, when given): compare-and-swap on
   * the ETag read, retried when another writer moved it meanwhile.
   */
  async writeLatest(dataset: string, runId: string, order?: (a: string, b: string) => number): Promise<void> {
    if (!validSegment(runId)) throw new StoreRefusal(`not a run id: ${JSON.stringify(runId)}`);
    const Key = this.obj([dataset, LATEST]);
    for (let i = 0; i < 20; i++) {
      const now = await this.readLatestTagged(dataset);
      if (now && (now.runId === runId || (order && order(now.runId, runId) >= 0))) return;
      const bare = this.ifMatchBare;
      try {
        const cond = now ? { IfMatch: bare ? now.etag.replace(/"/g, '') : now.etag } : { IfNoneMatch: '*' };
        await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key, Body: `${runId}\n`, ContentType: 'text/plain', ...cond }));
        if (now) this.ifMatchBare = bare;
        return;
      } catch (e) {
        if (!isPreconditionFailed(e)) throw this.reason(e);
        // Lost the swap, or this engine wants the other ETag form: look again; the same ETag means
        // the form was refused, so the next try uses the other one.
        const again = await this.readLatestTagged(dataset);
        if (now && again && again.etag === now.etag) this.ifMatchBare = !bare;
      }
    }
    throw new StoreRefusal(`${this.locate([dataset, LATEST])} kept changing; not moved to ${runId}`);
  }

  // ---- counts ----

  async runCounts(run: Key, shape: RunShape): Promise<FolderCounts> {
    checkKey(run);
    const prefix = this.dirPrefix(run);
    const counts: Record<string, number> = Object.fromEntries(shape.subfolders.map((s) => [s, 0]));
    let bytes = 0;
    const newest: string[] = [];
    for await (const page of this.pages(prefix)) {
      for (const o of page.contents) {
        const rel = o.Key!.slice(prefix.length).split('/');
        const [sub, ...rest] = rel;
        if (!sub || !rest.length || rest[rest.length - 1] === '' || rel.some((s) => s.startsWith('.'))) continue;
        if (!(sub in counts)) continue;
        counts[sub]!++;
        bytes += o.Size ?? 0;
        if (sub === shape.newest.folder && rest.length === 1) newest.push(rest[0]!);
      }
    }
    return { counts, bytes, newest: { names: shape.newest.order(newest), complete: true } };
  }

  async forgetRun(): Promise<void> {
    // Nothing cached: every count is listed from the store.
  }

  /**
   * Aborts the multipart uploads writers left behind: those whose lease names a process of this
   * machine that is gone, and any older than `maxAgeMs` (default a day) whoever made them; drops
   * their leases and the name claims they held. A bucket lifecycle rule
   * (AbortIncompleteMultipartUpload) does the same for machines that never start again.
   */
  async sweepTemps(opts: { maxAgeMs?: number; maxDirs?: number; isAlive?: (pid: number) => boolean } = {}): Promise<SweepReport> {
    const maxAge = opts.maxAgeMs ?? 24 * 3600 * 1000;
    const isAlive = opts.isAlive ?? pidAlive;
    const report: SweepReport = { removed: [], kept: 0, dirs: 0, truncated: false, errors: 0 };
    const prefix = this.loc.prefix.length ? `${this.loc.prefix.join('/')}/` : '';
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await this.call(() => this.client.send(new ListMultipartUploadsCommand({ Bucket: this.loc.bucket, Prefix: prefix, KeyMarker, UploadIdMarker })));
      report.dirs++;
      for (const u of res.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        // Only uploads of ours (they carry a lease); anything else under the prefix is left alone.
        const lease = await this.readJson(this.leaseKey(u.UploadId));
        if (!lease || lease.uploadId !== u.UploadId) continue;
        const age = Date.now() - (u.Initiated?.getTime() ?? 0);
        // A writer is known gone only on this machine and in this pid namespace (containers that
        // share a host name have their own); elsewhere only age says so.
        const gone = lease.host === this.host && lease.pidns === PID_NS && typeof lease.pid === 'number' && !isAlive(lease.pid);
        if (!gone && age < maxAge) {
          report.kept++;
          continue;
        }
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.loc.bucket, Key: u.Key, UploadId: u.UploadId }));
          await this.deleteQuiet(this.leaseKey(u.UploadId));
          // The claim of a name that never got its object is given back: only the claim this
          // upload held (its token), never one a later writer took.
          const wkey = this.keyOfObject(u.Key);
          if (wkey && !(await this.head(u.Key)) && typeof lease.claimToken === 'string') {
            const claim = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.claimKey(wkey) })).catch(() => undefined);
            if (claim?.Metadata?.token === lease.claimToken) await this.deleteQuiet(this.claimKey(wkey));
          }
          report.removed.push(`${this.root}/${u.Key.slice(prefix.length)} (upload ${u.UploadId})`);
        } catch {
          report.errors++;
        }
      }
      if (!res.IsTruncated) break;
      KeyMarker = res.NextKeyMarker;
      UploadIdMarker = res.NextUploadIdMarker;
      if (page === 99) report.truncated = true;
    }
    return report;
  }

  private keyOfObject(objKey: string): Key | undefined {
    const p = this.loc.prefix.length ? `${this.loc.prefix.join('/')}/` : '';
    if (!objKey.startsWith(p)) return undefined;
    const segs = objKey.slice(p.length).split('/');
    return segs.every(validSegment) ? segs : undefined;
  }

  private async readJson(objKey: string): Promise<Record<string, unknown> | undefined> {
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: objKey }));
      if ((got.ContentLength ?? 0) > 64 * 1024) {
        (got.Body as Readable | undefined)?.destroy();
        return undefined;
      }
      const v = JSON.parse(await got.Body!.transformToString()) as unknown;
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Pages of a listing below `prefix` (with `delimiter`: one level, folders as prefixes). */
  private async *pages(prefix: string, delimiter?: string): AsyncGenerator<{ contents: _Object[]; prefixes: string[] }> {
    let token: string | undefined;
    do {
      const res = await this.call(() => this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token })));
      yield { contents: res.Contents ?? [], prefixes: (res.CommonPrefixes ?? []).map((p) => p.Prefix!).filter(Boolean) };
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** This process's pid namespace: pids compare only within one. */
const PID_NS = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
})();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

