#!/usr/bin/env node
// The floor for an HTTP front: a Node HTTP server that hands each POSTed JSON-RPC message to a
// stdio server as one line and answers with the server's line of the same id (a notification or
// a response gets 202), parsing only the id. No sessions, no validation, no SDK: no HTTP front
// that keeps its promises can add less. Prints "http relay at URL" on stderr.
// Usage: node bench/http-relay.mjs COMMAND [ARGS…]
import { spawn } from 'node:child_process';
import http from 'node:http';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const waiting = new Map();
let rest = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (d) => {
  rest += d;
  let nl;
  while ((nl = rest.indexOf('\n')) >= 0) {
    const line = rest.slice(0, nl);
    rest = rest.slice(nl + 1);
    const m = /"id":\s*("(?:[^"\\]|\\.)*"|-?\d+)/.exec(line);
    const res = m && waiting.get(m[1]);
    if (res) {
      waiting.delete(m[1]);
      res.writeHead(200, { 'content-type': 'application/json' }).end(line);
    }
  }
});
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const m = /"id":\s*("(?:[^"\\]|\\.)*"|-?\d+)/.exec(body);
    // A message without an id (a notification) is answered at once.
    if (!m || !/"method"/.test(body)) res.writeHead(202).end();
    else waiting.set(m[1], res);
    child.stdin.write(`${body.replace(/\n/g, ' ')}\n`);
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`http relay at http://127.0.0.1:${server.address().port}/mcp\n`));
child.on('exit', () => process.exit(0));
