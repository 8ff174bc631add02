// After tsc: the command users run (dist/cli.js) becomes one bundle of our modules and our
// dependencies, with each lazily loaded part (the server and SDK, S3, HTTP, each subcommand) a
// chunk of its own in dist/chunks/. Why: Node 20 spends more time finding, reading and linking
// the ~900 small ES modules of the SDK, zod and ours than running them; a host starts the server
// on every launch (README "Benchmarks", start-up). The bundle's entry is src/main.ts (dist/main.js,
// which still runs unbundled, for debugging); the modules tsc wrote stay in dist/ for the tests
// and benchmarks that import them.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
fs.rmSync(`${dist}chunks`, { recursive: true, force: true });
const bundle = await rolldown({
  input: `${dist}main.js`,
  platform: 'node',
  logLevel: 'warn',
  // An import the bundler cannot resolve would fail only when reached, in a user's hands: not built.
  onLog(level, log, handler) {
    if (log.code === 'UNRESOLVED_IMPORT') throw new Error(`bundle: ${log.message}`);
    handler(level, log);
  },
});
await bundle.write({
  dir: dist,
  format: 'esm',
  entryFileNames: 'cli.js',
  chunkFileNames: 'chunks/[name]-[hash].js',
  sourcemap: false,
  // Our small shared modules (the workspace, its store, the settings and their helpers) in one
  // chunk: each ES module file costs Node a resolve, a read and a link, and `info` loaded fifteen
  // of them for a few KB each.
  codeSplitting: { groups: [{ name: 'workspace', test: /[\\/]dist[\\/](workspace[\\/][^\\/]+|storage[\\/](local[^\\/]*|store|names|paths|open)|settings|config|config-path|expand|time)\.js$/ }] },
  // Less to parse at every start; names are kept, so stack traces still read.
  minify: { mangle: false, compress: true, codegen: { removeWhitespace: true } },
});
await bundle.close();
