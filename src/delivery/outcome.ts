/**
 * What an attempt's result means for a delivery: the policy's decision turned into the
 * rows to write and the events to publish (pure), and — for outcomes that touch the
 * ticket (write-back, success comment, continuation, failure comment) — one transaction
 * through the helpdesk services, so that nothing is half-done after a crash.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { CustomField, Delivery, DeliveryAttempt, Ticket, TicketEventRecord } from '../db/index.js';
import { addPost, updateTicket, systemActor } from '../helpdesk/index.js';
import type { Continuation, Decision, DeliveryEventMessage, DeliveryStatus, MappingTarget } from '../domain/index.js';
import { applyMappings, parseResponseBody } from './response.js';
import { compileTemplate, escapeText, type TemplateContext } from '../templates/index.js';
import type { AttemptRow, ClaimedDelivery, DeliveryUpdate } from './store.js';
import { insertAttempts, publishEvents, publishEventsWithEm, updateDeliveries } from './store.js';
import type { AttemptResult } from './types.js';
import { cutText, storableText, storableValue } from './storable.js';
import { describeError } from '../log-redact.js';

/** What an attempt record keeps of the response body. */
export const RECORDED_BODY_LIMIT = 64 * 1024;

/** A success comment longer than this is cut (as long as a post the API accepts). */
export const COMMENT_LIMIT = 100_000;

/** How much of a recording error an outcome recorded without its response keeps. */
const RECORDING_ERROR_LIMIT = 500;

export interface Outcome {
  delivery: ClaimedDelivery;
  result: AttemptResult;
  decision: Decision;
  /** null when no attempt was made (the window had passed when it was due) */
  attempt: AttemptRow | null;
  update: DeliveryUpdate;
  events: DeliveryEventMessage[];
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
  const status: DeliveryStatus = decision.kind === 'succeeded' ? 'SUCCEEDED' : decision.kind === 'retry' ? 'RETRYING' : 'FAILED';
  const update: DeliveryUpdate = {
    id: delivery.id,
    status,
    attemptCount: number,
    nextAttemptAt: decision.kind === 'retry' ? decision.at : null,
    firstAttemptAt: delivery.firstAttemptAt ?? result.startedAt,
    lastError: storable(decision.kind === 'failed' ? decision.reason : result.error),
    completedAt: decision.kind === 'retry' ? null : now,
  };
  const base = { d: delivery.id, w: delivery.webhookId, k: delivery.ticketId, at: now.toISOString() };
  const events: DeliveryEventMessage[] = [{ ...base, t: 'ATTEMPTED', s: status, n: number }];
  if (decision.kind === 'succeeded') events.push({ ...base, t: 'SUCCEEDED', s: status, n: null });
  if (decision.kind === 'failed') events.push({ ...base, t: 'FAILED', s: status, n: null });
  return { delivery, result, decision, attempt, update, events };
}

/**
 * A due retry found after its window had passed (the server was down when it was due):
 * FAILED without another attempt.
 */
