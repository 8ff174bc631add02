// After tsc: make the CLI executable (npm's bin shim needs it on a direct checkout) and
// regenerate the editor JSON Schema of mcp.config.json from the zod schema.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
fs.chmodSync(cli, 0o755);
await import('./gen-schema.mjs');
