// Chains of our own proxies (README "Chaining"): host → A → B (→ C) → the example data-science
// server, every link a real child process or HTTP server built from dist/. One `plot` call must
// store each file once per root, link each stored file once, file into one run per root, and the
// host must see our own tools once. Same root and different roots; links over stdio and HTTP.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport, type CallToolResult } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CallToolResultSchema } from '@modelcontextprotocol/core';
import { CLI, onCleanup, sc, tempDir } from '../helpers.js';
import { startHttpCli } from './http-session.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DS = path.join(ROOT, 'examples/ds-server/server.mjs');
const TIPS = path.join(ROOT, 'examples/ds-server/tips.csv');
const OWN = ['ensure_workspace', 'route_artifacts', 'get_workspace_info'];
const built = fs.existsSync(CLI);

type Via = 'stdio' | 'http';

interface Chain {
  client: Client;
  /** Workspaces root of each proxy, outermost first. */
  roots: string[];
  out: string;
  stderr: () => string;
}

/**
 * Proxies 0 (the host's) … depth-1 (in front of the ds server), each on its own root or all on one.
 * `via` is how each proxy reaches the next, and how the host reaches proxy 0.
 */
async function chain(depth: number, sameRoot: boolean, via: Via, modern = false): Promise<Chain> {
  const dir = await tempDir('aw-chain-');
  const out = path.join(dir, 'ds-out');
  const roots = Array.from({ length: depth }, (_, i) => path.join(dir, sameRoot ? 'ws' : `ws${i}`));
  let next: Record<string, unknown> = { command: process.execPath, args: [DS], env: { DS_SERVER_OUT: out } };
  let nextName = 'ds';
  let config = '';
  let errs: (() => string)[] = [];
  for (let i = depth - 1; i >= 0; i--) {
    config = path.join(dir, `p${i}.json`);
    fs.writeFileSync(config, JSON.stringify({ workspace: { root: roots[i] }, mcpServers: { [nextName]: next } }));
    if (i === 0) break;
    if (via === 'stdio') {
      next = { command: process.execPath, args: [CLI, 'serve', '--config', config] };
    } else {
      const started = await startHttpCli(config, dir);
      errs.push(started.stderr);
      next = { type: 'http', url: started.url, ...(modern && { protocol: '2026-07-28' }) };
    }
    nextName = `p${i}`;
  }
  const client = new Client({ name: 'chain-test', version: '1.0.0' }, { versionNegotiation: { mode: modern ? { pin: '2026-07-28' } : 'legacy' } });
  onCleanup(() => client.close());
  if (via === 'stdio') {
    const t = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', config], cwd: dir, stderr: 'pipe' });
    let err = '';
    t.stderr?.on('data', (d) => (err += String(d)));
    errs = [() => err, ...errs];
    await client.connect(t);
  } else {
    const front = await startHttpCli(config, dir);
    errs = [front.stderr, ...errs];
    await client.connect(new StreamableHTTPClientTransport(new URL(front.url)));
  }
  return { client, roots, out, stderr: () => errs.map((e) => e()).join('\n') };
}

const call = (c: Client, name: string, args: Record<string, unknown> = {}) =>
  c.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, { timeout: 60_000 }) as Promise<CallToolResult>;

/** Every file under a root's runs, by run, leaving out manifests and our hidden folders. */
function stored(root: string): { runs: string[]; files: string[]; manifests: string[] } {
  const runs: string[] = [];
  const files: string[] = [];
  const manifests: string[] = [];
  for (const ds of fs.readdirSync(root).filter((n) => !n.startsWith('.'))) {
    for (const run of fs.readdirSync(path.join(root, ds), { withFileTypes: true }).filter((e) => e.isDirectory())) {
      runs.push(`${ds}/${run.name}`);
      for (const e of fs.readdirSync(path.join(root, ds, run.name), { recursive: true, withFileTypes: true })) {
        if (!e.isFile()) continue;
        const rel = path.relative(root, path.join(e.parentPath, e.name));
        (rel.split(path.sep)[2] === 'manifests' ? manifests : files).push(rel);
      }
    }
  }
  return { runs, files: files.sort(), manifests };
}

const links = (r: CallToolResult) => r.content.flatMap((b) => (b.type === 'resource_link' ? [b.uri] : []));

describe.skipIf(!built)('chains of our proxies', () => {
  it.each([
    [2, true, 'stdio'],
    [2, false, 'stdio'],
    [3, true, 'stdio'],
    [3, false, 'stdio'],
    [2, true, 'http'],
    [2, false, 'http'],
    [3, true, 'http'],
    [3, false, 'http'],
  ] as const)('%i proxies, same root: %s, over %s: one copy and one link per root, one run, our tools once', async (depth, sameRoot, via) => {
    const c = await chain(depth, sameRoot, via, via === 'http' && depth === 3);
    const names = (await c.client.listTools()).tools.map((t) => t.name);
    for (const own of OWN) expect(names.filter((n) => n.endsWith(own)), c.stderr()).toEqual([own]);
    expect(names).toContain('plot');

    for (const column of ['total_bill', 'tip']) {
      const res = await call(c.client, 'plot', { csv_path: TIPS, column });
      expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
      const uris = links(res);
      // One link per URI, and per root exactly the two files this call made.
      expect(new Set(uris).size, uris.join('\n')).toBe(uris.length);
      for (const root of new Set(c.roots)) {
        const here = uris.filter((u) => fileURLToPath(u).startsWith(root + path.sep));
        expect(here.map((u) => path.basename(fileURLToPath(u))).sort(), `${root}: ${uris.join('\n')}`).toEqual([`tips_auto_hist_${column}.png`, `tips_auto_hist_${column}.svg`]);
      }
      expect(uris).toHaveLength(new Set(c.roots).size * 2);
    }

    for (const root of new Set(c.roots)) {
      const s = stored(root);
      expect(s.runs, root).toHaveLength(1);
      expect(s.runs[0]).toMatch(/^tips\//);
      expect(s.files.map((f) => path.basename(f)), root).toEqual(['tips_auto_hist_tip.png', 'tips_auto_hist_tip.svg', 'tips_auto_hist_total_bill.png', 'tips_auto_hist_total_bill.svg']);
      // One routing event per call per root: the one proxy that filed the files there.
      expect(s.manifests, root).toHaveLength(2);
    }

    // Every file is listed once as a resource, whichever proxies can see it.
    const listed = (await c.client.listResources()).resources.map((r) => r.uri);
    expect(new Set(listed).size, listed.join('\n')).toBe(listed.length);
    expect(listed.filter((u) => u.endsWith('.png') || u.endsWith('.svg'))).toHaveLength(4 * (sameRoot ? 1 : depth));

    // Our own tools answer from the host's proxy, on its root, about the run the chain filed into.
    // (A 2026-07-28 host has no session: it names the run by handle.)
    const run = stored(c.roots[0]!).runs[0]!;
    const info = sc(await call(c.client, 'get_workspace_info', c.client.getNegotiatedProtocolVersion() === '2026-07-28' ? { workspace: run } : {}));
    expect(info.workspace).toBe(run);
    expect(info.counts.plots).toBe(4);
  });
});
