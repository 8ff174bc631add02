// The JSON Schema of mcp.config.json for editors, generated from the one zod schema.
import { z } from 'zod';
import { ConfigSchema } from './config.js';

export function configJsonSchema(): Record<string, unknown> {
  const js = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...js,
    $id: 'https://unpkg.com/artifact-workspace-mcp/schema/mcp.config.schema.json',
    title: 'artifact-workspace-mcp configuration (mcp.config.json)',
  };
}
