/**
 * The composition root: config → database → job engine → HTTP server. The only module
 * that wires everything; src/cli.ts runs it as a process, the tests in-process.
 */
import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Config } from './config.js';
import { startEmbeddedPostgres, type EmbeddedServer, openOrm, openRequestOrm, type Orm, createListener, closeOnQueryTimeout, poolEnd, poolTransactions, prepareStatementsOf, reportConnectionErrors, statementCanceller, withStatementOnError, SESSION_SETTINGS, DELIVERY_SESSION_SETTINGS, DISPATCH_SESSION_SETTINGS } from './db/index.js';
import { createSecretBox, loadSecretKey } from './crypto/index.js';
import { createLogger, type Logger } from './log.js';
import { describeError, isDatabaseError } from './log-redact.js';
import { announceTicketEvents, bootstrapAdmin, createCustomFieldService, createTicketService, createUserService, TICKET_EVENTS_CHANNEL } from './helpdesk/index.js';
import {
  createDeliveryService,
  createWebhookService,
  isAttemptInFlight,
  createDeliveryEventHub,
  feedLoader,
  DeliveryWorker,
  createSender,
  createRetryPolicy,
  startDeadlineMs,
  createWorkerStore,
  createWebhookHealthService,
  DELIVERIES_CHANNEL,
  DELIVERY_EVENTS_CHANNEL,
  DeliveryTextIndexer,
  releaseWaitingTurns,
  unopenableSecrets,
} from './delivery/index.js';
import { batchEventHandler, createDefinitionCache, createRuleService, DEFINITIONS_CHANNEL, DISPATCH_LANES, Dispatcher, outboxStore, TimerLoop, TIMERS_CHANNEL } from './dispatcher/index.js';
import { createJobEngine } from './queue/index.js';
import type { AppServices } from './app-services.js';
import type { HttpApp, HttpAppOptions } from './http/index.js';

/** The one-off job that wakes the delivery worker at a retry's time. */
const DELIVERIES_DRAIN_JOB = 'deliveries.drain';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface RunningApp {
  /** http://host:port */
  url: string;
  port: number;
  databaseUrl: string;
  services: AppServices;
  worker: DeliveryWorker | null;
  dispatcher: Dispatcher | null;
  /** set when an admin was created with a generated key (print it once) */
  bootstrap: { email?: string; generatedKey?: string; created: boolean };
  stop(): Promise<void>;
  /** while stop() runs: the part being stopped (for a log line when a stop overruns) */
  stopping(): string | null;
}

export interface StartOptions {
  log?: Logger;
  clock?: () => Date;
  /** time an in-flight attempt gets to finish at stop before it is released */
  stopGraceMs?: number;
  /** false: role all without its delivery worker (src/cli.ts runs it in a thread) */
  worker?: boolean;
  /** false: no HTTP server (an engine thread: the process's main thread serves HTTP) */
  http?: boolean;
  /**
   * whether the dispatcher (with its timers) runs here; default: where the API runs.
   * src/cli.ts runs it in a thread of its own: false on the main thread, true in that thread
   */
  dispatcher?: boolean;
  /**
   * Wakes this process's dispatcher when it runs outside this app (src/cli.ts's thread), for
   * the tickets the API commits here; false when it no longer runs (the events are then
   * announced to the other processes' dispatchers, as when this app's own has stopped)
   */
  dispatchElsewhere?: () => boolean;
  /** stopped side by side with the HTTP server and the worker, before anything they use (src/cli.ts's engine threads) */
  stopAlongside?: () => Promise<void>;
  /**
   * Called when this process's dispatcher has committed new deliveries, for a delivery
   * worker outside it (src/cli.ts's delivery thread): woken at once, not a notification's
   * round trip through PostgreSQL later (other processes still hear that one)
   */
  deliveriesQueued?: () => void;
  /**
   * Called with the PostgreSQL sessions of this process's dispatcher whenever they change,
   * for a delivery worker outside it that deliveriesQueued wakes (src/cli.ts's delivery thread)
   */
  dispatcherSessions?: (sessions: number[]) => void;
  /**
   * The PostgreSQL sessions whose new deliveries wake this process's worker directly (the
   * dispatcher's of the process it runs in, src/cli.ts): their notifications do not wake it again
   */
  wokenDirectlyBy?: ReadonlySet<number>;
}

/** How long /healthz waits for the database's answer to its `select 1`. */
const HEALTH_DATABASE_MS = 2_000;

/** Whether `query` answers (without an error) within `ms`. */
function answersWithin(query: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([query.then(() => true, () => false), late]).finally(() => clearTimeout(timer));
}

