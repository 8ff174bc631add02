// The README's configuration reference and the generated JSON Schema are checked against the one
// zod schema, so the docs cannot drift from the code.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config-schema.js';
import { HttpServerSchema, StdioServerSchema, parseConfigText } from '../src/config.js';
import { DEFAULT_ARTIFACT_TOOLS } from '../src/proxy/allowlist.js';

const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const table = readme.split('<!-- config-reference:start -->')[1]!.split('<!-- config-reference:end -->')[0]!;

function leafKeys(schema: any, prefix: string): string[] {
  if (!schema?.properties) return [prefix];
  return Object.entries(schema.properties).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

describe('docs match the code', () => {
  it('the committed JSON Schema is what the zod schema generates (run npm run build && npm run schema)', () => {
    const committed = JSON.parse(fs.readFileSync(new URL('../schema/mcp.config.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it('every top-level config key is in the README reference', () => {
    const js = configJsonSchema() as any;
    const keys = [...leafKeys(js.properties.workspace, 'workspace'), ...leafKeys(js.properties.routing, 'routing')];
    for (const k of keys) expect(table, k).toContain(`\`${k}\``);
  });

  it('every server-entry key is in the README reference', () => {
    for (const k of new Set([...Object.keys(StdioServerSchema.shape), ...Object.keys(HttpServerSchema.shape)])) {
      expect(table, k).toMatch(new RegExp(`mcpServers\\.\\{name\\}\\.[^|]*\\b${k}\\b`));
    }
  });

  it('the README lists the 49 names @default stands for, in order', () => {
    expect(DEFAULT_ARTIFACT_TOOLS).toHaveLength(49);
    const listed = readme.split('### The built-in allowlist')[1]!.split('##')[0]!;
    expect([...listed.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).filter((n) => n !== 'routing' && n !== 'tools')).toEqual([...DEFAULT_ARTIFACT_TOOLS]);
  });

  it('the sample mcp.config.json is valid', () => {
    expect(() => parseConfigText(fs.readFileSync(new URL('../mcp.config.json', import.meta.url), 'utf8'))).not.toThrow();
  });

  it('every JSON config example in the README is valid', () => {
    const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('"mcpServers"') && !b.includes('"command": "npx"'));
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(() => parseConfigText(b)).not.toThrow();
  });
});
