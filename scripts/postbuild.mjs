// After tsc: bundle the command (./bundle.mjs), make it executable (npm's bin shim needs it on a
// direct checkout) and regenerate the editor JSON Schema of mcp.config.json from the zod schema.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

await import('./bundle.mjs');
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
fs.chmodSync(cli, 0o755);
await import('./gen-schema.mjs');
