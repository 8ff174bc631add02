// Everything a downstream offers besides tools, forwarded so the proxy hides nothing: resources
// and resource templates (paged across servers), resource subscriptions, prompts (named like tools:
// a name two servers share becomes `{server}__{prompt}`) and completions. A URI is owned by the
// first server that listed it (or whose template matches it); an unknown URI is tried on each
// server in turn. Results and errors pass through as the downstream gave them.
import { CompleteResultSchema, EmptyResultSchema, GetPromptResultSchema, ListPromptsResultSchema, ListResourcesResultSchema, ListResourceTemplatesResultSchema, ReadResourceResultSchema } from '@modelcontextprotocol/core';
import { UriTemplate, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { withInputRequired } from '@modelcontextprotocol/client';
import { forwardedEnvelope, retryFields } from './envelope.js';
import type { ClientRequest, CompleteRequest, CompleteResult, GetPromptResult, ListPromptsResult, ListResourcesResult, ListResourceTemplatesResult, Prompt, ReadResourceResult } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import type { CallExtra } from '../server/sources.js';
import { pageAcross } from '../server/paging.js';
import type { CompletionSource, PromptSource, ResourceSource } from '../server/sources.js';
import { buildCatalog, type Catalog } from './catalog.js';
import type { Downstream } from './downstream.js';
import { toProtocolError, protocolError } from '../server/errors.js';

type Capability = 'resources' | 'prompts' | 'completions';

export class ExtrasForwarder implements ResourceSource, PromptSource, CompletionSource {
  private readonly uriOwner = new Map<string, Downstream>();
  private readonly templates = new Map<string, { owner: Downstream; template: UriTemplate | undefined }>();
  private prompts: Catalog<Prompt> = { entries: [], byName: new Map(), dropped: [] };
  private promptsListed = false;

  constructor(
    private readonly downstreams: readonly Downstream[],
    private readonly ready: () => Promise<unknown>,
    /** URIs we list ourselves (workspace files, our app view), which an inner artifact-workspace lists too: listed once, by us. */
    private readonly ours: (uri: string) => boolean = () => false,
  ) {}

  async listResources(cursor: string | undefined, extra: CallExtra): Promise<ListResourcesResult> {
    const with_ = await this.having('resources');
    const page = await pageAcross(
      with_.map((d) => async (c: string | undefined) => {
        const res = await ask(d, { method: 'resources/list', params: c ? { cursor: c } : {} }, ListResourcesResultSchema, extra);
        const items = res.resources.filter((r) => !this.ours(r.uri) && this.claim(this.uriOwner, r.uri, d));
        return { items, nextCursor: res.nextCursor };
      }),
      cursor,
    );
    return { resources: page.items, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
  }

  async listResourceTemplates(cursor: string | undefined, extra: CallExtra): Promise<ListResourceTemplatesResult> {
    const with_ = await this.having('resources');
    const page = await pageAcross(
      with_.map((d) => async (c: string | undefined) => {
        const res = await ask(d, { method: 'resources/templates/list', params: c ? { cursor: c } : {} }, ListResourceTemplatesResultSchema, extra);
        const items = res.resourceTemplates.filter((t) => {
          const known = this.templates.get(t.uriTemplate);
          if (known && known.owner !== d) return false;
          if (!known) this.templates.set(t.uriTemplate, { owner: d, template: safeTemplate(t.uriTemplate) });
          return true;
        });
        return { items, nextCursor: res.nextCursor };
      }),
      cursor,
    );
    return { resourceTemplates: page.items, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
  }

  readResource(uri: string, extra: CallExtra): Promise<ReadResourceResult> | undefined {
    return this.onOwner(uri, (d) => ask(d, { method: 'resources/read', params: { uri } }, ReadResourceResultSchema, extra, true));
  }

  subscribeResource(uri: string, extra: CallExtra): Promise<void> | undefined {
    return this.onOwner(
      uri,
      async (d) => {
        if (!d.capabilities?.resources?.subscribe) return;
        if (d.modern) {
          throw protocolError(
            ProtocolErrorCode.MethodNotFound,
            `server "${d.name}" speaks MCP 2026-07-28, which has subscriptions/listen instead of resources/subscribe; the proxy does not bridge the two yet (set its entry's "protocol" to "2025-11-25" if the server speaks that too)`,
          );
        }
        await ask(d, { method: 'resources/subscribe', params: { uri } }, EmptyResultSchema, extra);
      },
      // A URI no server has listed is only tried on servers that take subscriptions.
      (d) => !!d.capabilities?.resources?.subscribe,
    );
  }

  unsubscribeResource(uri: string, extra: CallExtra): Promise<void> | undefined {
    return this.onOwner(uri, async (d) => {
      if (d.capabilities?.resources?.subscribe && !d.modern) await ask(d, { method: 'resources/unsubscribe', params: { uri } }, EmptyResultSchema, extra);
    });
  }

  async listPrompts(_cursor: string | undefined, extra: CallExtra): Promise<ListPromptsResult> {
    const with_ = await this.having('prompts');
    // Renaming needs every server's names at once, so all pages are read and returned as one.
    const lists = await Promise.all(
      with_.map(async (d) => {
        const items: Prompt[] = [];
        let c: string | undefined;
        for (let i = 0; i < 100; i++) {
          const res = await ask(d, { method: 'prompts/list', params: c ? { cursor: c } : {} }, ListPromptsResultSchema, extra);
          items.push(...res.prompts);
          if (!(c = res.nextCursor)) break;
        }
        return { server: d.name, items };
      }),
    );
    this.prompts = buildCatalog(lists, new Set());
    this.promptsListed = true;
    return { prompts: this.prompts.entries.map((e) => e.item) };
  }

  getPrompt(name: string, args: Record<string, string> | undefined, extra: CallExtra): Promise<GetPromptResult> | undefined {
    const entry = this.prompts.byName.get(name);
    const d = entry && this.downstreams.find((x) => x.name === entry.server);
    if (entry && d) return ask(d, { method: 'prompts/get', params: { name: entry.original, ...(args && { arguments: args }) } }, GetPromptResultSchema, extra, true);
    if (this.promptsListed) return undefined;
    // A host may get a prompt it knows from before without listing first: list, then look again.
    return this.listPrompts(undefined, extra).then(() => {
      const again = this.prompts.byName.get(name);
      const server = again && this.downstreams.find((x) => x.name === again.server);
      if (!again || !server) throw protocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
      return ask(server, { method: 'prompts/get', params: { name: again.original, ...(args && { arguments: args }) } }, GetPromptResultSchema, extra, true);
    });
  }

  complete(params: CompleteRequest['params'], extra: CallExtra): Promise<CompleteResult> | undefined {
    const ref = params.ref;
    let d: Downstream | undefined;
    let forwarded = params;
    if (ref.type === 'ref/prompt') {
      const entry = this.prompts.byName.get(ref.name);
      d = entry && this.downstreams.find((x) => x.name === entry.server);
      if (entry) forwarded = { ...params, ref: { ...ref, name: entry.original } };
    } else {
      d = this.templates.get(ref.uri)?.owner ?? this.uriOwner.get(ref.uri);
    }
    if (!d?.capabilities?.completions) return undefined;
    return ask(d, { method: 'completion/complete', params: forwarded }, CompleteResultSchema, extra);
  }

  /** Servers that are up and offer the capability (after the first wait for servers starting). */
  private async having(cap: Capability): Promise<Downstream[]> {
    await this.ready();
    return this.downstreams.filter((d) => d.capabilities?.[cap]);
  }

  private claim(map: Map<string, Downstream>, key: string, d: Downstream): boolean {
    const owner = map.get(key);
    if (owner && owner !== d && owner.capabilities) return false;
    map.set(key, d);
    return true;
  }

  private onOwner<T>(uri: string, run: (d: Downstream) => Promise<T>, may: (d: Downstream) => boolean = () => true): Promise<T> | undefined {
    const known = this.uriOwner.get(uri) ?? [...this.templates.values()].find((t) => t.template?.match(uri))?.owner;
    if (known) return run(known);
    const candidates = this.downstreams.filter((d) => d.capabilities?.resources && may(d));
    if (!candidates.length) return undefined;
    return (async () => {
      let first: unknown;
      for (const d of candidates) {
        try {
          return await run(d);
        } catch (e) {
          first ??= e;
        }
      }
      throw first;
    })();
  }
}

/**
 * One request to a server. Where input_required may answer (`rounds`: reads and prompts), a
 * 2026-07-28 host and server exchange their rounds as they are: the host's retry fields go to the
 * server, and its input_required result back to the host.
 */
async function ask<S extends z.ZodType>(d: Downstream, req: ClientRequest, schema: S, extra: CallExtra, rounds = false): Promise<z.infer<S>> {
  const relay = rounds && extra.modern && d.modern;
  if (relay) {
    const params = req.params as { _meta?: Record<string, unknown> } | undefined;
    // What this host declared, as far as the proxy forwards it (the server checks it per request).
    req = { ...req, params: { ...req.params, _meta: { ...params?._meta, ...forwardedEnvelope(extra) }, ...retryFields(extra) } } as ClientRequest;
  }
  try {
    if (relay) return (await d.request(req, withInputRequired(schema), { caller: extra, allowInputRequired: true })) as z.infer<S>;
    return (await d.request(req, schema, { caller: extra })) as z.infer<S>;
  } catch (e) {
    throw toProtocolError(e);
  }
}

function safeTemplate(t: string): UriTemplate | undefined {
  try {
    return new UriTemplate(t);
  } catch {
    return undefined;
  }
}
