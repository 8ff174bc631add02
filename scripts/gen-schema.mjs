// Writes schema/mcp.config.schema.json from the zod schema in src/config.ts (via dist/).
// test/unit/config-schema.test.ts fails when the committed file is stale.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const { configJsonSchema } = await import('../dist/config-schema.js');
const out = fileURLToPath(new URL('../schema/mcp.config.schema.json', import.meta.url));
fs.mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
