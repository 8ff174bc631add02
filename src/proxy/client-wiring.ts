// What the SDK Client of one downstream connection declares, listens to and answers. Its
// notifications become DownstreamEvents (re-raised for the hosts by the proxy); its requests to
// us (sampling, elicitation, roots) are forwarded to a host (./host-route.ts).
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type ClientCapabilities,
  type LoggingMessageNotification,
  type ResourceUpdatedNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { askHost, type DownstreamExtra, type HostBoundRequest, type HostRoutes } from './host-route.js';

export interface DownstreamEvents {
  /** The server's tool list is (re)known: it connected, restarted, or said its list changed. */
  toolsChanged(server: string, why: 'connected' | 'restarted' | 'changed'): void;
  listChanged(server: string, what: 'resources' | 'prompts'): void;
  resourceUpdated(server: string, params: ResourceUpdatedNotification['params']): void;
  log(server: string, params: LoggingMessageNotification['params']): void;
}

/**
 * Declared in every downstream initialize: all that the proxy can forward. The hosts are not known
 * yet when a server starts, and in HTTP mode one connection serves every session, so what the
 * host of the moment lacks is refused per request (a JSON-RPC error naming the capability)
 * instead. Not declared: elicitation `applyDefaults` (the host applies defaults, if it declared
 * so) and sampling `context` (deprecated; servers then keep to includeContext "none").
 */
export const CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: { tools: {} },
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

export interface Wiring {
  server: string;
  events: DownstreamEvents;
  routes: HostRoutes;
  /** Backstop for a forwarded request, in ms. */
  timeoutMs: number;
  /** The server said its tool list changed (re-list it on this client). */
  toolsChanged(client: Client): void;
}

export function wireClient(client: Client, w: Wiring): void {
  const { server, events: ev } = w;
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => ev.log(server, n.params));
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => ev.listChanged(server, 'resources'));
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => ev.listChanged(server, 'prompts'));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => ev.resourceUpdated(server, n.params));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => w.toolsChanged(client));

  // The SDK client checks each request against CLIENT_CAPABILITIES and each answer against the
  // method's result schema; both keep unknown fields, so what the host answers arrives unchanged.
  const ask = (req: HostBoundRequest, extra: DownstreamExtra) => askHost(w.routes, req, extra, { server, timeoutMs: w.timeoutMs });
  client.setRequestHandler(CreateMessageRequestSchema, ask);
  client.setRequestHandler(ElicitRequestSchema, ask);
  client.setRequestHandler(ListRootsRequestSchema, ask);
}
