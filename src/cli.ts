/**
 * `npm start`: reads the environment, starts deskhooks, prints where it listens (and a
 * generated admin key, once), and stops cleanly within 10 s on SIGTERM, SIGINT or SIGHUP,
 * or when the `npm start` command that ran it is gone (src/launcher.ts).
 */
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, redactConsole } from './log.js';
import { describeError, isDatabaseError } from './log-redact.js';
import { launcherChain, watchLauncher } from './launcher.js';
import { startDeskhooks, type RunningApp } from './main.js';

const STOP_DEADLINE_MS = 9_000;

// a closed terminal or log pipe must not turn a log line into a crash (EPIPE, EIO)
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

async function run(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`deskhooks: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  // from here on, what libraries print goes through the same redaction as our logs
  redactConsole();
  const log = createLogger(config.logLevel);
  // a stop asked for while starting runs once the start is done
  const state: { app: RunningApp | null; stopCode: number | null } = { app: null, stopCode: null };
  const stop = (reason: string, exitCode = 0) => {
    if (state.stopCode !== null) return;
    state.stopCode = exitCode;
    log.info(`${reason}: stopping`);
    const deadline = setTimeout(() => {
      log.error(`did not stop within ${STOP_DEADLINE_MS} ms; exiting anyway (unfinished deliveries are retried after their claim expires)`);
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    if (state.app) void finish(state.app, exitCode);
  };
  const finish = (running: RunningApp, exitCode: number) =>
    running
      .stop()
      .then(() => {
        log.info('stopped');
        // Agenda and pg leave timers behind after stop(): exit explicitly
        process.exit(exitCode);
      })
      .catch((err) => {
        log.error('stop failed', err);
        process.exit(1);
      });
  // SIGHUP: the terminal or session that ran deskhooks is gone
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  // recorded before anything slow: the launcher may be gone by the time we listen
  watchLauncher(launcherChain(), (pid) => stop(`the process that started deskhooks (pid ${pid}) is gone`));
  // the default would end the process on the spot, leaving the embedded PostgreSQL behind
  process.on('uncaughtException', (err) => {
    log.error('uncaught exception', err);
    stop('uncaught exception', 1);
  });
  process.on('unhandledRejection', (err) => {
    log.error('unhandled promise rejection', err);
    stop('unhandled promise rejection', 1);
  });

  const app = await startDeskhooks(config, { log, stopGraceMs: 5_000 });
  state.app = app;
  if (state.stopCode !== null) return void finish(app, state.stopCode);
  if (app.bootstrap.generatedKey) {
    console.log(
      [
        '',
        '  No users yet: created the administrator admin@localhost.',
        `  API key (shown once, keep it): ${app.bootstrap.generatedKey}`,
        `  Try: curl -s -H 'Authorization: Bearer ${app.bootstrap.generatedKey}' -H 'Content-Type: application/json' \\`,
        `         -d '{"query":"{ me { email role } }"}' ${app.url}/graphql`,
        '',
      ].join('\n'),
    );
  } else if (app.bootstrap.created) {
    log.info(`created the administrator ${app.bootstrap.email} with BOOTSTRAP_ADMIN_API_KEY`);
  }
  log.info(`role ${config.role}; listening on ${app.url}${config.role === 'worker' ? ' (/healthz)' : ' (GraphQL at /graphql, websocket subscriptions at /graphql, /healthz, REST at /api/v2)'}`);
}

run().catch((err) => {
  // a database error quotes values; anything else that stops the start is the operator's to read
  process.stderr.write(`deskhooks: could not start: ${isDatabaseError(err) ? describeError(err, { stack: false }) : err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
