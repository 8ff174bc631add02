// The MCP 2026-07-28 request envelope as the proxy handles it on its way to a server: the host's
// own envelope (`_meta` keys `io.modelcontextprotocol/*`) describes the host to us and is never
// passed on; what a 2026 server hears instead is the host's capabilities, as far as the proxy
// forwards them, and the retry fields of an input_required round.
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import type { CallExtra } from '../server/sources.js';
import { downstreamCapabilities } from './client-wiring.js';

const RESERVED = 'io.modelcontextprotocol/';
const MODERN = '2026-07-28';

/** A `_meta` key of the host's envelope (`io.modelcontextprotocol/…`). */
export const isEnvelopeKey = (k: string): boolean => k.startsWith(RESERVED);

/** A request's `_meta` without the host's envelope. */
export function stripEnvelope(meta: Record<string, unknown> | undefined): Record<string, unknown> & { progressToken?: string | number } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta ?? {})) if (!isEnvelopeKey(k)) out[k] = v;
  return out;
}

/** What a 2026-07-28 server is told of this host, per request: its capabilities, as forwarded. */
export function forwardedEnvelope(extra: CallExtra): Record<string, unknown> {
  return { [CLIENT_CAPABILITIES_META_KEY]: downstreamCapabilities(extra.host.capabilities()) };
}

/** The fields of a retried input_required round, for the server that asked. */
export function retryFields(extra: Pick<CallExtra, 'inputResponses' | 'requestState'>): Record<string, unknown> {
  return {
    ...(extra.inputResponses !== undefined && { inputResponses: extra.inputResponses }),
    ...(extra.requestState !== undefined && { requestState: extra.requestState }),
  };
}

/**
 * A request envelope the SDK would accept without a word (else the SDK path answers it), from a
 * host that takes no requests: a server that asks such a host something is refused either way,
 * while one that asks a host that can answer needs the SDK path, where its questions become
 * input_required rounds (./bridge.ts). The byte lane carries only such calls.
 */
export function laneEnvelope(meta: Record<string, unknown> | undefined): boolean {
  if (!meta || meta[PROTOCOL_VERSION_META_KEY] !== MODERN) return false;
  const info = meta[CLIENT_INFO_META_KEY] as { name?: unknown; version?: unknown } | undefined;
  const caps = meta[CLIENT_CAPABILITIES_META_KEY] as Record<string, unknown> | undefined;
  if (!info || typeof info !== 'object' || typeof info.name !== 'string' || typeof info.version !== 'string') return false;
  if (!caps || typeof caps !== 'object' || Array.isArray(caps)) return false;
  return caps.sampling === undefined && caps.elicitation === undefined && caps.roots === undefined;
}
