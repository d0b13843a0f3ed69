/**
 * `npm start`: reads the environment, starts deskhooks, prints where it listens (and a
 * generated admin key, once), and stops cleanly on SIGTERM/SIGINT within 10 s.
 */
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './log.js';
import { startDeskhooks } from './main.js';

const STOP_DEADLINE_MS = 9_000;

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
  const log = createLogger(config.logLevel);
  const app = await startDeskhooks(config, { log, stopGraceMs: 5_000 });
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

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    const deadline = setTimeout(() => {
      log.error(`did not stop within ${STOP_DEADLINE_MS} ms; exiting anyway (unfinished deliveries are retried after their claim expires)`);
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    app
      .stop()
      .then(() => {
        log.info('stopped');
        // Agenda and pg leave timers behind after stop(): exit explicitly
        process.exit(0);
      })
      .catch((err) => {
        log.error('stop failed', err);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

run().catch((err) => {
  console.error(`deskhooks: could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
