// What a 2025-11-25 Streamable HTTP session keeps of the events it sent, so that a client whose
// SSE stream broke can resume it with Last-Event-ID (and so that the SDK sends the priming event
// and `retry` field that tell a client it may). Bounded: a session keeps its newest events up to a
// count and a byte total; a client that comes back later than that misses the older ones.
import type { EventStore, JSONRPCMessage } from '@modelcontextprotocol/server';

export const MAX_EVENTS = 1000;
export const MAX_EVENT_BYTES = 8 * 1024 ** 2;

interface Kept {
  streamId: string;
  message: JSONRPCMessage;
  bytes: number;
}

export function boundedEventStore(maxEvents = MAX_EVENTS, maxBytes = MAX_EVENT_BYTES): EventStore {
  // Insertion order is event order; ids carry a counter so they never repeat within a session.
  const events = new Map<string, Kept>();
  let bytes = 0;
  let next = 0;
  return {
    async storeEvent(streamId, message) {
      const id = `${streamId}_${++next}`;
      const size = JSON.stringify(message).length;
      events.set(id, { streamId, message, bytes: size });
      bytes += size;
      for (const [old, e] of events) {
        if (events.size <= maxEvents && bytes <= maxBytes) break;
        events.delete(old);
        bytes -= e.bytes;
      }
      return id;
    },
    async getStreamIdForEventId(eventId) {
      return events.get(eventId)?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const from = events.get(lastEventId);
      if (!from) return '';
      let after = false;
      for (const [id, e] of [...events]) {
        if (after && e.streamId === from.streamId) await send(id, e.message);
        if (id === lastEventId) after = true;
      }
      return from.streamId;
    },
  };
}
