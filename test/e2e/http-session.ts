// The built CLI serving Streamable HTTP, and a raw HTTP host for it: bodies and answers as bytes,
// so a test sees exactly what crossed the wire (JSON, or the text of an event stream).
import { spawn } from 'node:child_process';
import { CLI, onCleanup, stopProcess } from '../helpers.js';

/** `serve --transport http --port 0 --config FILE`; resolves with its /mcp URL. */
export async function startHttpCli(config: string, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--transport', 'http', '--port', '0', '--config', config], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  onCleanup(() => stopProcess(child));
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /Streamable HTTP at (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(err)));
  });
  return { url, stderr: () => err };
}

/** An initialized MCP session over raw fetch. */
export async function rawHttpSession(url: string, capabilities: Record<string, unknown> = {}) {
  const init = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'raw', version: '1' } } }),
  });
  const sid = init.headers.get('mcp-session-id')!;
  await init.text();
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
  const post = (body: string | object, extra: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { ...headers, ...extra }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).text();
  return { sid, headers, post };
}

/**
 * The events of an SSE body as a conforming reader dispatches them: CRLF, LF and a lone CR all end
 * a line, and an event whose data is empty (a priming event: an id and `retry`) is not dispatched.
 */
export function sseEvents(text: string): { event?: string; data: string }[] {
  const events: { event?: string; data: string }[] = [];
  let cur: { event?: string; data: string[] } = { data: [] };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (cur.data.join('\n') !== '') events.push({ event: cur.event, data: cur.data.join('\n') });
      cur = { data: [] };
    } else if (line.startsWith('data:')) cur.data.push(line.slice(5).replace(/^ /, ''));
    else if (line.startsWith('event:')) cur.event = line.slice(6).trim();
  }
  if (cur.data.join('\n') !== '') events.push({ event: cur.event, data: cur.data.join('\n') });
  return events;
}
