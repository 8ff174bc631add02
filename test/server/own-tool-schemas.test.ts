// Our tools' JSON Schemas are written once by `npm run schema` (src/server/own-tool-schemas.ts),
// not made at every start: they must stay what the zod schemas make, and the tools must use them.
import { describe, expect, it } from 'vitest';
import { OWN_TOOL_SCHEMAS } from '../../src/server/own-tool-schemas.js';
import { OWN_TOOLS, madeSchemas } from '../../src/server/own-tools.js';

describe("our tools' JSON Schemas", () => {
  it('the committed ones are what the zod schemas make (run npm run build && npm run schema)', () => {
    expect(JSON.parse(JSON.stringify(OWN_TOOL_SCHEMAS))).toEqual(JSON.parse(JSON.stringify(madeSchemas())));
  });

  it('every tool advertises them', () => {
    for (const t of OWN_TOOLS) {
      expect(t.definition.inputSchema, t.name).toBe(OWN_TOOL_SCHEMAS[t.name]!.inputSchema);
      expect(t.definition.outputSchema, t.name).toBe(OWN_TOOL_SCHEMAS[t.name]!.outputSchema);
    }
  });
});
