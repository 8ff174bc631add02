#!/usr/bin/env node
// Argument parsing and subcommands; nothing else. `serve` is the default subcommand.
import { Command, Option } from 'commander';
import { ConfigError, type Flags } from './config.js';
import { createLogger } from './log.js';
import { serve } from './serve.js';
import { VERSION } from './version.js';

const log = createLogger();

function fail(e: unknown): never {
  const msg = e instanceof ConfigError ? `invalid configuration: ${e.message}` : ((e as Error)?.message ?? String(e));
  log.error(msg);
  process.exit(e instanceof ConfigError ? 2 : 1);
}

const program = new Command()
  .name('artifact-workspace')
  .description('MCP server and proxy that files every artifact your agent\'s tools produce into per-dataset, per-run workspaces.')
  .version(VERSION, '-v, --version')
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

const common = (cmd: Command): Command =>
  cmd
    .option('-c, --config <file>', 'config file (default: $ARTIFACT_WORKSPACE_CONFIG, else ./mcp.config.json when present)')
    .option('--root <dir>', 'workspaces root (beats $WORKSPACES_ROOT and workspace.root)')
    .option('--upload-root <dir>', 'upload root (beats $UPLOAD_ROOT and workspace.uploadRoot)');

common(program.command('serve', { isDefault: true }))
  .description('serve MCP (standalone, or as a proxy when the config has mcpServers)')
  .addOption(new Option('--transport <kind>', 'stdio or http').default('stdio'))
  .option('--host <host>', 'HTTP host (default 127.0.0.1)')
  .option('--port <port>', 'HTTP port (default 3000)')
  .addOption(new Option('--mode <mode>', 'copy or move (beats $ARTIFACT_ROUTING_MODE and routing.mode)'))
  .action(async (opts: Flags) => {
    await serve(opts, log).catch(fail);
    process.exit(0);
  });

program.parseAsync(process.argv).catch(fail);
