/**
 * Agenda: what it does well here is durable scheduling — the retry re-runs at their
 * time, and the periodic sweeps that recover crashed work — not one job per delivery
 * (measured to cap at ~500/s). The job store is PostgreSQL, or MongoDB with MONGODB_URL.
 *
 * Jobs:
 * - deliveries.drain (one-off, at a retry time; one per slice of min(1 s, processEvery)): wakes a worker.
 * - deliveries.sweep (every DESKHOOKS_SWEEP_INTERVAL): wakes a worker, which also takes
 *   over deliveries whose claim expired (a worker killed mid-attempt).
 * - dispatcher.sweep (every DESKHOOKS_SWEEP_INTERVAL): processes ticket events left over.
 */
import { Agenda } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type pg from 'pg';
import type { Logger } from '../log.js';

export interface JobEngineOptions {
  pool: pg.Pool;
  mongodbUrl?: string;
  log: Logger;
  name: string;
  retryIntervalMs: number;
  sweepIntervalMs: number;
  /** worker role: drains deliveries */
  drainDeliveries?: () => Promise<void>;
  /** api role: processes ticket events */
  drainEvents?: () => Promise<void>;
}

export interface JobEngine {
  start(): Promise<void>;
  /** a drain at `at`; deduplicated per second across processes */
  scheduleDrain(at: Date): void;
  readonly ready: boolean;
  stop(): Promise<void>;
}

export async function createJobEngine(opts: JobEngineOptions): Promise<JobEngine> {
  const { log } = opts;
  let backend: ConstructorParameters<typeof Agenda>[0]['backend'];
  if (opts.mongodbUrl) {
    const { MongoBackend } = await import('@agendajs/mongo-backend');
    backend = new MongoBackend({ address: opts.mongodbUrl, collection: 'deskhooks_jobs' });
  } else {
    const pgBackend = new PostgresBackend({ pool: opts.pool, tableName: 'agenda_jobs', channelName: 'agenda_jobs' });
    // without a listener, an error on Agenda's LISTEN connection (a database restart) kills the process
    (pgBackend.notificationChannel as unknown as NodeJS.EventEmitter | undefined)?.on?.('error', (err: Error) =>
      log.error('job engine notification channel error (it reconnects)', err.message),
    );
    backend = pgBackend;
  }
  // retries are picked up within processEvery of their time: a quarter of the interval
  const processEvery = Math.min(5_000, Math.max(100, Math.floor(opts.retryIntervalMs / 4)));
  const agenda = new Agenda({ backend, name: opts.name, processEvery, defaultLockLifetime: 60_000 });
  agenda.on('error', (err: Error) => log.error('job engine error', err.message));
  let ready = false;
  // retry drains are bucketed per slice (see scheduleDrain); saves already made are skipped
  const slice = Math.min(1000, processEvery);
  const scheduled = new Set<string>();

  if (opts.drainDeliveries) {
    const drain = opts.drainDeliveries;
    // The jobs wake the worker and end; they do not wait for its drain (which logs its own
    // errors). Awaiting it kept all 4 drain slots and the sweep busy while a drain waited
    // on a receiver that does not answer, so later retry wake-ups were not run at all and
    // retries started up to seconds late (test/integration/delivery.test.ts).
    const wake = async () => void drain();
    agenda.define('deliveries.drain', wake, { removeOnComplete: true, concurrency: 4 });
    agenda.define('deliveries.sweep', wake, { concurrency: 1 });
  }
  if (opts.drainEvents) {
    const drain = opts.drainEvents;
    agenda.define('dispatcher.sweep', async () => drain(), { concurrency: 1 });
  }

  return {
    get ready() {
      return ready;
    },
    async start() {
      await agenda.start();
      const every = `${Math.max(1, Math.round(opts.sweepIntervalMs / 1000))} seconds`;
      if (opts.drainDeliveries) await agenda.every(every, 'deliveries.sweep', {}, { skipImmediate: false });
      if (opts.drainEvents) await agenda.every(every, 'dispatcher.sweep', {}, { skipImmediate: false });
      ready = true;
    },
    scheduleDrain(at) {
      // One drain per slice of `slice` ms, run at the END of the slice, so that every retry
      // in it is due when it runs. It used to be one per second run at the time of the
      // first retry scheduled in that second (insertOnly keeps the first): a retry earlier
      // in the same second then waited for that later time or the sweep, up to 1 s late
      // (test/integration/delivery.test.ts saw 1 s retries start 1.8 s apart).
      const end = Math.ceil(at.getTime() / slice) * slice;
      const key = String(end);
      if (scheduled.has(key)) return;
      scheduled.add(key);
      if (scheduled.size > 10_000) scheduled.clear(); // a cache of saves to skip, not the truth: unique() is
      agenda
        .create('deliveries.drain', { at: key })
        .unique({ 'data.at': key }, { insertOnly: true })
        .schedule(new Date(end))
        .save()
        .catch((err: Error) => log.error('could not schedule a retry drain; the sweep picks the delivery up', err.message));
    },
    async stop() {
      ready = false;
      await agenda.stop(false).catch((err: Error) => log.error('stopping the job engine', err.message));
    },
  };
}
