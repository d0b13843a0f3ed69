/**
 * The job engine (Agenda): durable timing for the work queues — a wake-up at a given
 * time (a retry), and sweeps at a fixed interval that take over work left by a process
 * that died (an expired claim, an event whose lease ran out). It carries no work itself:
 * one job per delivery is measured to cap at ~500/s, so jobs only wake the queues, which
 * claim their rows in batches. The job store is PostgreSQL, or MongoDB with MONGODB_URL.
 * It knows no queue: the composition root (src/main.ts) defines the jobs.
 */
import { Agenda } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import pg from 'pg';
import type { Logger } from '../log.js';
import { ListenerJobNotifications, type NotificationSource } from './job-notifications.js';

export interface JobEngineOptions {
  pool: pg.Pool;
  mongodbUrl?: string;
  log: Logger;
  /** this process, as the job store records who locked a job */
  name: string;
  /** a timed wake-up runs at most this late (Agenda's processEvery, kept within 100 ms … 5 s) */
  pickupMs: number;
  /**
   * the process's LISTEN connection, for the PostgreSQL job store: a job saved for now by
   * any process runs at once; without it, at the next pickup
   */
  listener?: NotificationSource;
}

export interface JobOptions {
  /** runs of this job at once in this process */
  concurrency?: number;
  /** a one-off job (runAt): its record is deleted once it ran */
  oneOff?: boolean;
}

export interface JobEngine {
  /** What runs for `name` (define before start()). A job's run ends when `run` resolves; stop() waits for the runs under way. */
  define(name: string, run: () => Promise<void> | void, opts?: JobOptions): void;
  /** Runs `name` every `intervalMs` (whole seconds), from start() on, once at a time across processes. */
  every(name: string, intervalMs: number): void;
  /**
   * Runs `name` once at `at` or up to one slice later: the times within a slice share one
   * run, at the end of the slice, so every time in it is reached when it runs. A slice
   * is saved once by this process, and once in the job store when processes save it one
   * after the other; two processes saving the same slice at the same moment may both
   * insert it (the store checks, then inserts), which makes a second, harmless wake-up.
   */
  runAt(name: string, at: Date): void;
  start(): Promise<void>;
  readonly ready: boolean;
  stop(): Promise<void>;
}

/** the channel of the job store's notifications, as @agendajs/postgres-backend names it */
const JOBS_CHANNEL = 'agenda_jobs';

