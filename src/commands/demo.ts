// `artifact-workspace demo`: the original design's own test, end to end, with no setup.
// Starts this binary as a proxy in front of the bundled example data-science server, "uploads" the
// bundled tips.csv, calls plot, train_classifier and export_executive_report through a real MCP
// client, then prints the workspace tree, the manifest and where the originals still are.
import fs from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../version.js';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { openStore } from '../storage/open.js';
import { runStamp } from '../time.js';
import { Workspaces } from '../workspace/layout.js';
import { readManifestFiles } from '../workspace/manifest.js';
import { OWN_TOOL_NAMES } from '../server/own-tools.js';
import { renderTree } from './tree.js';

const EXAMPLE = path.join(PACKAGE_ROOT, 'examples/ds-server');
const CLI = path.join(PACKAGE_ROOT, 'dist/cli.js');
const ROUTED_KEY = 'artifact-workspace/routed';
const OWN = OWN_TOOL_NAMES;

export interface DemoOptions {
  dir: string;
  out?: (s: string) => void;
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const out = opts.out ?? ((s: string) => void process.stdout.write(`${s}\n`));
  const dir = path.resolve(opts.dir);
  const uploadRoot = path.join(dir, '.uploaded');
  const toolOut = path.join(dir, 'ds-server-output');
  await fs.mkdir(uploadRoot, { recursive: true });
  await fs.mkdir(toolOut, { recursive: true });

  // The "upload": the original uploader stored files as uploaded_<epoch>_<name>.
  const csv = path.join(uploadRoot, `uploaded_${Math.floor(Date.now() / 1000)}_tips.csv`);
  await fs.copyFile(path.join(EXAMPLE, 'tips.csv'), csv);

  const config = path.join(dir, 'mcp.config.json');
  await fs.writeFile(
    config,
    `${JSON.stringify(
      {
        workspace: { uploadRoot: '.uploaded' },
        routing: { mode: 'copy', tools: ['@default'] },
        mcpServers: {
          ds: { command: process.execPath, args: [path.join(EXAMPLE, 'server.mjs')], env: { DS_SERVER_OUT: toolOut }, cwd: toolOut },
        },
      },
      null,
      2,
    )}\n`,
  );
  out(`artifact-workspace demo in ${dir} (${runStamp(new Date())})`);
  out(`  config:   ${config}`);
  out(`  uploaded: ${csv}\n`);

  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--config', config], cwd: dir, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'artifact-workspace-demo', version: '1.0.0' });
  try {
    await client.connect(transport);
    const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => {
      const res = (await client.request({ method: 'tools/call', params: { name, arguments: args } }, { timeout: 60_000 })) as CallToolResult;
      type Routed = { entries?: { dst: string }[]; routed?: { dst: string }[]; skipped: { src: string; reason: string }[] };
      const sc = res.structuredContent as (Routed & { workspace_root?: string }) | undefined;
      const routed = (res._meta?.[ROUTED_KEY] as Routed | undefined) ?? (sc?.routed ? sc : undefined);
      const text = res.content.find((b) => b.type === 'text');
      out(`→ ${name}(${JSON.stringify(args).replaceAll(dir, '.')})${res.isError ? '  [isError]' : ''}`);
      if (res.isError && text?.type === 'text') out(`    ${text.text}`);
      for (const e of routed?.entries ?? routed?.routed ?? []) out(`    routed ${path.relative(dir, e.dst)}`);
      for (const s of routed?.skipped ?? []) out(`    skipped ${s.src}: ${s.reason}`);
      if (OWN.has(name) && sc?.workspace_root && !routed) out(`    workspace ${path.relative(dir, sc.workspace_root)}`);
      if (!OWN.has(name) && !routed) out('    (not on the allowlist: forwarded untouched, nothing routed)');
      return res;
    };
    await call('ensure_workspace', { path: csv });
    await call('route_artifacts', { paths: [{ path: csv, type: 'upload', label: 'tips.csv' }] });
    await call('describe', { csv_path: csv });
    await call('plot', { csv_path: csv, column: 'total_bill' });
    await call('train_classifier', { csv_path: csv, target: 'smoker' });
    await call('export_executive_report', { csv_path: csv });

    const info = (await call('get_workspace_info', {})).structuredContent as { workspaces_root: string; dataset: string; run_id: string; workspace_root: string };
    const ws = await Workspaces.open(info.workspaces_root, undefined, { create: false });
    const tools = await openStore(toolOut, { create: false, index: { persist: false } });
    try {
      out('\nWorkspace:');
      out(await renderTree(ws.store, [], { foldEmpty: true }));
      const run = ws.target(info.dataset, info.run_id);
      out(`\nManifests (${run.subdirs.manifests}):`);
      for (const m of await readManifestFiles(ws.store, run)) {
        out(`  ${path.basename(m.file)}  tool=${m.manifest?.tool ?? '?'}`);
        for (const e of m.manifest?.entries ?? []) out(`    ${path.relative(info.workspace_root, e.dst)}  ${e.bytes} B  sha256 ${e.sha256.slice(0, 12)}…`);
      }
      out('\nThe originals are still where the tools wrote them (copy mode):');
      out(await renderTree(tools, [], { maxDepth: 2 }));
    } finally {
      await ws.store.close();
      await tools.close();
    }
    out(`\nOpen the plot and the report under ${path.join(info.workspace_root, 'plots')} and ${path.join(info.workspace_root, 'reports')}.`);
  } catch (e) {
    throw new Error(`demo failed: ${(e as Error).message}\n--- proxy stderr ---\n${stderr.slice(-3000)}`);
  } finally {
    await client.close().catch(() => {});
  }
}
