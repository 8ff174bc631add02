#!/usr/bin/env node
// For scale only: the straightforward proxy most people write first with the SDK's high-level
// classes: list the downstream tools once, re-register each, forward calls with client.callTool.
// Usage: node bench/naive-proxy.mjs <command> [args...]
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { Server } from '@modelcontextprotocol/server';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';

const [command, ...args] = process.argv.slice(2);
const client = new Client({ name: 'naive-proxy', version: '0.0.0' });
await client.connect(new StdioClientTransport({ command, args, stderr: 'ignore' }));
const { tools } = await client.listTools();

const server = new Server({ name: 'naive-proxy', version: '0.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler('tools/list', async () => ({ tools }));
server.setRequestHandler('tools/call', async (req) => client.callTool(req.params));
await server.connect(new StdioServerTransport());
process.stdin.on('close', () => process.exit(0));