/**
 * The HTTP server: the GraphQL schema, REST, the console and /healthz. Its stack (Apollo,
 * type-graphql, express, graphql-ws) is imported here, where HTTP is served: an engine
 * thread (http: false) starts without loading it, about 0.7 s of CPU less for each.
 */
async function serveHttp(services: AppServices, isReady: () => Promise<boolean>, opts: HttpAppOptions): Promise<HttpApp> {
  const [{ buildGraphQLSchema }, { createHttpApp }] = await Promise.all([import('./resolvers/index.js'), import('./http/index.js')]);
  return createHttpApp(services, await buildGraphQLSchema(), isReady, opts);
}

/** How long a start waits for the database to accept its first connection (as the pool waits for one). */
const START_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The start's first connection. A database that refuses it, or does not answer within
 * START_CONNECT_TIMEOUT_MS (a host that takes the connection and never replies), stops the
 * start with one message naming where it was sought: DATABASE_URL's host, port and
 * database (never its password), or the embedded server.
 */
async function connectAtStart(url: string, configured: boolean): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: START_CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => {});
    const u = new URL(url);
    const where = `${decodeURIComponent(u.hostname)}:${u.port || '5432'}${decodeURIComponent(u.pathname)}`;
    const what = configured ? `the database of DATABASE_URL (${where})` : `the embedded PostgreSQL (${where})`;
    const timedOut = err instanceof Error && /timeout/i.test(err.message) && !isDatabaseError(err);
    const reason = timedOut ? `it did not answer within ${START_CONNECT_TIMEOUT_MS / 1000} s` : isDatabaseError(err) ? describeError(err, { stack: false }) : err instanceof Error ? err.message : String(err);
    throw new Error(`could not connect to ${what}: ${reason}`, { cause: err });
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Makes a folder and its missing parents one level at a time. Node's recursive mkdir loops
 * for ever where a parent exists but refuses new entries with ENOENT (/proc, /sys); here
 * that error is thrown.
 */
