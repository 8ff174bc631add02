// logging/setLevel is per session over Streamable HTTP and is not forwarded to the downstream
// servers (one connection serves every session): each session filters the servers' messages by its
// own level.
import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { LoggingMessageNotification } from '@modelcontextprotocol/client';
import { silentLogger } from '../../src/log.js';
import { createAppServer } from '../../src/server/app.js';
import { startHttpFront } from '../../src/transports/http.js';
import { onCleanup } from '../helpers.js';
import { fixtureEntry, startProxyOnly, waitFor } from './harness.js';

describe('logging levels through the proxy over HTTP', () => {
  it('a session\'s level filters the servers\' messages for that session only', async () => {
    const p = await startProxyOnly({ mcpServers: { ds: fixtureEntry() } });
    const front = await startHttpFront({ host: '127.0.0.1', port: 0, log: silentLogger, createSession: () => ({ server: createAppServer(p.ctx, p.proxy.appOptions()).server }) });
    onCleanup(() => front.close());
    const session = async () => {
      const client = new Client({ name: 'host', version: '1.0.0' });
      const logs: LoggingMessageNotification['params'][] = [];
      client.setNotificationHandler('notifications/message', (n) => void logs.push(n.params));
      onCleanup(() => client.close());
      await client.connect(new StreamableHTTPClientTransport(new URL(front.url)));
      return { client, logs, said: () => logs.map((l) => (l.data as { message: string }).message) };
    };
    const a = await session();
    const b = await session();
    const log = (message: string) => b.client.callTool({ name: 'log', arguments: { message } });

    await log('m1');
    await waitFor(() => a.said().includes('m1') && b.said().includes('m1'), 5000, 'm1 in both sessions');
    await a.client.setLoggingLevel('error');
    await log('m2');
    await waitFor(() => b.said().includes('m2'), 5000, 'm2 in session b');
    await new Promise((r) => setTimeout(r, 200));
    expect(a.said()).toEqual(['m1']);
    expect(b.logs.at(-1)).toEqual({ level: 'warning', logger: 'fixture', data: { message: 'm2' } });
  });
});
