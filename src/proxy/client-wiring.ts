// What the SDK Client of one downstream connection declares, listens to and answers. Its
// notifications become DownstreamEvents (re-raised for the hosts by the proxy); its requests to
// us (sampling, elicitation, roots) are forwarded to a host (./host-route.ts).
import type { Client, ClientCapabilities, CreateMessageResult, ElicitResult, ListRootsResult, LoggingMessageNotification, ResourceUpdatedNotification } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { askHost, type DownstreamExtra, type HostBoundRequest, type HostRoutes } from './host-route.js';

export interface DownstreamEvents {
  /** The server's tool list is (re)known: it connected, restarted, or said its list changed. */
  toolsChanged(server: string, why: 'connected' | 'restarted' | 'changed'): void;
  listChanged(server: string, what: 'resources' | 'prompts'): void;
  resourceUpdated(server: string, params: ResourceUpdatedNotification['params']): void;
  log(server: string, params: LoggingMessageNotification['params']): void;
  /** A task of the server's changed status (`notifications/tasks/status`, 2025-11-25). */
  taskStatus?(server: string, params: Record<string, unknown>): void;
  /** The connection ended (exit, crash, network): its tasks are gone with it. */
  lost?(server: string): void;
}

/**
 * What the proxy can forward of a host's capabilities: sampling (with tools), elicitation (form
 * and URL), roots (with list changes). Not forwarded: elicitation `applyDefaults` (the host
 * applies defaults, if it declared so) and sampling `context` (deprecated; servers then keep to
 * includeContext "none").
 */
export const FORWARDABLE: ClientCapabilities = {
  sampling: { tools: {} },
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

/**
 * What a downstream is told in its initialize: what the host declared, as far as the proxy can
 * forward it, and nothing more. A server decides what to offer from these (server-everything
 * lists `trigger-sampling-request` only to a client that can sample), so a host that declared no
 * sampling must not see tools that exist only because the proxy declared it. The downstreams
 * start when the first host session is ready and see its capabilities; in HTTP mode a later
 * session that lacks one is refused per request (a JSON-RPC error naming the capability).
 */
export function downstreamCapabilities(host: ClientCapabilities | undefined): ClientCapabilities {
  const caps: ClientCapabilities = {};
  if (host?.sampling) caps.sampling = host.sampling.tools ? { tools: {} } : {};
  if (host?.elicitation) {
    const e = host.elicitation as { form?: object; url?: object };
    // An empty `elicitation: {}` means form mode (the revision that added modes says so).
    const form = !!e.form || (!e.form && !e.url);
    caps.elicitation = { ...(form && { form: {} }), ...(e.url && { url: {} }) };
  }
  if (host?.roots) caps.roots = { listChanged: true };
  return caps;
}

export interface Wiring {
  server: string;
  events: DownstreamEvents;
  routes: HostRoutes;
  /** Backstop for a forwarded request, in ms. */
  timeoutMs: number;
  /** The server said its tool list changed (re-list it on this client). */
  toolsChanged(client: Client): void;
}

export function wireClient(client: Client, w: Wiring, capabilities: ClientCapabilities): void {
  const { server, events: ev } = w;
  client.setNotificationHandler('notifications/message', (n) => ev.log(server, n.params));
  client.setNotificationHandler('notifications/resources/list_changed', () => ev.listChanged(server, 'resources'));
  client.setNotificationHandler('notifications/prompts/list_changed', () => ev.listChanged(server, 'prompts'));
  client.setNotificationHandler('notifications/resources/updated', (n) => ev.resourceUpdated(server, n.params));
  client.setNotificationHandler('notifications/tools/list_changed', () => w.toolsChanged(client));
  client.setNotificationHandler('notifications/tasks/status', { params: z.looseObject({ taskId: z.string() }) }, (p) => ev.taskStatus?.(server, p));

  // The SDK client checks each request against CLIENT_CAPABILITIES and each answer against the
  // method's result schema; both keep unknown fields, so what the host answers arrives unchanged.
  // Only what was declared: a server is never asked to trust a capability the host lacks (the SDK
  // refuses a handler for an undeclared one, and a server that asks anyway gets Method not found).
  const ask = (req: HostBoundRequest, extra: DownstreamExtra) => askHost(w.routes, req, extra, { server, timeoutMs: w.timeoutMs });
  // The host's answer crosses as it came (the SDK checks it against the method's result schema).
  if (capabilities.sampling) client.setRequestHandler('sampling/createMessage', (req, c) => ask(req, c) as Promise<CreateMessageResult>);
  if (capabilities.elicitation) client.setRequestHandler('elicitation/create', (req, c) => ask(req, c) as Promise<ElicitResult>);
  if (capabilities.roots) client.setRequestHandler('roots/list', (req, c) => ask(req, c) as Promise<ListRootsResult>);
}
