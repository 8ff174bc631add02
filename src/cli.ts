#!/usr/bin/env node
// The command's entry. Before any other module loads, Node 22.1+ is asked to keep V8's compiled
// code of our modules and dependencies (module.enableCompileCache), so a host that starts the
// server on every launch pays for compiling them once. The cache is in the user's own cache
// folder, never a shared temp folder another user could write to. Node 20 has no such cache.
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
if (enable && !process.env.NODE_COMPILE_CACHE) {
  const base = process.env.XDG_CACHE_HOME || (process.platform === 'win32' ? process.env.LOCALAPPDATA : undefined) || path.join(os.homedir(), process.platform === 'darwin' ? 'Library/Caches' : '.cache');
  try {
    enable(path.join(base, 'artifact-workspace-mcp', 'compile-cache'));
  } catch {
    // No cache: the same start, only slower.
  }
}
await import('./cli-main.js');
