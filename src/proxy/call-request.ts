// A `tools/call` request exactly as the SDK's schemas accept it, checked without zod: the lane
// (./lane.ts) must carry only what the SDK path would accept, and running the general schema
// machinery on every call was most of what the lane spent on a request (README "Benchmarks").
// The schemas it stands for are `JSONRPCRequestSchema` (strict: jsonrpc, id, method, params) and
// then `CallToolRequestSchema` (params: _meta, task, name, arguments; other keys allowed), from
// @modelcontextprotocol/core. test/proxy/call-request.test.ts holds them equal on generated
// requests: a new SDK that changes a schema fails that test, not a user's call.
import type { RequestId } from '@modelcontextprotocol/server';

const RELATED_TASK = 'io.modelcontextprotocol/related-task';
const TOP = new Set(['jsonrpc', 'id', 'method', 'params']);

export interface CallRequest {
  id: RequestId;
  params: {
    name: string;
    arguments?: Record<string, unknown>;
    _meta?: Record<string, unknown> & { progressToken?: string | number };
    [key: string]: unknown;
  };
}

/** A JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** zod's `z.number().int()`: an integer within the safe range. */
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isIdLike = (v: unknown): boolean => typeof v === 'string' || isInt(v);

/** The message as a tools/call request the SDK would accept, or undefined where it would refuse it. */
export function asCallRequest(msg: unknown): CallRequest | undefined {
  if (!isObject(msg)) return undefined;
  for (const k in msg) if (!TOP.has(k)) return undefined;
  if (msg.jsonrpc !== '2.0' || msg.method !== 'tools/call' || !isIdLike(msg.id)) return undefined;
  const p = msg.params;
  if (!isObject(p) || typeof p.name !== 'string') return undefined;
  if (p.arguments !== undefined && !isObject(p.arguments)) return undefined;
  if (p.task !== undefined && !(isObject(p.task) && (p.task.ttl === undefined || typeof p.task.ttl === 'number'))) return undefined;
  const meta = p._meta;
  if (meta !== undefined) {
    if (!isObject(meta)) return undefined;
    if (meta.progressToken !== undefined && !isIdLike(meta.progressToken)) return undefined;
    const related = meta[RELATED_TASK];
    if (related !== undefined && !(isObject(related) && typeof related.taskId === 'string')) return undefined;
  }
  return msg as unknown as CallRequest;
}