export async function createJobEngine(opts: JobEngineOptions): Promise<JobEngine> {
  const { log } = opts;
  const processEvery = Math.min(5_000, Math.max(100, Math.floor(opts.pickupMs)));
  let backend: ConstructorParameters<typeof Agenda>[0]['backend'];
  let notificationChannel: ListenerJobNotifications | undefined;
  if (opts.mongodbUrl) {
    const { MongoBackend } = await import('@agendajs/mongo-backend');
    backend = new MongoBackend({ address: opts.mongodbUrl, collection: 'deskhooks_jobs' });
  } else {
    // the backend's own notification channel can leak a pool connection (job-notifications.ts)
    backend = new PostgresBackend({ pool: opts.pool, tableName: 'agenda_jobs', channelName: JOBS_CHANNEL, disableNotifications: true });
    if (opts.listener) {
      notificationChannel = new ListenerJobNotifications(opts.listener, opts.pool, JOBS_CHANNEL, { pickupMs: processEvery });
      notificationChannel.on('error', (err: Error) => log.error('job engine notification error', err.message));
    }
  }
  // the names of the jobs defined here: Agenda's errors name a job only inside their message
  const defined = new Set<string>();
  const jobNamedIn = (message: string): string | undefined => [...defined].find((name) => message.includes(`'${name}'`));
  const connect = async () => {
    // every job here is a wake-up that returns at once: a lock outlives a pickup (a job is
    // locked up to a pickup ahead of its time) by a margin, and no more — the lock of a
    // process that died (a repeating sweep's included) frees its job seconds later
    const agenda = new Agenda({ backend, notificationChannel, name: opts.name, processEvery, defaultLockLifetime: 2 * processEvery + 5_000 });
    agenda.on('error', (err: Error) => {
      const job = jobNamedIn(err.message);
      // a job's name is ours, not a value: written unquoted, so that the log's redaction of
      // quoted values (log-redact.ts) keeps it
      if (job) log.error(`job engine error in job ${job}`, err.message.replaceAll(`'${job}'`, job));
      else log.error('job engine error', err.message);
    });
    // a run of this process that threw (the jobs here catch their own errors; one that does not is named)
    agenda.on('fail', (err: unknown, job: { attrs?: { name?: string } }, remote?: boolean) => {
      if (!remote) log.error(`job ${job?.attrs?.name ?? '(unnamed)'} failed`, err instanceof Error ? err.message : err);
    });
    await agenda.ready;
    return agenda;
  };
  // Agenda sets up its table as it connects; processes starting at once on one database
  // would do it side by side and fail ("tuple concurrently updated"): one at a time
  const agenda = opts.mongodbUrl ? await connect() : await oneAtATime(opts.pool, 'deskhooks:job-store', connect);
  let ready = false;
  const repeating: [string, number][] = [];
  const slice = Math.min(1000, processEvery);
  // the slices already saved by this process: a cache of saves to skip, not the truth (unique() is)
  const scheduled = new Set<string>();
  // the runs under way in this process: stop() waits for them (Agenda's stop does not, and
  // its drain() keeps the jobs locked but not started from other processes), so that none
  // still uses what is stopped after the engine (the pool)
  const running = new Set<Promise<void>>();
  // the wake-ups being saved: stop() waits for them, so that none is left to use the pool
  // after it (the composition root ends the pool next); once stopped, runAt saves nothing,
  // the delivery rows keep their due times and the sweeps (here at the next start, or in
  // another process) find them
  const saving = new Set<Promise<void>>();
  let stopped = false;

  return {
    get ready() {
      return ready;
    },
    define(name, run, { concurrency = 1, oneOff = false } = {}) {
      defined.add(name);
      agenda.define(
        name,
        async () => {
          const runs = (async () => void (await run()))();
          running.add(runs);
          try {
            await runs;
          } finally {
            running.delete(runs);
          }
        },
        { concurrency, ...(oneOff ? { removeOnComplete: true } : {}) },
      );
    },
    every(name, intervalMs) {
      repeating.push([name, intervalMs]);
    },
    runAt(name, at) {
      if (stopped) return;
      const end = Math.ceil(at.getTime() / slice) * slice;
      const key = String(end);
      if (scheduled.has(`${name}@${key}`)) return;
      scheduled.add(`${name}@${key}`);
      if (scheduled.size > 10_000) scheduled.clear();
      const save = agenda
        .create(name, { at: key })
        .unique({ 'data.at': key }, { insertOnly: true })
        .schedule(new Date(end))
        .save()
        .then(
          () => {},
          (err: Error) => log.error(`could not schedule ${name}; the sweep does its work`, err.message),
        )
        .finally(() => saving.delete(save));
      saving.add(save);
    },
    async start() {
      await agenda.start();
      for (const [name, ms] of repeating) await agenda.every(`${Math.max(1, Math.round(ms / 1000))} seconds`, name, {}, { skipImmediate: false });
      ready = true;
    },
    async stop() {
      ready = false;
      stopped = true;
      await agenda.stop(false).catch((err: Error) => log.error('stopping the job engine', err.message));
      await Promise.allSettled([...running, ...saving]);
    },
  };
}

/**
 * Runs `fn` holding a PostgreSQL advisory lock on `key`, on a connection of its own (not one
 * of the pool's, which `fn` may need all of); released however `fn` ends.
 */
async function oneAtATime<T>(pool: pg.Pool, key: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client(pool.options);
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [key]);
    return await fn();
  } finally {
    // ending the session releases the lock
    await client.end().catch(() => {});
  }
}
