// `npm run schema` (after `npm run build`): writes what is generated from zod schemas and
// committed: schema/mcp.config.schema.json (the editor schema of mcp.config.json, from
// src/config.ts) and src/server/own-tool-schemas.ts (our tools' JSON Schemas, from
// src/server/schemas.ts, so no start pays for making them). test/docs.test.ts and
// test/server/own-tool-schemas.test.ts fail when either is stale; the build does not rewrite them,
// so those tests can fail.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const { configJsonSchema } = await import('../dist/config-schema.js');
const out = fileURLToPath(new URL('../schema/mcp.config.schema.json', import.meta.url));
fs.mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);

const { madeSchemas } = await import('../dist/server/own-tools.js');
const ts = fileURLToPath(new URL('../src/server/own-tool-schemas.ts', import.meta.url));
const head = fs.readFileSync(ts, 'utf8').split('export const OWN_TOOL_SCHEMAS')[0];
fs.writeFileSync(ts, `${head}export const OWN_TOOL_SCHEMAS: Readonly<Record<string, OwnToolSchemas>> = ${JSON.stringify(madeSchemas(), null, 2)};\n`);