export function expiredOutcome(delivery: ClaimedDelivery, windowMs: number, now: Date): Outcome {
  const why = delivery.attemptCount === 0 ? 'an earlier try was sent but its outcome could not be recorded, or the service stopped during it' : 'the service was not running when it was due';
  const reason = `retry window of ${Math.round(windowMs / 1000)} s passed before attempt ${delivery.attemptCount + 1} could start (${why}); last error: ${delivery.lastError ?? 'unknown'}`;
  return failedWithoutAttempt(delivery, reason, now);
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
    events: [{ t: 'FAILED', d: delivery.id, w: delivery.webhookId, k: delivery.ticketId, s: 'FAILED', n: null, at: now.toISOString() }],
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

/** The outcome with a note for the delivery (ticket work that could not be done). */
export function withNote(o: Outcome, note: string): Outcome {
  return { ...o, update: { ...o.update, note: storableText(note) } };
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

/**
 * Records a batch of outcomes in one transaction; terminal events only for deliveries
 * that were still open (a delivery cancelled mid-attempt stays CANCELLED).
 */
export async function recordBatch(client: import('pg').PoolClient, outcomes: Outcome[]): Promise<void> {
  await client.query('begin');
  try {
    await insertAttempts(client, outcomes.flatMap((o) => (o.attempt ? [o.attempt] : [])));
    const updated = await updateDeliveries(client, outcomes.map((o) => o.update));
    await publishEvents(client, outcomes.flatMap((o) => o.events.filter((e) => e.t === 'ATTEMPTED' || updated.has(e.d))));
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}

interface Processing {
  responseMappings: { path: string; target: MappingTarget; field: string }[];
  successComment: string;
  context: TemplateContext;
}

/**
 * One outcome that touches the ticket, in one transaction: attempt row, delivery state,
 * write-back through the helpdesk services (as the system: no dispatcher events),
 * success or failure comment, continuation event, published events.
 */
export async function recordWithTicketWork(em: EntityManager, o: Outcome): Promise<void> {
  await em.transactional(async (tem) => {
    const publish = (events: DeliveryEventMessage[]) => publishEventsWithEm(tem, events);
    if (o.attempt) await tem.insert(DeliveryAttempt, { ...o.attempt });
    const { update: u } = o;
    const changed = await tem.nativeUpdate(
      Delivery,
      { id: u.id, status: { $in: ['PENDING', 'RETRYING'] } },
      { status: u.status, attemptCount: u.attemptCount, nextAttemptAt: u.nextAttemptAt, firstAttemptAt: u.firstAttemptAt, lockedUntil: null, lastError: u.lastError, completedAt: u.completedAt },
    );
    if (!changed) {
      await publish(o.events.filter((e) => e.t === 'ATTEMPTED'));
      return;
    }
    const delivery = await tem.findOneOrFail(Delivery, { id: o.delivery.id });
    const ticketId = o.delivery.ticketId!;
    const processing = delivery.processing as Processing;
    const continuation = delivery.continuation as Continuation | null;
    if (o.decision.kind === 'succeeded') {
      const notes: string[] = [];
      // the answer and everything made from it is stored: each value storable (storable.ts)
      const body = storableText(o.result.responseBody ?? '');
      const parsed = parseResponseBody(body, o.result.responseContentType);
      let temp: Record<string, unknown> = {};
      if (processing.responseMappings.length) {
        const fields = new Map((await tem.find(CustomField, {})).map((f) => [f.key, { type: f.type, options: f.options }]));
        const mapped = storableValue(applyMappings(parsed, processing.responseMappings, fields));
        notes.push(...mapped.notes);
        temp = mapped.temp;
        delivery.responseData = mapped.responseData;
        if (Object.keys(mapped.customFields).length) {
          try {
            await updateTicket(tem, systemActor, ticketId, { customFields: mapped.customFields });
          } catch (err) {
            notes.push(`custom fields not written: ${(err as Error).message}`);
          }
        }
      }
      if (processing.successComment.trim()) {
        // the context the request was rendered with, but ticket.custom as written back just now
        const current = await tem.findOne(Ticket, { id: ticketId });
        const base = processing.context;
        const ctx: TemplateContext = {
          ...base,
          ticket: base.ticket && current ? { ...base.ticket, custom: { ...current.customFields } } : base.ticket,
          temp: { ...base.temp, ...temp },
          response: { status: o.result.statusCode ?? 0, body },
        };
        const rendered = storableText(compileTemplate(processing.successComment, 'successComment').render(ctx, escapeText));
        const text = cutText(rendered, COMMENT_LIMIT);
        if (text.length < rendered.length) notes.push(`success comment cut to ${COMMENT_LIMIT} characters (it had ${rendered.length})`);
        if (text.trim()) await addPost(tem, systemActor, ticketId, 'COMMENT', text);
      }
      if (continuation) {
        tem.create(TicketEventRecord, {
          kind: 'CONTINUATION',
          ticketId,
          type: continuation.event ?? 'TICKET_UPDATED',
          payload: { ...continuation, temp: { ...continuation.temp, ...temp }, deliveryId: delivery.id },
          createdAt: new Date(),
        });
      }
      delivery.notes = [...delivery.notes, ...notes.map(storableText)];
    } else if (o.decision.kind === 'failed') {
      const skipped = continuation ? ` The remaining actions of rule "${continuation.ruleName}" were not run.` : '';
      const n = o.update.attemptCount;
      const reason = storableText(cutText(o.decision.reason, COMMENT_LIMIT / 2));
      await addPost(tem, systemActor, ticketId, 'COMMENT', `Webhook "${delivery.webhookName}" failed after ${n} attempt${n === 1 ? '' : 's'}: ${reason}.${skipped}`);
    }
    await tem.flush();
    await publish(o.events);
  });
}
