/**
 * Recording outcomes so that one that cannot be stored never rolls back, holds back or
 * re-sends the others. A batch is one transaction; when it fails, each outcome is
 * recorded on its own, and an outcome that still fails is recorded reduced
 * (minimalOutcome: no response body, then no attempt row) rather than left to its
 * claim's expiry, which would send it again as the same attempt. An outcome with ticket
 * work whose transaction fails is recorded the same way, with a note that the ticket
 * work was not done. What even that cannot record is logged: its claim expires, and its
 * retry window (started at the claim, scheduling.ts) still closes.
 */
import type pg from 'pg';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { connectionLost, poolTransactions } from '../db/index.js';
import type { Logger } from '../log.js';
import { minimalOutcome, recordingError, withNote, type Outcome } from './outcome.js';
import { OutcomesRecordedError, recordBatch, releaseClaims, switchOffWebhook } from './store.js';
import { createClaimer, type SchedulingConfig } from './scheduling.js';
import { startDeadlineMs } from './policy.js';
import { recordWithTicketWork } from './write-back.js';
import type { WorkerStore } from './worker.js';

/** Without a configuration: a probe every 30 s, switched off after 24 h open, retries every 30 min for 24 h. */
const DEFAULT_SCHEDULING: SchedulingConfig = {
  probeIntervalMs: 30_000,
  retryWindowMs: 24 * 3_600_000,
  startDeadlineMs: startDeadlineMs({ intervalMs: 30 * 60_000, windowMs: 24 * 3_600_000 }),
};

/**
 * The worker's store on the database: claims within the webhooks' limits (scheduling.ts),
 * releases (store.ts), recording with the fallbacks below.
 */
export function createWorkerStore(pool: pg.Pool, orm: MikroORM, log: Logger, scheduling: SchedulingConfig = DEFAULT_SCHEDULING): WorkerStore {
  return {
    claim: createClaimer(pool, scheduling),
    release: (ids) => releaseClaims(pool, ids),
    record: (outcomes) => recordOutcomes(pool, outcomes, log),
    recordWithTicketWork: (outcome) => recordOutcomeWithTicketWork(() => orm.em.fork(), pool, outcome, log),
    switchOff: (webhookId, exceptId, reason, now) => poolTransactions(pool)((db) => switchOffWebhook(db, webhookId, exceptId, reason, now)),
  };
}

/** Errors after which the same transaction may well succeed when run again. */
const TRANSIENT_CODES = new Set(['40001', '40P01']); // serialization failure, deadlock

const isTransient = (err: unknown) => TRANSIENT_CODES.has((err as { code?: string } | null)?.code ?? '');

/**
 * Records the outcomes; returns those recorded (fully or reduced). Throws when the
 * database cannot be reached (then nothing was recorded).
 */
export async function recordOutcomes(pool: pg.Pool, outcomes: Outcome[], log: Logger): Promise<Outcome[]> {
  if (!outcomes.length) return [];
  const client = await pool.connect();
  let broken = false;
  try {
    // a deadlock or a serialization failure is no fault of the outcomes: the batch runs again as it is
    for (let run = 1; ; run++) {
      try {
        await recordBatch(client, outcomes);
        return outcomes;
      } catch (err) {
        if (connectionLost(err)) throw err;
        if (err instanceof OutcomesRecordedError) {
          log.error(`recording ${outcomes.length} delivery outcomes: ${err.message}`, err.failure);
          return outcomes;
        }
        if (run < 2 && isTransient(err)) continue;
        if (outcomes.length > 1) log.error(`recording ${outcomes.length} delivery outcomes together failed; recording each on its own`, err);
        else return (await recordAlone(client, outcomes[0]!, log, err)) ? outcomes : [];
        break;
      }
    }
    const recorded: Outcome[] = [];
    for (const o of outcomes) if (await recordAlone(client, o, log)) recorded.push(o);
    return recorded;
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Records an outcome that touches the ticket (write-back, comments, continuation) in one
 * transaction; if that cannot be done, the delivery's own state, with a note saying what
 * was not done. Returns whether anything was recorded.
 */
export async function recordOutcomeWithTicketWork(em: () => EntityManager, pool: pg.Pool, o: Outcome, log: Logger): Promise<boolean> {
  let failure: unknown;
  for (let run = 1; run <= 2; run++) {
    try {
      await recordWithTicketWork(em(), o);
      return true;
    } catch (err) {
      if (connectionLost(err)) throw err;
      failure = err;
      if (!isTransient(err)) break;
    }
  }
  log.error(`delivery ${o.delivery.id}: the ticket work of its outcome failed; recording the delivery's state without it`, failure);
  const recorded = await recordOutcomes(pool, [withNote(o, ticketWorkNote(o, failure))], log);
  return recorded.length > 0;
}

function ticketWorkNote(o: Outcome, err: unknown): string {
  const why = recordingError(err);
  if (o.decision.kind !== 'succeeded') return `the failure comment could not be written to the ticket: ${why}`;
  return `the answer could not be applied to the ticket (no custom field, comment or rule continuation was written): ${why}`;
}

/** One outcome in its own transactions: as it is, then reduced. */
async function recordAlone(client: pg.PoolClient, o: Outcome, log: Logger, batchError?: unknown): Promise<boolean> {
  let failure = batchError;
  // as it is (unless the batch of this one outcome already failed), then without the
  // response body, then the delivery's state alone
  const candidates: ((err: unknown) => Outcome)[] = [
    ...(batchError === undefined ? [() => o] : []),
    (err) => minimalOutcome(o, err, true),
    (err) => minimalOutcome(o, err, false),
  ];
  for (const candidate of candidates) {
    try {
      await recordBatch(client, [candidate(failure)]);
      if (failure !== undefined) log.error(`delivery ${o.delivery.id}: its outcome was recorded without its response: ${recordingError(failure)}`);
      return true;
    } catch (err) {
      if (err instanceof OutcomesRecordedError) {
        log.error(`delivery ${o.delivery.id}: ${err.message}`, err.failure);
        return true;
      }
      failure = err;
      if (connectionLost(err)) throw err;
    }
  }
  log.error(`delivery ${o.delivery.id}: its outcome could not be recorded; its claim expires and its retry window still closes`, failure);
  return false;
}
