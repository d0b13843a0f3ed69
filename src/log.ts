/**
 * Plain one-line logs on stderr/stdout. Nothing secret is ever passed here: webhook
 * credentials and API keys stay out of log calls by construction (see the tests).
 */
export type LogLevel = 'silent' | 'error' | 'info' | 'debug';

export interface Logger {
  info(msg: string): void;
  debug(msg: string): void;
  error(msg: string, err?: unknown): void;
}

const rank: Record<LogLevel, number> = { silent: 0, error: 1, info: 2, debug: 3 };

export function createLogger(level: LogLevel, prefix = 'deskhooks'): Logger {
  const at = rank[level];
  const stamp = () => new Date().toISOString();
  return {
    info: (msg) => at >= 2 && console.log(`${stamp()} ${prefix} ${msg}`),
    debug: (msg) => at >= 3 && console.log(`${stamp()} ${prefix} debug ${msg}`),
    error: (msg, err) => {
      if (at < 1) return;
      const detail = err instanceof Error ? `: ${err.stack ?? err.message}` : err !== undefined ? `: ${String(err)}` : '';
      console.error(`${stamp()} ${prefix} error ${msg}${detail}`);
    },
  };
}
