// Argument parsing and subcommands; nothing else. `serve` is the default subcommand. Each command
// loads what it needs when it runs (the config schema, the store, the server and its SDK), so a
// host's launch and `--version` pay only for commander.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Flags } from './config.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';

const loadSettingsModule = () => import('./settings.js');

const log = createLogger();
const print = (s: string): void => void process.stdout.write(`${s}\n`);

function fail(e: unknown): never {
  // By name: the config module is loaded only by the commands that read a config.
  const config = (e as Error)?.name === 'ConfigError';
  const msg = config ? `invalid configuration: ${(e as Error).message}` : ((e as Error)?.message ?? String(e));
  log.error(msg);
  process.exit(config ? 2 : 1);
}

/** Runs a subcommand and exits with its code once stdout has drained. */
const run =
  <A extends unknown[]>(fn: (...a: A) => Promise<number>) =>
  async (...a: A): Promise<void> => {
    const code = await fn(...a).catch(fail);
    process.stdout.write('', () => process.exit(code));
  };

/** A whole number >= 0, or commander's usage error naming what was given. */
function wholeNumber(v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`expected a whole number >= 0, got ${JSON.stringify(v)}`);
  return Number(v);
}

// Started bare in a terminal, there is no host on the other end: say what this is instead of
// waiting silently for JSON-RPC (and making a workspaces folder where it was typed).
if (process.argv.length === 2 && process.stdin.isTTY) {
  process.stderr.write(
    'artifact-workspace is an MCP server: a host (Claude Desktop, Claude Code, Cursor, VS Code…) starts it and speaks to it on stdin/stdout.\n' +
      'Set it up in your host (README, "Use it from your host"), or try:\n' +
      '  artifact-workspace demo           the whole job on a bundled dataset\n' +
      '  artifact-workspace check          start the servers of a config and show what would be routed\n' +
      '  artifact-workspace --help         every command\n',
  );
  process.exit(0);
}

const program = new Command()
  .name('artifact-workspace')
  .description("MCP server and proxy that files every artifact your agent's tools produce into per-dataset, per-run workspaces.")
  .version(VERSION, '-v, --version')
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

const rootOptions = (cmd: Command): Command =>
  cmd
    .option('-c, --config <file>', 'config file (default: $ARTIFACT_WORKSPACE_CONFIG, else ./mcp.config.json when present)')
    .option('--root <dir>', 'workspaces root (beats $WORKSPACES_ROOT and workspace.root)')
    .option('--upload-root <dir>', 'upload root (beats $UPLOAD_ROOT and workspace.uploadRoot)');

rootOptions(program.command('serve', { isDefault: true }))
  .description('serve MCP over stdio or HTTP (a proxy when the config has mcpServers)')
  .addOption(new Option('--transport <kind>', 'stdio or http').default('stdio'))
  .option('--host <host>', 'HTTP host (default 127.0.0.1)')
  .option('--port <port>', 'HTTP port (default 3000)')
  .option('--token <token>', 'HTTP: require this bearer token (default $ARTIFACT_WORKSPACE_TOKEN)')
  .option('--mode <mode>', 'copy or move (beats $ARTIFACT_ROUTING_MODE and routing.mode)')
  .action(
    run(async (opts: Flags) => {
      if (process.stdin.isTTY) log.warn('waiting for an MCP host on stdin (this is not an interactive program; Ctrl-C to quit)');
      // The config's stdio servers start first, so that their start-up and ours overlap (a host
      // waits for both before its first tools/list); then the server (and the MCP SDK), loaded
      // here because --version and info need not pay for it.
      // (src/main.ts may have started them already, from the raw command line.)
      const { earlyFor } = await import('./proxy/early-start.js');
      const early = earlyFor(opts, process.env, process.cwd());
      const { serve } = await import('./serve.js');
      await serve(opts, log, { early });
      return 0;
    }),
  );

program
  .command('demo')
  .description('run the whole job on a bundled dataset: proxy + example tool server + real files')
  .option('--dir <dir>', 'where the demo writes', 'artifact-workspace-demo')
  .action(
    run(async (opts: { dir: string }) => {
      const { runDemo } = await import('./commands/demo.js');
      await runDemo({ dir: opts.dir });
      return 0;
    }),
  );

