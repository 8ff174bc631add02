// Whether a command line is `serve`'s, read before the real parser (commander, src/cli-main.ts)
// loads: src/main.ts starts the config's servers early for it (src/proxy/early-start.ts). Its own
// module, with no imports, so that every other command pays nothing for the question.

/** `serve`'s options that take a value (src/cli-main.ts); -c/--config is read, the rest skipped. */
export const VALUE_OPTIONS = new Set(['--root', '--upload-root', '--transport', '--host', '--port', '--token', '--mode']);

/**
 * The flags of a `serve` command line (`serve` is the default command), read before the real
 * parser loads; undefined for anything else or anything unexpected (another command, help,
 * version, an unknown option): the early start is only a head start, never a decision.
 */
export function serveFlagsFromArgv(argv: readonly string[]): { config?: string } | undefined {
  const flags: { config?: string } = {};
  for (let i = argv[0] === 'serve' ? 1 : 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) return undefined;
      flags.config = v;
    } else if (a.startsWith('--config=')) flags.config = a.slice('--config='.length);
    else if (VALUE_OPTIONS.has(a)) {
      if (argv[++i] === undefined) return undefined;
    } else if (!VALUE_OPTIONS.has(a.split('=')[0]!) || !a.includes('=')) return undefined;
  }
  return flags;
}
