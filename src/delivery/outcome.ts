/**
 * What an attempt's result means for its delivery, decided without touching anything:
 * the retry policy's decision turned into the rows to write and the feed messages to
 * publish (the transition of store.ts). Recording it is the store's (store.ts), with
 * recorder.ts's fallbacks; the ticket's side of a final outcome is write-back.ts's.
 */
import type { Decision } from '../domain/index.js';
import { feedMessages, statusAfter, type AttemptRow, type ClaimedDelivery, type DeliveryUpdate, type OutcomeRows } from './store.js';
import type { AttemptResult } from './types.js';
import { cutText, storableText } from './storable.js';
import { describeError } from '../log-redact.js';

/** What an attempt record keeps of the response body. */
export const RECORDED_BODY_LIMIT = 64 * 1024;

/** A success comment longer than this is cut (as long as a post the API accepts). */
export const COMMENT_LIMIT = 100_000;

/** How much of a recording error an outcome recorded without its response keeps. */
const RECORDING_ERROR_LIMIT = 500;

export interface Outcome extends OutcomeRows {
  delivery: ClaimedDelivery;
  result: AttemptResult;
  decision: Decision;
  /** null when no attempt was made (the window had passed when it was due) */
  attempt: AttemptRow | null;
  update: DeliveryUpdate;
}

/** Text as it is recorded: storable (storable.ts), null kept. */
const storable = (text: string | null): string | null => (text === null ? null : storableText(text));

export function buildOutcome(delivery: ClaimedDelivery, result: AttemptResult, decision: Decision, now: Date): Outcome {
  const number = delivery.attemptCount + 1;
  const body = result.responseBody;
  const attempt: AttemptRow = {
    deliveryId: delivery.id,
    number,
    startedAt: result.startedAt,
    durationMs: Math.max(0, Math.round(result.durationMs)),
    statusCode: result.statusCode,
    error: storable(result.error),
    responseBody: body === null ? null : storableText(cutText(body, RECORDED_BODY_LIMIT)),
  };
  const status = statusAfter(decision);
  const update: DeliveryUpdate = {
    id: delivery.id,
    status,
    attemptCount: number,
    nextAttemptAt: decision.kind === 'retry' ? decision.at : null,
    firstAttemptAt: delivery.firstAttemptAt ?? result.startedAt,
    lastError: storable(decision.kind === 'failed' ? decision.reason : result.error),
    completedAt: decision.kind === 'retry' ? null : now,
  };
  // what could not be made of the answer is a note on the delivery, naming its attempt
  if (result.responseNote) update.note = storableText(`attempt ${number}: ${result.responseNote}`);
  return { delivery, result, decision, attempt, update, events: feedMessages(delivery, { kind: 'attempted', attempt: number, status }, now) };
}

/**
 * A due attempt found after its window had passed (the server was down when it was due, or
 * its webhook's breaker held it): FAILED without another attempt. When an earlier claim of
 * that attempt was never recorded (its worker stopped during it: `lostClaimUntil`, or a
 * first attempt whose window had begun), the attempt may have reached the receiver: it is
 * recorded as an attempt whose outcome is unknown, started when it was claimed.
 * `leaseMs`: how long a claim lasts, to tell when the lost one was made.
 */
export function expiredOutcome(delivery: ClaimedDelivery, windowMs: number, now: Date, leaseMs = 0): Outcome {
  const window = `retry window of ${Math.round(windowMs / 1000)} s`;
  const lost = delivery.lostClaimUntil ?? null;
  if (lost !== null || (delivery.attemptCount === 0 && delivery.firstAttemptAt !== null)) {
    return lostAttemptOutcome(delivery, window, lost, leaseMs, now);
  }
  const why = delivery.heldPastWindow || delivery.probe ? "its webhook's breaker was open and held it" : 'the service was not running when it was due';
  const reason = `${window} passed before attempt ${delivery.attemptCount + 1} could start (${why}); last error: ${delivery.lastError ?? 'unknown'}`;
  return failedWithoutAttempt(delivery, reason, now);
}

/** When the lost claim of a delivery's next attempt was made: a lease before it ran out, never before the first attempt's claim. */
function lostClaimAt(delivery: ClaimedDelivery, lost: Date | null, leaseMs: number, now: Date): Date {
  const first = delivery.firstAttemptAt?.getTime() ?? -Infinity;
  return lost !== null ? new Date(Math.max(lost.getTime() - leaseMs, first)) : (delivery.firstAttemptAt ?? now);
}

/**
 * The note on a delivery whose attempt `number` is sent again after an earlier claim of it
 * was never recorded (its worker stopped during it): the receiver may have had it twice.
 */
export function lostClaimNote(delivery: ClaimedDelivery, number: number, leaseMs: number): string {
  const claimedAt = lostClaimAt(delivery, delivery.lostClaimUntil ?? null, leaseMs, new Date(0));
  return `attempt ${number} was claimed at ${claimedAt.toISOString()} by a worker that stopped before recording its outcome, and was sent again: the receiver may have had it twice (the same X-Deskhooks-Delivery)`;
}

