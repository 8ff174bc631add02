// How to reach a downstream server: the launch spec the proxy works out from a config entry
// (src/proxy/launch.ts) and the client transports open (./client-transport.ts). Pure data.

export type LaunchSpec =
  | { kind: 'stdio'; command: string; args: string[]; env: NodeJS.ProcessEnv; cwd?: string }
  | { kind: 'http'; url: string; headers: Record<string, string> };

/** The protocol revision a host speaks: `legacy` is 2025-11-25 (and older), `modern` 2026-07-28. */
export type Era = 'legacy' | 'modern';
