#!/usr/bin/env node
// A second floor for a proxy written in Node: one that reads the messages it carries. Each line is
// decoded, parsed and written back re-serialised; a request from the client gets an id of the
// relay's own (a proxy that also talks to the server for itself must re-address calls) and its
// answer gets the client's id back. No validation, no policy, no timeouts, no progress: what any
// proxy that looks at its messages pays at least, beside bench/relay.mjs, which looks at nothing.
// Usage: node bench/parse-relay.mjs COMMAND [ARGS…]
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const open = new Map();
let seq = 0;

/** Calls `onLine` with each newline-terminated line of the stream, as text. */
function lines(stream, onLine) {
  let parts = [];
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      parts.push(chunk.slice(start, nl));
      onLine(parts.length === 1 ? parts[0] : parts.join(''));
      parts = [];
      start = nl + 1;
    }
    if (start < chunk.length) parts.push(chunk.slice(start));
  });
}

lines(process.stdin, (line) => {
  const msg = JSON.parse(line);
  if (msg.method !== undefined && msg.id !== undefined) {
    const id = `r${++seq}`;
    open.set(id, msg.id);
    msg.id = id;
  }
  child.stdin.write(`${JSON.stringify(msg)}\n`);
});
lines(child.stdout, (line) => {
  const msg = JSON.parse(line);
  if (msg.method === undefined && open.has(msg.id)) {
    const id = open.get(msg.id);
    open.delete(msg.id);
    msg.id = id;
  }
  process.stdout.write(`${JSON.stringify(msg)}\n`);
});
child.on('exit', (code) => process.exit(code ?? 0));
process.stdin.on('end', () => child.stdin.end());
