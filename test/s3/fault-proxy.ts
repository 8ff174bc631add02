// An HTTP proxy in front of the S3 engine that answers chosen requests with a fault: 503 SlowDown
// (throttling) or a dropped connection (a failure mid-upload). Everything else passes through
// byte for byte, so signatures stay valid.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from '../helpers.js';

export interface Fault {
  when(req: http.IncomingMessage): boolean;
  times: number;
  answer: 'slowdown' | 'reset';
}

export interface FaultProxy {
  url: string;
  fail(f: Fault): void;
  clear(): void;
  /** Requests answered with a fault so far. */
  readonly failed: number;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  const faults: Fault[] = [];
  let failed = 0;
  const server = http.createServer((req, res) => {
    const f = faults.find((x) => x.times > 0 && x.when(req));
    if (f) {
      f.times--;
      failed++;
      if (f.answer === 'reset') {
        req.socket.destroy();
        return;
      }
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  onCleanup(() => server.closeAllConnections());
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fail: (f) => faults.push(f),
    clear: () => faults.splice(0),
    get failed() {
      return failed;
    },
  };
}
