// Which config file a command reads. Apart from ./config.ts (and its zod schema), so that `serve`
// can find the config and start the downstream servers (src/proxy/early-start.ts) before the
// schema and the SDK have loaded.
import path from 'node:path';

/** Which config file to read: --config, else $ARTIFACT_WORKSPACE_CONFIG, else ./mcp.config.json if it exists. */
export function configPathFrom(flags: { config?: string }, env: NodeJS.ProcessEnv, cwd: string, exists: (p: string) => boolean): string | undefined {
  const explicit = flags.config ?? env.ARTIFACT_WORKSPACE_CONFIG;
  if (explicit) return path.resolve(cwd, explicit);
  const local = path.join(cwd, 'mcp.config.json');
  return exists(local) ? local : undefined;
}
