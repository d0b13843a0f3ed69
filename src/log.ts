/**
 * Plain one-line logs on stderr/stdout. Nothing secret is ever passed here: webhook
 * credentials and API keys stay out of log calls by construction (see the tests). Errors
 * are written through src/log-redact.ts: a database error shows its SQLSTATE, the names
 * it involves and the statement's shape, never values, details or parameters.
 */
import { describeError, redactText } from './log-redact.js';

export type LogLevel = 'silent' | 'error' | 'info' | 'debug';

export interface Logger {
  info(msg: string): void;
  debug(msg: string): void;
  error(msg: string, err?: unknown): void;
}

/** Where the lines go; the console unless a test captures them. */
export interface LogSink {
  out(line: string): void;
  err(line: string): void;
}

const consoleSink: LogSink = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

const rank: Record<LogLevel, number> = { silent: 0, error: 1, info: 2, debug: 3 };

export function createLogger(level: LogLevel, prefix = 'deskhooks', sink: LogSink = consoleSink): Logger {
  const at = rank[level];
  const stamp = () => new Date().toISOString();
  return {
    info: (msg) => void (at >= 2 && sink.out(`${stamp()} ${prefix} ${msg}`)),
    debug: (msg) => void (at >= 3 && sink.out(`${stamp()} ${prefix} debug ${msg}`)),
    error: (msg, err) => {
      if (at < 1) return;
      const detail = err !== undefined ? `: ${describeError(err)}` : '';
      sink.err(`${stamp()} ${prefix} error ${redactText(msg)}${detail}`);
    },
  };
}

/**
 * Libraries write their own errors with console.error/console.warn (graphql-ws reports an
 * exception thrown while it handles a message that way, a database error included): pass
 * whatever they print through the same redaction. For the server process (src/cli.ts).
 */
export function redactConsole(): void {
  const redact = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? redactText(a) : a !== null && typeof a === 'object' ? describeError(a) : a));
  const error = console.error.bind(console);
  const warn = console.warn.bind(console);
  console.error = (...args: unknown[]) => error(...redact(args));
  console.warn = (...args: unknown[]) => warn(...redact(args));
}
