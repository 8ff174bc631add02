#!/usr/bin/env node
// The floor for a proxy written in Node: one more process between an MCP client and a stdio
// server that pipes bytes both ways and parses nothing. What it adds over a direct call no Node
// proxy can undercut. Usage: node bench/relay.mjs COMMAND [ARGS…]
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on('exit', (code) => process.exit(code ?? 0));
process.stdin.on('end', () => child.stdin.end());
