// `artifact-workspace ui`: the workspace browser on its own (README "Workspace browser"), on
// 127.0.0.1 unless told otherwise; anywhere else only with a token. Reads the workspaces; writes
// nothing.
import http from 'node:http';
import type { Logger } from '../log.js';
import { isLoopback } from '../transports/http-guard.js';
import type { Workspaces } from '../workspace/layout.js';
import { createUi } from '../ui/server.js';

export interface UiCommandOptions {
  host: string;
  port: number;
  token?: string;
  allowedHosts?: string[];
  allowedOrigins?: string[];
}

/** Serves until the process is told to stop; resolves with the exit code. */
export async function uiCommand(ws: Workspaces, o: UiCommandOptions, log: Logger): Promise<number> {
  if (!isLoopback(o.host) && !o.token) {
    log.error(`not serving the workspace browser on ${o.host} without a token: set --token or ARTIFACT_WORKSPACE_TOKEN (anyone who can reach it could read every artifact)`);
    return 2;
  }
  let port = o.port;
  const ui = createUi({ ws, base: '/ui', host: o.host, port: () => port, allowedHosts: o.allowedHosts, allowedOrigins: o.allowedOrigins, token: o.token, log });
  const server = http.createServer((req, res) => {
    if (!ui.handle(req, res)) {
      // The root leads to the browser; anything else is not ours.
      if ((req.url ?? '/') === '/') return void (res.writeHead(302, { location: '/ui/' }), res.end());
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  port = (server.address() as { port: number }).port;
  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  log.info(`workspace browser at http://${shown}:${port}/ui/${o.token ? ' (open it once with ?token=…)' : ''}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  ui.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  return 0;
}
