// A Streamable HTTP downstream (server-everything in streamableHttp mode, a real child process):
// its tools are listed and called through the proxy, with a header expanded from ${VAR}.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { onCleanup } from '../helpers.js';
import { EVERYTHING, startDirect, startProxy, waitFor } from './harness.js';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('Streamable HTTP downstream', () => {
  it.skipIf(!fs.existsSync(EVERYTHING))('lists and calls server-everything over HTTP; results match a direct stdio call', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
    onCleanup(() => child.kill('SIGKILL'));
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    await waitFor(() => err.includes('listening'), 10_000, 'server-everything to listen');

    const h = await startProxy(
      { mcpServers: { remote: { type: 'http', url: `http://127.0.0.1:${port}/mcp`, headers: { 'X-Test': '${AW_TEST_TOKEN}' } } } },
      { env: { ...process.env, AW_TEST_TOKEN: 'tok' } },
    );
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    const direct = await startDirect({ command: process.execPath, args: [EVERYTHING, 'stdio'] });
    expect(await h.call('get-sum', { a: 2, b: 40 })).toEqual(await direct.call('get-sum', { a: 2, b: 40 }));
  });
});
