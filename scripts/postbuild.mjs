// After tsc: bundle the command (./bundle.mjs) and make it executable (npm's bin shim needs it on
// a direct checkout). What is generated from zod schemas and committed is written by
// `npm run schema`, not here: a build that rewrote it would keep its staleness tests from failing.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

await import('./bundle.mjs');
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
fs.chmodSync(cli, 0o755);