/** FAILED after an attempt whose outcome is unknown (see expiredOutcome). */
function lostAttemptOutcome(delivery: ClaimedDelivery, window: string, lost: Date | null, leaseMs: number, now: Date): Outcome {
  const number = delivery.attemptCount + 1;
  const claimedAt = lostClaimAt(delivery, lost, leaseMs, now);
  const error = `outcome unknown: the worker that claimed this attempt at ${claimedAt.toISOString()} stopped before recording its outcome, so the request may have reached the receiver`;
  const earlier = delivery.lastError === null ? '' : `; last error before it: ${delivery.lastError}`;
  const reason = storableText(`${window} passed before attempt ${number + 1} could start; attempt ${number}'s ${error}${earlier}`);
  return {
    delivery,
    result: { startedAt: claimedAt, durationMs: 0, statusCode: null, error, errorClass: 'network', responseBody: null, responseContentType: null, responseTruncated: false },
    decision: { kind: 'failed', reason },
    attempt: { deliveryId: delivery.id, number, startedAt: claimedAt, durationMs: 0, statusCode: null, error, responseBody: null },
    update: { id: delivery.id, status: 'FAILED', attemptCount: number, nextAttemptAt: null, firstAttemptAt: delivery.firstAttemptAt ?? claimedAt, lastError: reason, completedAt: now },
    events: feedMessages(delivery, { kind: 'attempted', attempt: number, status: 'FAILED' }, now),
  };
}

/** FAILED without sending (nothing could change on a later try): no attempt row. */
export function failedWithoutAttempt(delivery: ClaimedDelivery, failure: string, now: Date): Outcome {
  const reason = storableText(failure);
  return {
    delivery,
    result: { startedAt: now, durationMs: 0, statusCode: null, error: reason, errorClass: 'network', responseBody: null, responseContentType: null, responseTruncated: false },
    decision: { kind: 'failed', reason },
    attempt: null,
    update: { id: delivery.id, status: 'FAILED', attemptCount: delivery.attemptCount, nextAttemptAt: null, firstAttemptAt: delivery.firstAttemptAt ?? now, lastError: reason, completedAt: now },
    events: feedMessages(delivery, { kind: 'failed' }, now),
  };
}

/**
 * The outcome reduced to what can always be stored, after `err` kept it from being
 * recorded: the same decision, attempt number and times, no response body; the attempt's
 * error and a note on the delivery say why. `withAttempt: false` leaves out the attempt
 * row too (the delivery's state alone). Recording this instead means a delivery is never
 * sent again as the same attempt because its answer could not be stored.
 */
export function minimalOutcome(o: Outcome, err: unknown, withAttempt = true): Outcome {
  const why = `outcome could not be recorded: ${recordingError(err)}`;
  const attempt = withAttempt && o.attempt ? { ...o.attempt, responseBody: null, error: joined(o.attempt.error, why) } : null;
  const lastError = o.update.lastError === null ? null : cutText(o.update.lastError, RECORDING_ERROR_LIMIT);
  return { ...o, attempt, update: { ...o.update, lastError, note: joined(o.update.note ?? null, why) } };
}

/**
 * The outcome as it waits for a batched recording (no ticket work): without the answer as
 * read (up to 1 MiB) and the rendered request (up to 1 MiB), which only ticket work reads;
 * the attempt row keeps what the log records of the answer (RECORDED_BODY_LIMIT). So a
 * worker's waiting outcomes hold kilobytes each, not megabytes.
 */
export function batchedOutcome(o: Outcome): Outcome {
  return {
    ...o,
    result: { ...o.result, responseBody: null },
    delivery: { ...o.delivery, request: { ...o.delivery.request, body: null, headers: {} } },
  };
}

/** The outcome with a note for the delivery (ticket work that could not be done). */
export function withNote(o: Outcome, note: string): Outcome {
  return { ...o, update: { ...o.update, note: joined(o.update.note ?? null, storableText(note)) } };
}

/**
 * An error as a recorded text: storable, short, and redacted like a log line (a database
 * error keeps its message, SQLSTATE and the statement's shape, never the values — e.g. the
 * very answer that could not be stored).
 */
export function recordingError(err: unknown): string {
  return storableText(cutText(describeError(err, { stack: false }), RECORDING_ERROR_LIMIT));
}

const joined = (a: string | null, b: string) => (a ? `${cutText(a, RECORDING_ERROR_LIMIT)}; ${b}` : b);

/** Outcomes that only change delivery rows can be recorded in batches. */
export function touchesTicket(o: Outcome): boolean {
  if (o.delivery.ticketId === null) return false;
  return (o.decision.kind === 'succeeded' && o.delivery.needsProcessing) || o.decision.kind === 'failed';
}
