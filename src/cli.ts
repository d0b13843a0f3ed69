/**
 * `npm start`: reads the environment, starts deskhooks, prints where it listens (and a
 * generated admin key, once), and stops cleanly within 10 s on SIGTERM, SIGINT or SIGHUP,
 * or when the `npm start` command that ran it is gone (src/launcher.ts).
 *
 * With DESKHOOKS_ROLE=all (the default) the engines run in worker threads of their own,
 * on the same database: the main thread serves HTTP (GraphQL, REST, the console), one
 * thread runs the dispatcher (its rules and timers) and one the delivery worker
 * (DESKHOOKS_DELIVERY_THREAD=false keeps everything on one thread). Each thread's event
 * loop then answers its own database round trips: a dispatcher's batch does not wait
 * behind the requests being served, nor a send behind a batch. The main thread wakes the
 * dispatcher's thread for the tickets it commits, and that thread the delivery thread for
 * the deliveries it commits (a MessageChannel between them). The main thread owns the
 * process: it starts the threads once it has started itself, stops them first, and stops
 * the process if one fails.
 */
import { isMainThread, MessageChannel, parentPort, workerData, Worker, type MessagePort } from 'node:worker_threads';
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
  // created first, so that they load their modules while the main thread starts
  const threads = inThread ? { deliveries: startEngineThread('deliveries', log, (reason) => stop(reason, 1)), dispatcher: startEngineThread('dispatcher', log, (reason) => stop(reason, 1)) } : null;
  const app = await startDeskhooks(config, {
    log,
    stopGraceMs: 5_000,
    worker: !inThread,
    dispatcher: !inThread,
    dispatchElsewhere: threads ? () => threads.dispatcher.dispatch() : undefined,
    stopAlongside: async () => void (await Promise.all([threads?.dispatcher.stop(), threads?.deliveries.stop()])),
  });
  state.app = app;
  // they catch up on what is due when they have started (an engine's start drains)
  if (threads) {
    const { port1, port2 } = new MessageChannel();
    threads.deliveries.run(app.databaseUrl, port1);
    threads.dispatcher.run(app.databaseUrl, port2);
  }
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
  log.info(`role ${config.role}${inThread ? ' (the dispatcher and the deliveries in threads of their own)' : ''}; listening on ${app.url}${config.role === 'worker' ? ' (/healthz)' : ' (GraphQL at /graphql, websocket subscriptions at /graphql, /healthz, REST at /api/v2)'}`);
}

/** What stopped a start, for the operator: a database error quotes values, so only its shape is shown. */
function startFailure(err: unknown): string {
  return isDatabaseError(err) ? describeError(err, { stack: false }) : err instanceof Error ? err.message : String(err);
}

/** Messages from the main thread to an engine thread. */
type ToThread = { run: string; peer: MessagePort } | 'dispatch' | 'stop';
/** Messages from the dispatcher's thread to the delivery thread (their `peer` port). */
type ToPeer = { dispatcherSessions: number[] } | 'wake';
type FromThread = 'started';
/** what an engine thread runs */
type Part = 'deliveries' | 'dispatcher';
const THREAD_NAMES: Record<Part, string> = { deliveries: 'delivery thread', dispatcher: "dispatcher's thread" };

interface EngineThread {
  /** starts it on the main thread's database (an embedded one included); `peer`: its port to the other engine thread */
  run: (databaseUrl: string, peer: MessagePort) => void;
  /** wakes the dispatcher (new ticket events); false once the thread is being stopped: the caller announces them elsewhere */
  dispatch: () => boolean;
  stop: () => Promise<void>;
}

/** Starts this file again as the engine thread of `part`; `failed` is called when it fails or exits unasked. */
function startEngineThread(part: Part, log: Logger, failed: (reason: string) => void): EngineThread {
  const thread = new Worker(new URL(import.meta.url), { workerData: { part } });
  const name = THREAD_NAMES[part];
  let stopping = false;
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  thread.on('message', (m: FromThread) => m === 'started' && log.info(`${name} started`));
  thread.once('error', (err) => failed(`the ${name} failed: ${err instanceof Error ? err.message : String(err)}`));
  thread.once('exit', (code) => !stopping && failed(`the ${name} exited (code ${code})`));
  return {
    run: (databaseUrl, peer) => thread.postMessage({ run: databaseUrl, peer } satisfies ToThread, [peer]),
    // a wake-up sent before 'stop' is taken before it; one after is the caller's to announce
    dispatch: () => {
      if (stopping) return false;
      thread.postMessage('dispatch' satisfies ToThread);
      return true;
    },
    async stop() {
      stopping = true;
      thread.postMessage('stop' satisfies ToThread);
      await exited;
    },
  };
}

/**
 * An engine thread, started and stopped by the main thread: deskhooks without HTTP running
 * `part`, the delivery worker (as the `worker` role) or the dispatcher.
 */
function engineThread(part: Part): void {
  let app: RunningApp | null = null;
  let starting: Promise<void> | null = null;
  let log: Logger | null = null;
  /** the delivery thread: the dispatcher's thread's sessions, whose deliveries come with a 'wake' */
  const wokenDirectlyBy = new Set<number>();
  const fail = (err: unknown) => {
    process.stderr.write(`deskhooks: the ${THREAD_NAMES[part]} failed: ${startFailure(err)}\n`);
    process.exit(1);
  };
  const onPeer = (m: ToPeer) => {
    if (m === 'wake') void app?.worker?.wake();
    else if (typeof m === 'object' && 'dispatcherSessions' in m) {
      wokenDirectlyBy.clear();
      for (const session of m.dispatcherSessions) wokenDirectlyBy.add(session);
    }
  };
  parentPort!.on('message', (m: ToThread) => {
    if (m === 'dispatch') {
      // not started yet: its start drains; stopping: its stop announces what is left to the other processes
      app?.dispatcher?.wakeForNewTickets();
      return;
    }
    if (typeof m === 'object' && 'run' in m) {
      const peer = m.peer;
      peer.on('message', onPeer);
      starting ??= (async () => {
        const config = loadConfig({ ...process.env, DESKHOOKS_ROLE: 'worker', DATABASE_URL: m.run });
        redactConsole();
        log = createLogger(config.logLevel);
        app = await startDeskhooks(
          config,
          part === 'deliveries'
            ? { log, stopGraceMs: 5_000, http: false, wokenDirectlyBy }
            : {
                log,
                http: false,
                worker: false,
                dispatcher: true,
                deliveriesQueued: () => peer.postMessage('wake' satisfies ToPeer),
                dispatcherSessions: (sessions) => peer.postMessage({ dispatcherSessions: sessions } satisfies ToPeer),
              },
        );
        parentPort!.postMessage('started' satisfies FromThread);
      })();
      starting.catch(fail);
      return;
    }
    if (m !== 'stop') return;
    // a stop during the start waits for it; Agenda and pg leave timers behind: end the thread explicitly
    void (starting ?? Promise.resolve())
      .then(() => app?.stop())
      .catch((err) => log?.error(`the ${THREAD_NAMES[part]} did not stop cleanly`, err))
      .finally(() => process.exit(0));
  });
}

if (!isMainThread) engineThread((workerData as { part: Part }).part);
else run().catch((err) => {
  process.stderr.write(`deskhooks: could not start: ${startFailure(err)}\n`);
  process.exit(1);
});
