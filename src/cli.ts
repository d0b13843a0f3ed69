/**
 * `npm start`: reads the environment, starts deskhooks, prints where it listens (and a
 * generated admin key, once), and stops cleanly within 10 s on SIGTERM, SIGINT or SIGHUP,
 * or when the `npm start` command that ran it is gone (src/launcher.ts).
 *
 * With DESKHOOKS_ROLE=all (the default) the delivery worker runs in a worker thread of
 * its own, as a `worker` role on the same database: HTTP, GraphQL and the dispatcher on
 * the main thread, sending on a second core (DESKHOOKS_DELIVERY_THREAD=false keeps both
 * on one thread). The main thread owns the process: it starts the thread once it has
 * started itself, stops it first, and stops the process if the thread fails.
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { checkListenHost, ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, redactConsole, type Logger } from './log.js';
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
    await checkListenHost(config.host, config.port);
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
      // what hung, and what becomes of the work it held: not only deliveries (a dispatcher's batch waiting on a lock)
      const part = state.app ? state.app.stopping() : 'the start';
      log.error(`did not stop within ${STOP_DEADLINE_MS} ms${part ? ` (still stopping: ${part})` : ''}; exiting anyway: the work it had claimed (ticket events, delivery attempts) is rolled back and taken over by another process, or the next start, once its claim expires`);
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

  const inThread = config.role === 'all' && config.deliveryThread;
  // created first, so that it loads its modules while the main thread starts
  const thread = inThread ? startDeliveryThread(log, (reason) => stop(reason, 1)) : null;
  const app = await startDeskhooks(config, {
    log,
    stopGraceMs: 5_000,
    worker: !inThread,
    stopAlongside: async () => thread?.stop(),
    deliveriesQueued: () => thread?.wake(),
    dispatcherSessions: (sessions) => thread?.dispatcherSessions(sessions),
  });
  state.app = app;
  // it catches up on due deliveries when it has started (a worker's start drains)
  thread?.run(app.databaseUrl);
  // the first administrator's key exists only in this output: shown even when a stop came while starting;
  // a worker serves no API, so it names where the key is used instead of its own /graphql
  if (app.bootstrap.generatedKey) {
    const key = app.bootstrap.generatedKey;
    console.log(
      [
        '',
        '  No users yet: created the administrator admin@localhost.',
        `  API key (shown once, keep it): ${key}`,
        ...(config.role === 'worker'
          ? ['  This worker process serves only /healthz: use the key on an api process (DESKHOOKS_ROLE=api or all) on this database.']
          : [
              `  Try: curl -s -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\`,
              `         -d '{"query":"{ me { email role } }"}' ${app.url}/graphql`,
            ]),
        '',
      ].join('\n'),
    );
  } else if (app.bootstrap.created) {
    log.info(`created the administrator ${app.bootstrap.email} with BOOTSTRAP_ADMIN_API_KEY`);
  }
  if (state.stopCode !== null) return void finish(app, state.stopCode);
  log.info(`role ${config.role}${inThread ? ' (deliveries in a thread of their own)' : ''}; listening on ${app.url}${config.role === 'worker' ? ' (/healthz)' : ' (GraphQL at /graphql, websocket subscriptions at /graphql, /healthz, REST at /api/v2)'}`);
}

/** What stopped a start, for the operator: a database error quotes values, so only its shape is shown. */
function startFailure(err: unknown): string {
  return isDatabaseError(err) ? describeError(err, { stack: false }) : err instanceof Error ? err.message : String(err);
}

/** Messages between the main thread and the delivery thread. */
type ToThread = { run: string } | { dispatcherSessions: number[] } | 'wake' | 'stop';
type FromThread = 'started';

/**
 * Starts this file again as the delivery thread; `run(databaseUrl)` starts its worker on
 * the main thread's database (an embedded one included). `failed` is called when it fails
 * or exits unasked.
 */
function startDeliveryThread(
  log: Logger,
  failed: (reason: string) => void,
): { run: (databaseUrl: string) => void; wake: () => void; dispatcherSessions: (sessions: number[]) => void; stop: () => Promise<void> } {
  const thread = new Worker(new URL(import.meta.url));
  let stopping = false;
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  thread.on('message', (m: FromThread) => m === 'started' && log.info('delivery thread started'));
  thread.once('error', (err) => failed(`the delivery thread failed: ${err instanceof Error ? err.message : String(err)}`));
  thread.once('exit', (code) => !stopping && failed(`the delivery thread exited (code ${code})`));
  return {
    run: (databaseUrl) => thread.postMessage({ run: databaseUrl } satisfies ToThread),
    // new deliveries: its worker claims them now (a wake-up before it runs is not needed: it drains at start)
    wake: () => !stopping && thread.postMessage('wake' satisfies ToThread),
    // the main thread's dispatcher's PostgreSQL sessions: their deliveries come with wake() above
    dispatcherSessions: (sessions) => !stopping && thread.postMessage({ dispatcherSessions: sessions } satisfies ToThread),
    async stop() {
      stopping = true;
      thread.postMessage('stop' satisfies ToThread);
      await exited;
    },
  };
}

/** The delivery thread: the `worker` role without HTTP, started and stopped by the main thread. */
function deliveryThread(): void {
  let app: RunningApp | null = null;
  let starting: Promise<void> | null = null;
  let log: Logger | null = null;
  /** the main thread's dispatcher's sessions: the deliveries they commit come with a 'wake' */
  const wokenDirectlyBy = new Set<number>();
  const fail = (err: unknown) => {
    process.stderr.write(`deskhooks: the delivery thread failed: ${startFailure(err)}\n`);
    process.exit(1);
  };
  parentPort!.on('message', (m: ToThread) => {
    if (m === 'wake') {
      void app?.worker?.wake();
      return;
    }
    if (typeof m === 'object' && 'dispatcherSessions' in m) {
      wokenDirectlyBy.clear();
      for (const session of m.dispatcherSessions) wokenDirectlyBy.add(session);
      return;
    }
    if (m !== 'stop') {
      starting ??= (async () => {
        const config = loadConfig({ ...process.env, DESKHOOKS_ROLE: 'worker', DATABASE_URL: m.run });
        redactConsole();
        log = createLogger(config.logLevel);
        app = await startDeskhooks(config, { log, stopGraceMs: 5_000, http: false, wokenDirectlyBy });
        parentPort!.postMessage('started' satisfies FromThread);
      })();
      starting.catch(fail);
      return;
    }
    // a stop during the start waits for it; Agenda and pg leave timers behind: end the thread explicitly
    void (starting ?? Promise.resolve())
      .then(() => app?.stop())
      .catch((err) => log?.error('the delivery thread did not stop cleanly', err))
      .finally(() => process.exit(0));
  });
}

if (!isMainThread) deliveryThread();
else run().catch((err) => {
  process.stderr.write(`deskhooks: could not start: ${startFailure(err)}\n`);
  process.exit(1);
});
