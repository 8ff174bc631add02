// The one place that writes log lines. Always stderr: in stdio transport stdout is the protocol.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(
  opts: { level?: Level; write?: (line: string) => void; prefix?: string } = {},
): Logger {
  const min = ORDER[opts.level ?? ((process.env.ARTIFACT_WORKSPACE_LOG as Level) || 'info')] ?? ORDER.info;
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const prefix = opts.prefix ?? 'artifact-workspace';
  const emit = (level: Level) => (msg: string) => {
    if (ORDER[level] >= min) write(`[${prefix}] ${level}: ${msg}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** A logger that drops everything (tests, and callers that want silence). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
