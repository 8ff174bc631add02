// `check [--config FILE]`: a config tried before use. Reads it (errors name the key), says where
// the workspaces are and which folders artifacts may come from, starts each server as `serve`
// would, lists its tools under the names a host will see, and says which are routed and why.
// Exit 1 when a server cannot start.
import os from 'node:os';
import type { Settings } from '../config.js';
import { silentLogger, type Logger } from '../log.js';
import { createAllowlist } from '../proxy/allowlist.js';
import { buildCatalog } from '../proxy/catalog.js';
import { Downstream } from '../proxy/downstream.js';
import { downstreamSourceRoots } from '../proxy/launch.js';
import { broadRootReason } from '../routing/policy.js';
import { OWN_TOOL_NAMES } from '../server/own-tools.js';
import { chooseRoots } from '../storage/local-roots.js';
import { isRemoteRoot } from '../storage/paths.js';
import type { Print } from './inspect.js';
import { table } from './inspect.js';

export interface CheckedServer {
  name: string;
  status: 'ready' | 'failed' | 'disabled';
  reason?: string;
  stderr?: string;
  ms?: number;
  tools: { name: string; exposed: string; routed: boolean; why: string }[];
}

export interface CheckReport {
  config?: string;
  workspaces_root: string;
  root_fallback?: string;
  source_roots: string[];
  warnings: string[];
  servers: CheckedServer[];
}

export async function checkConfig(settings: Settings, opts: { startTimeoutMs?: number; env?: NodeJS.ProcessEnv; log?: Logger } = {}): Promise<CheckReport> {
  const env = opts.env ?? process.env;
  const warnings = [...settings.warnings];
  const roots = await chooseRoots({ workspacesRoot: settings.workspacesRoot, uploadRoot: settings.uploadRoot });
  if (roots.fallback) warnings.push(`${roots.fallback}; using ${roots.workspacesRoot}`);
  const home = os.homedir();
  const ds = downstreamSourceRoots(settings.servers, { home, baseDir: settings.baseDir, env });
  warnings.push(...ds.warnings);
  const sourceRoots = [roots.uploadRoot, ...(isRemoteRoot(roots.workspacesRoot) ? [] : [roots.workspacesRoot]), os.tmpdir()];
  for (const r of settings.sourceRoots) {
    const broad = broadRootReason(r, home);
    if (broad) warnings.push(`routing.sourceRoots: ${r} is ${broad}: not allowed (too broad)`);
    else sourceRoots.push(r);
  }
  sourceRoots.push(...ds.roots);

  const entries = Object.entries(settings.servers);
  const allowlist = createAllowlist(settings.routingTools, Object.fromEntries(entries.map(([n, c]) => [n, c.routing?.tools])));
  const events = { toolsChanged: () => {}, listChanged: () => {}, resourceUpdated: () => {}, log: () => {} };
  const started = entries.map(([name, config]) => {
    if (config.disabled) return { name, config, d: undefined, ms: 0 };
    const d = new Downstream({ name, config, baseDir: settings.baseDir, env, log: opts.log ?? silentLogger, events, startTimeoutMs: opts.startTimeoutMs, maxFailures: 1, graceMs: 500 });
    const t0 = Date.now();
    d.start();
    return { name, config, d, t0, ms: 0 };
  });
  await Promise.all(
    started.map(async (s) => {
      if (!s.d) return;
      await s.d.settled(opts.startTimeoutMs ?? 60_000);
      s.ms = Date.now() - (s as { t0: number }).t0;
    }),
  );
  const catalog = buildCatalog(
    started.map((s) => ({ server: s.name, items: s.d?.catalogTools ?? [], allow: s.config.tools?.allow, deny: s.config.tools?.deny })),
    OWN_TOOL_NAMES,
  );
  warnings.push(...catalog.dropped.map((d) => `tool not exposed: ${d}`));
  const servers: CheckedServer[] = started.map((s) => {
    if (!s.d) return { name: s.name, status: 'disabled', tools: [] };
    if (s.d.status !== 'ready') return { name: s.name, status: 'failed', reason: s.d.downReason() ?? `did not start within ${opts.startTimeoutMs ?? 60_000} ms`, stderr: s.d.stderrTail(), ms: s.ms, tools: [] };
    const tools = catalog.entries
      .filter((e) => e.server === s.name)
      .map((e) => {
        const why = allowlist.why(s.name, e.original, e.exposed);
        return { name: e.original, exposed: e.exposed, routed: why !== undefined, why: why ?? 'not on the allowlist: forwarded untouched' };
      });
    return { name: s.name, status: 'ready', ms: s.ms, tools };
  });
  await Promise.all(started.map((s) => s.d?.close()));
  return { config: settings.configPath, workspaces_root: roots.workspacesRoot, ...(roots.fallback && { root_fallback: roots.fallback }), source_roots: [...new Set(sourceRoots)], warnings, servers };
}

export function printCheck(r: CheckReport, print: Print): void {
  print(`config         ${r.config ?? '(none: standalone, our own tools only)'}`);
  print(`workspaces     ${r.workspaces_root}`);
  print(`source roots   ${r.source_roots.join('\n               ')}`);
  for (const w of r.warnings) print(`warning        ${w}`);
  for (const s of r.servers) {
    print('');
    if (s.status === 'disabled') print(`server ${s.name}: disabled in the config`);
    else if (s.status === 'failed') {
      print(`server ${s.name}: FAILED to start (${s.reason})`);
      if (s.stderr) print(`  its stderr:\n    ${s.stderr.split('\n').slice(-10).join('\n    ')}`);
    } else {
      print(`server ${s.name}: started in ${s.ms} ms, ${s.tools.length} tool(s)`);
      if (s.tools.length) print(table([['tool', 'routed', 'why'], ...s.tools.map((t) => [t.exposed === t.name ? t.name : `${t.exposed} (${t.name})`, t.routed ? 'yes' : 'no', t.why])]).replace(/^/gm, '  '));
    }
  }
}