function makeFolder(path: string): void {
  if (existsSync(path)) return;
  const parent = dirname(path);
  if (parent !== path) makeFolder(parent);
  try {
    mkdirSync(path);
  } catch (err) {
    // another process sharing DATA_DIR made it meanwhile
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * DATA_DIR holds the embedded PostgreSQL and the generated secret key: where either is
 * needed, the folder is made and written once before anything starts, so that one that
 * cannot be (under a file, on a read-only file system, not this user's) is refused with a
 * message naming DATA_DIR, not with the first file operation's error.
 */
function prepareDataDir(config: Config): void {
  if (config.databaseUrl && config.secretKey) return;
  // a name of its own: the delivery thread starts in the same process, and other processes may share DATA_DIR
  const probe = join(config.dataDir, `.write-check-${randomUUID()}`);
  try {
    makeFolder(config.dataDir);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    // node's message, "EROFS: read-only file system, mkdir '…'", without the operation and path
    const why = (err as Error).message.split(',')[0];
    throw new Error(`DATA_DIR ${config.dataDir} cannot be used (${why}): set DATA_DIR to a folder this user can create and write`, { cause: err });
  }
}

export async function startDeskhooks(config: Config, opts: StartOptions = {}): Promise<RunningApp> {
  const log = opts.log ?? createLogger(config.logLevel);
  // stopped in reverse order of start: HTTP first, the database last
  const cleanups: [string, () => Promise<unknown>][] = [];
  const onStop = (name: string, fn: () => Promise<unknown>) => cleanups.push([name, fn]);
  let stopping: string | null = null;
  const stopAll = async () => {
    for (const [name, fn] of cleanups.reverse()) {
      log.debug(`stopping: ${name}`);
      stopping = name;
      await fn().catch((err) => log.error(`while stopping ${name}`, err));
    }
    stopping = null;
  };
  try {
    prepareDataDir(config);
    let databaseUrl = config.databaseUrl;
    let embedded: EmbeddedServer | null = null;
    if (!databaseUrl) {
      log.info(`starting the embedded PostgreSQL in ${config.dataDir}`);
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log: (l) => log.debug(l) });
      onStop('embedded PostgreSQL', () => embedded!.stop());
      databaseUrl = await ensureDatabase(embedded.url, 'deskhooks');
    }
    // Several processes may start at once on an empty database (scaling out): migrations
    // and the bootstrap admin run under an advisory lock, one process after the other.
    const startLock = await connectAtStart(databaseUrl, embedded === null);
    let orm: Orm;
    let bootstrap: Awaited<ReturnType<typeof bootstrapAdmin>>;
    try {
      await startLock.query(`select pg_advisory_lock(hashtext('deskhooks:start'))`);
      orm = await openOrm(databaseUrl, {}, log);
      onStop('ORM', () => orm.close());
      bootstrap = await bootstrapAdmin(orm.em.fork(), config.bootstrapAdminEmail, config.bootstrapAdminApiKey);
    } finally {
      await startLock.end().catch(() => {}); // ending the session releases the lock
    }
    // the engines' connections (API requests have their own, below): a delivery worker's
    // claims and outcomes take several at once; the dispatcher, timers and indexer a few
    const runsWorker = config.role !== 'api' && opts.worker !== false;
    const runsApi = config.role !== 'worker';
    const runsDispatcher = opts.dispatcher ?? runsApi;
    const settings = config.role === 'worker' && !runsDispatcher ? DELIVERY_SESSION_SETTINGS : SESSION_SETTINGS;
    const pool = new pg.Pool({ connectionString: databaseUrl, max: runsWorker ? 20 : 10, connectionTimeoutMillis: 10_000, keepAlive: true, ...settings });
    // a connection's error (a database restart) must not kill the process
    reportConnectionErrors(pool, (err) => log.error('database connection error', err.message));
    prepareStatementsOf(pool);
    onStop('database pool', poolEnd(pool));
    // API requests (and /healthz) on connections of their own, each statement answered within
    // DESKHOOKS_DATABASE_TIMEOUT or failed as the database out of reach (SERVICE_UNAVAILABLE):
    // a frozen database does not hold a request, and the engines' longer work is not cut
    const requestPool = new pg.Pool({
      connectionString: databaseUrl,
      max: 10,
      connectionTimeoutMillis: config.databaseTimeoutMs,
      query_timeout: config.databaseTimeoutMs,
      keepAlive: true,
      ...SESSION_SETTINGS,
    });
    reportConnectionErrors(requestPool, (err) => log.error('database connection error', err.message));
    requestPool.on('connect', (client) => closeOnQueryTimeout(client));
    prepareStatementsOf(requestPool);
    onStop('request database pool', poolEnd(requestPool));
    // a process that serves no API (a worker, the delivery thread) has no requests for it
    const requestOrm = opts.http === false || config.role === 'worker' ? orm : await openRequestOrm(databaseUrl, config.databaseTimeoutMs, log);
    if (requestOrm !== orm) onStop('request ORM', () => requestOrm.close());

    const secretBox = createSecretBox(loadSecretKey(config.secretKey, config.dataDir));
    // a key other than the one the stored secrets were sealed with is said at start (once per
    // process: not again by the delivery thread), not only by each delivery it fails
    if (opts.http !== false) {
      await unopenableSecrets(pool, secretBox).then(
        ({ unopenable, withSecrets }) =>
          unopenable.length &&
          log.error(
            `DESKHOOKS_SECRET_KEY: the stored secrets of ${unopenable.length} of ${withSecrets} webhooks with secrets (ids ${unopenable.slice(0, 20).join(', ')}${unopenable.length > 20 ? ', …' : ''}) cannot be opened with this process's key (${config.secretKey ? 'DESKHOOKS_SECRET_KEY' : `generated in ${config.dataDir}`}), so their deliveries fail unsent here: give every process the same DESKHOOKS_SECRET_KEY, or re-enter those secrets after replacing it`,
          ),
        (err) => log.error('checking the stored secrets against DESKHOOKS_SECRET_KEY failed', err),
      );
    }
    // the services resolvers and REST are handed (src/app-services.ts); deliveries below
    const users = createUserService({ db: withStatementOnError(requestPool), attemptInFlight: isAttemptInFlight });
    const customFields = createCustomFieldService();
    const rules = createRuleService();
    const webhooks = createWebhookService({ box: secretBox, userAgent: `deskhooks/${VERSION}`, rulesUsing: rules.usingWebhook, clock: opts.clock, publicUrl: config.publicUrl });

    const clock = opts.clock ?? (() => new Date());
    const deliveries = createDeliveryService(secretBox, `deskhooks/${VERSION}`, clock, config.publicUrl ?? null);
    const deliveryEvents = createDeliveryEventHub(feedLoader(pool), (m, e) => log.error(m, e));
    const listener = createListener(databaseUrl, log);

    // The job engine first: the worker hands it its retry times, and its jobs wake the engines
    // (none where no engine runs: role all's main thread, which serves the API alone).
    const jobs = !runsWorker && !runsDispatcher ? null : await createJobEngine({
      pool,
      mongodbUrl: config.mongodbUrl,
      log,
      name: `deskhooks-${config.role}-${process.pid}`,
      // a retry is picked up within a quarter of the retry interval of its time
      pickupMs: config.retryIntervalMs / 4,
      listener,
    });
    // the search texts of deliveries are written where deliveries are sent (text-indexer.ts)
    const textIndexer = runsWorker ? new DeliveryTextIndexer({ db: withStatementOnError(pool), log }) : null;
    const worker = jobs && runsWorker
      ? new DeliveryWorker({
          store: createWorkerStore(pool, orm, log, {
            probeIntervalMs: config.breakerProbeIntervalMs,
            retryWindowMs: config.retryWindowMs,
            startDeadlineMs: startDeadlineMs({ intervalMs: config.retryIntervalMs, windowMs: config.retryWindowMs }),
          }),
          sender: createSender({ timeoutMs: config.requestTimeoutMs, allowPrivateNetworks: config.allowPrivateNetworks }),
          policy: createRetryPolicy({ intervalMs: config.retryIntervalMs, windowMs: config.retryWindowMs }),
          box: secretBox,
          log,
          concurrency: config.workerConcurrency,
          // longer than any attempt (the timeout) plus its recording; then another worker takes over
          leaseMs: 2 * config.requestTimeoutMs + 5_000,
          scheduleRetry: (at) => jobs.runAt(DELIVERIES_DRAIN_JOB, at),
          recorded: () => textIndexer?.wake(),
          clock,
        })
      : null;
    const definitions = createDefinitionCache((w) => deliveries.webhookDef(w));
    // the dispatcher's connections pipeline (a batch's statements that need no answer in
    // between go in one round trip: src/db/sql.ts Transactions): per lane, one for its batch,
    // one for a claim; their commits do not wait for the disk (DISPATCH_SESSION_SETTINGS)
    const dispatchPool = runsDispatcher ? new pg.Pool({ connectionString: databaseUrl, max: 2 * DISPATCH_LANES, connectionTimeoutMillis: 10_000, keepAlive: true, pipeline: true, ...DISPATCH_SESSION_SETTINGS }) : null;
    /** the PostgreSQL sessions of the dispatcher here: the deliveries they commit wake the worker here directly (deliveriesQueued) */
    const dispatcherSessions = new Set<number>();
    if (dispatchPool) {
      reportConnectionErrors(dispatchPool, (err) => log.error('database connection error', err.message));
      prepareStatementsOf(dispatchPool);
      onStop('dispatcher database pool', poolEnd(dispatchPool));
      const sessionsChanged = (client: pg.PoolClient, joined: boolean) => {
        // node-postgres keeps the session's backend process id from the startup, untyped
        const session = (client as unknown as { processID: number | null }).processID;
        if (session === null) return;
        if (joined) dispatcherSessions.add(session);
        else dispatcherSessions.delete(session);
        opts.dispatcherSessions?.([...dispatcherSessions]);
      };
      dispatchPool.on('connect', (client) => sessionsChanged(client, true));
      dispatchPool.on('remove', (client) => sessionsChanged(client, false));
    }
    const dispatcher = dispatchPool
      ? new Dispatcher({
          outbox: outboxStore(dispatchPool),
          events: batchEventHandler({ orm, transactions: poolTransactions(dispatchPool), cancelStatement: statementCanceller(databaseUrl), deliveries, definitions, log, clock, deliveriesQueued: () => {
            void worker?.wake();
            opts.deliveriesQueued?.();
          } }),
          log,
          clock,
          lanes: DISPATCH_LANES,
        })
      : null;
    // Ticket events committed without a NOTIFY (the dispatcher here takes them) are announced
    // to the other processes' dispatchers when this one no longer takes work; a failure is
    // logged, their sweep finds the events.
    const announceElsewhere = () => announceTicketEvents(pool).catch((err) => log.error('could not wake the dispatchers of the other processes; their sweep finds the events', err));
    // tickets created here go to this process's dispatcher (here or in its own thread) without
    // a NOTIFY, unless it no longer runs
    const wakeDispatcherHere = dispatcher ? () => dispatcher.wakeForNewTickets() : opts.dispatchElsewhere;
    const tickets = createTicketService({
      db: withStatementOnError(requestPool),
      dispatchHere: wakeDispatcherHere
        ? async () => {
            if (!wakeDispatcherHere()) await announceElsewhere();
          }
        : undefined,
    });
    // the TIMER rules' timers fire where the dispatcher runs; several processes share them (timers.ts)
    const timers = dispatcher ? new TimerLoop({ db: withStatementOnError(pool), log, clock, raised: () => void dispatcher.wake() }) : null;
    if (jobs && worker) {
      // the jobs wake the worker and end: its drain logs its own errors, and a job slot held
      // by a drain waiting on a silent receiver would hold back the next retry's wake-up
      const wake = () => void worker.wake();
      jobs.define(DELIVERIES_DRAIN_JOB, wake, { concurrency: 4, oneOff: true });
      // also takes over the deliveries whose claim expired (a worker killed mid-attempt), and
      // writes the search texts left over (a process that stopped before its indexer ran)
      jobs.define('deliveries.sweep', async () => {
        // and gives PER_TICKET deliveries the turn their triggers could not give (store.ts)
        await releaseWaitingTurns(pool).catch((err) => log.error('giving waiting PER_TICKET deliveries their turn failed; the next sweep tries again', err));
        wake();
        textIndexer?.wake();
      });
      jobs.every('deliveries.sweep', config.sweepIntervalMs);
    }
    if (jobs && dispatcher) {
      // the ticket events left over (a lost notification, a process that died); it wakes the
      // dispatcher and ends, as the worker's jobs do: a run held by a long drain would keep the
      // sweep from the other processes and be cancelled by the job engine at its lock's end
      jobs.define('dispatcher.sweep', () => void dispatcher.wake());
      jobs.every('dispatcher.sweep', config.sweepIntervalMs);
    }

    // registered before the listener starts: it listens on them as it connects
    if (worker) {
      // new deliveries of this process's dispatcher have woken the worker already (other
      // processes' workers still hear them); a worker awake claims once more for nothing
      const wokenDirectly = (session: number) => dispatcherSessions.has(session) || (opts.wokenDirectlyBy?.has(session) ?? false);
      void listener.on(DELIVERIES_CHANNEL, (_, session) => {
        if (!wokenDirectly(session)) void worker.wake();
        textIndexer?.wake();
      });
    }
    if (dispatcher) {
      void listener.on(DEFINITIONS_CHANNEL, () => definitions.invalidate());
      void listener.on(TICKET_EVENTS_CHANNEL, () => void dispatcher.wake());
    }
    if (timers) void listener.on(TIMERS_CHANNEL, () => void timers.wake());
    if (runsApi) void listener.on(DELIVERY_EVENTS_CHANNEL, (payload) => deliveryEvents.receive(payload));
    listener.onReconnect(() => {
      void worker?.wake();
      textIndexer?.wake();
      void dispatcher?.wake();
      void timers?.wake();
    });
    await listener.start();
    onStop('notification listener', () => listener.stop());
    if (jobs) {
      await jobs.start();
      onStop('job engine', () => jobs.stop());
    }
    if (dispatcher) {
      // a wake-up it took while stopping is the other processes' to answer
      onStop('dispatcher', () => dispatcher.stop().then(announceElsewhere));
    }
    if (timers) onStop('timers', () => timers.stop());
    if (textIndexer) onStop('search text indexer', () => textIndexer.stop());

    const webhookHealth = createWebhookHealthService(withStatementOnError(requestPool), clock);
    const services: AppServices = { config, orm: requestOrm, log, users, tickets, customFields, webhooks, rules, deliveries, deliveryEvents, webhookHealth };
    // ready: the job engine runs (where there is one), the database answers (within HEALTH_DATABASE_MS: a database
    // that hangs is not ready, and a load balancer's probe gets its answer), and wake-ups /
    // the live feed are heard
    const isReady = async () => (jobs?.ready ?? true) && listener.connected && (await answersWithin(requestPool.query('select 1'), HEALTH_DATABASE_MS));
    const app = opts.http === false ? null : await serveHttp(services, isReady, { api: runsApi, notifications: listener });
    const port = app ? await app.listen(config.port, config.host) : 0;
    // side by side, so that the stop stays within 10 s: requests get 3 s, attempts 5 s
    onStop('HTTP server and delivery worker', () => Promise.all([app?.close(), worker?.stop(opts.stopGraceMs ?? 5_000), opts.stopAlongside?.()]));
    // catch up on whatever was left: events and deliveries of an earlier run, timers that came due meanwhile
    void dispatcher?.wake();
    void timers?.wake();
    void worker?.wake();
    textIndexer?.wake();

    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    return {
      url: `http://${shownHost}:${port}`,
      port,
      databaseUrl,
      services,
      worker,
      dispatcher,
      bootstrap,
      stop: stopAll,
      stopping: () => stopping,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
