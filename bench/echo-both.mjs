#!/usr/bin/env node
// For bench/run.mjs: an `echo` tool on the SDK's own server, at both protocol revisions (the
// opening message picks one, as for our stdio front). Called directly at each revision, it tells
// what the client itself spends per call at 2026-07-28 beyond 2025-11-25: the 2026-07-28 rows
// have no direct call to compare with (server-everything speaks 2025-11-25 only), so that client
// cost is measured here and shown, not charged to the proxy.
import { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod';

serveStdio(() => {
  const server = new McpServer({ name: 'echo-both', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes back the input', inputSchema: z.object({ message: z.string() }) }, async ({ message }) => ({
    content: [{ type: 'text', text: `Echo: ${message}` }],
  }));
  return server;
});