program
  .command('check')
  .description('try a config before use: start each server, list its tools, and say which are routed and why')
  .option('-c, --config <file>', 'config file (default: $ARTIFACT_WORKSPACE_CONFIG, else ./mcp.config.json when present)')
  .option('--timeout-ms <ms>', 'longest a server may take to start', wholeNumber, 60_000)
  .option('--json', 'print JSON')
  .action(
    run(async (opts: Flags & { json?: boolean; timeoutMs: number }) => {
      const { checkConfig, printCheck } = await import('./commands/check.js');
      const report = await checkConfig((await loadSettingsModule()).loadSettings(opts), { startTimeoutMs: opts.timeoutMs });
      if (opts.json) print(JSON.stringify(report, null, 2));
      else printCheck(report, print);
      return report.servers.some((s) => s.status === 'failed') ? 1 : 0;
    }),
  );

rootOptions(program.command('info [dataset]'))
  .description('describe the workspaces, or a dataset\'s latest run (dataset/run_id for another run)')
  .option('--json', 'print JSON')
  .action(
    run(async (target: string | undefined, opts: Flags & { json?: boolean }) => {
      const { infoCommand } = await import('./commands/inspect.js');
      const { ws, settings } = await (await loadSettingsModule()).openWorkspaces(opts);
      return infoCommand(ws, target, { json: opts.json, mode: settings.mode }, print);
    }),
  );

rootOptions(program.command('ui'))
  .description('browse the workspaces in a web browser: runs, plots, reports, metrics, run comparison')
  .option('--host <host>', 'host to bind (default 127.0.0.1; anything else needs a token)')
  .option('--port <port>', 'port (default 3001; 0 picks a free one)', wholeNumber)
  .option('--token <token>', 'require this token (default $ARTIFACT_WORKSPACE_TOKEN)')
  .action(
    run(async (opts: Flags & { port?: number }) => {
      const { uiCommand } = await import('./commands/ui.js');
      const { ws, settings } = await (await loadSettingsModule()).openWorkspaces({ ...opts, port: undefined });
      return uiCommand(ws, { host: opts.host ?? '127.0.0.1', port: opts.port ?? 3001, token: opts.token ?? settings.token, allowedHosts: settings.allowedHosts, allowedOrigins: settings.allowedOrigins }, log);
    }),
  );

rootOptions(program.command('ls [dataset]'))
  .description('list datasets, or the runs of a dataset')
  .option('--json', 'print JSON')
  .action(
    run(async (dataset: string | undefined, opts: Flags & { json?: boolean }) => {
      const { lsCommand } = await import('./commands/inspect.js');
      return lsCommand((await (await loadSettingsModule()).openWorkspaces(opts)).ws, dataset, opts, print);
    }),
  );

rootOptions(program.command('verify [target]'))
  .description('re-hash every routed file against its manifest (target: dataset or dataset/run_id); exit 1 on drift')
  .option('--json', 'print JSON')
  .action(
    run(async (target: string | undefined, opts: Flags & { json?: boolean }) => {
      const { verifyCommand } = await import('./commands/verify.js');
      const { terminalProgress } = await import('./progress.js');
      return verifyCommand((await (await loadSettingsModule()).openWorkspaces(opts)).ws, target, opts, print, terminalProgress('verifying'));
    }),
  );

rootOptions(program.command('prune [dataset]'))
  .description('delete all but the newest N runs of each dataset (never the one `latest` names)')
  .requiredOption('--keep <n>', 'runs to keep per dataset', wholeNumber)
  .option('--dry-run', 'print what would be removed, remove nothing')
  .option('--json', 'print JSON')
  .action(
    run(async (dataset: string | undefined, opts: Flags & { keep: number; dryRun?: boolean; json?: boolean }) => {
      const { pruneCommand } = await import('./commands/prune.js');
      return pruneCommand((await (await loadSettingsModule()).openWorkspaces(opts)).ws, { ...opts, dataset }, print);
    }),
  );

program.parseAsync(process.argv).catch(fail);
