#!/usr/bin/env node
// The command's entry (bundled into dist/cli.js by scripts/bundle.mjs). Before any other module
// loads, Node 22.1+ is asked to keep V8's compiled code of our modules and dependencies
// (module.enableCompileCache), so a host that starts the server on every launch pays for
// compiling them once. The cache is in the user's own cache
// folder, never a shared temp folder another user could write to. Node 20 has no such cache.
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { serveFlagsFromArgv } from './serve-argv.js';

const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
if (enable && !process.env.NODE_COMPILE_CACHE) {
  const base = process.env.XDG_CACHE_HOME || (process.platform === 'win32' ? process.env.LOCALAPPDATA : undefined) || path.join(os.homedir(), process.platform === 'darwin' ? 'Library/Caches' : '.cache');
  try {
    enable(path.join(base, 'artifact-workspace-mcp', 'compile-cache'));
  } catch {
    // No cache: the same start, only slower.
  }
}
// What follows is for `serve` alone (the long-running command): --version and info load neither
// node:v8 nor process.stdin (README "Benchmarks": start-up).
const serveFlags = serveFlagsFromArgv(process.argv.slice(2));
if (serveFlags) {
  // V8 grows the young generation from 1 to 16 MB semispaces (32 MB of heap) as soon as a burst
  // of calls allocates fast, and keeps it; a proxy's calls leave almost nothing alive, so the
  // small one costs no throughput and keeps the resident set ~30 MB smaller (README
  // "Benchmarks"). The user's own flags win: NODE_OPTIONS or node's command line naming a
  // semispace size.
  const nodeFlags = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  if (!/semi-space|semi_space/.test(nodeFlags)) (await import('node:v8')).default.setFlagsFromString('--semi-space-growth-factor=1');
  // In proxy mode the config's stdio servers start now, so that their start-up overlaps ours
  // (src/proxy/early-start.ts). Not for a terminal: a person typing is not a host waiting.
  if (!process.stdin.isTTY) (await import('./proxy/early-start.js')).beginEarly(serveFlags, process.env, process.cwd());
}
await import('./cli-main.js');
