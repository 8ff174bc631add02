// A host that speaks raw JSON-RPC lines to a child over stdio: what it writes and reads is bytes,
// so a test can send what no SDK client would (CRs, duplicate keys) and see exactly what came back.
import { spawn } from 'node:child_process';
import { onCleanup, stopProcess } from '../helpers.js';

export interface RawSessionOptions {
  env?: NodeJS.ProcessEnv;
  /** Answers the child's requests (roots/list …) by method; unanswered ones get nothing. */
  answer?: Record<string, (params: unknown) => unknown>;
  /** Declared in initialize (or, with `modern`, in each request's envelope: see `envelope`). */
  capabilities?: Record<string, unknown>;
  /** MCP 2026-07-28: no initialize; requests carry `envelope(capabilities)` in their `_meta`. */
  modern?: boolean;
}

/** The `_meta` envelope of a 2026-07-28 request. */
export function envelope(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  };
}

/** Writes raw JSON-RPC lines to a child and collects its stdout lines. */
export async function rawSession(cmd: string[], cwd: string, o: RawSessionOptions = {}) {
  const child = spawn(process.execPath, cmd, { cwd, env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'ignore'] });
  onCleanup(() => stopProcess(child));
  const lines: string[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      lines.push(line);
      buf = buf.slice(i + 1);
      let m: { id?: unknown; method?: string; params?: unknown } = {};
      try {
        m = JSON.parse(line);
      } catch {
        continue; // kept in `lines` for the test to judge
      }
      const handler = m.method !== undefined && m.id !== undefined ? o.answer?.[m.method] : undefined;
      if (handler) child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, result: handler(m.params) })}\n`);
    }
  });
  const sendLine = (s: string) => child.stdin.write(`${s}\n`);
  const send = (o: object) => sendLine(JSON.stringify(o));
  /** The raw answer line to `id`, or undefined after `ms`. */
  const answerLine = async (id: number, ms = 10_000) => {
    for (let t = 0; t < ms; t += 25) {
      const hit = lines.find((l) => {
        try {
          const m = JSON.parse(l);
          return m.id === id && !('method' in m);
        } catch {
          return false;
        }
      });
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 25));
    }
    return undefined;
  };
  const waitId = async (id: number) => (await answerLine(id)) ?? Promise.reject(new Error(`no answer to ${id}`));
  const answer = async (id: number, ms?: number): Promise<any> => {
    const l = await answerLine(id, ms);
    return l === undefined ? undefined : JSON.parse(l);
  };
  /** Every line up to and including the answer to `id`. */
  const upTo = async (id: number) => {
    const a = await waitId(id);
    return lines.slice(0, lines.indexOf(a) + 1);
  };
  if (o.modern) {
    send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: envelope(o.capabilities) } });
    await waitId(1);
  } else {
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: o.capabilities ?? {}, clientInfo: { name: 'raw', version: '1' } } });
    await waitId(1);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }
  return { child, lines, send, sendLine, waitId, answer, upTo };
}

