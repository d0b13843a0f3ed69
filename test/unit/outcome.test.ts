/**
 * The outcome of an attempt as a table: the claimed delivery, the attempt's result and the
 * policy's decision → the attempt row, the delivery's new state and the feed events
 * (buildOutcome); a retry found due after its window (expiredOutcome) and a delivery failed
 * without sending (failedWithoutAttempt); and which outcomes need the ticket (touchesTicket).
 */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/domain/index.js';
import type { AttemptResult } from '../../src/delivery/index.js';
import { buildOutcome, expiredOutcome, failedWithoutAttempt, RECORDED_BODY_LIMIT, touchesTicket, withNote, type Outcome } from '../../src/delivery/outcome.js';
import type { ClaimedDelivery } from '../../src/delivery/store.js';

const T0 = new Date('2025-03-01T10:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const NOW = at(125);

function claimed(over: Partial<ClaimedDelivery> = {}): ClaimedDelivery {
  return {
    id: 'd-1',
    webhookId: 'w-1',
    webhookName: 'CRM',
    ticketId: 't-1',
    status: 'PENDING',
    request: { method: 'POST', url: 'http://127.0.0.1:1/hook', headers: {}, body: '{}' },
    authSealed: null,
    attemptCount: 0,
    firstAttemptAt: null,
    lastError: null,
    needsProcessing: false,
    ...over,
  };
}

function result(over: Partial<AttemptResult> = {}): AttemptResult {
  return { startedAt: at(120), durationMs: 35.4, statusCode: 200, error: null, errorClass: 'none', responseBody: '{"ok":true}', responseContentType: 'application/json', responseTruncated: false, ...over };
}

const http500 = result({ statusCode: 500, error: 'HTTP 500 Internal Server Error', errorClass: 'http_status', responseBody: 'boom' });
const succeeded: Decision = { kind: 'succeeded' };
const retryAt = (s: number): Decision => ({ kind: 'retry', at: at(s) });
const failed = (reason: string): Decision => ({ kind: 'failed', reason });

/** what a row of the table checks: the delivery's new state, the attempt's number and the event types */
const summary = (o: Outcome) => ({
  status: o.update.status,
  attemptCount: o.update.attemptCount,
  attempt: o.attempt?.number ?? null,
  nextAttemptAt: o.update.nextAttemptAt?.toISOString() ?? null,
  firstAttemptAt: o.update.firstAttemptAt.toISOString(),
  completedAt: o.update.completedAt?.toISOString() ?? null,
  lastError: o.update.lastError,
  events: o.events.map((e) => `${e.t}:${e.s}:${e.n}`),
  touchesTicket: touchesTicket(o),
});

describe('buildOutcome: result + decision → state, attempt, events', () => {
  const cases: [what: string, delivery: ClaimedDelivery, result: AttemptResult, decision: Decision, expected: ReturnType<typeof summary>][] = [
    [
      'first attempt, 200, succeeded: SUCCEEDED; the window starts at this attempt',
      claimed(), result(), succeeded,
      { status: 'SUCCEEDED', attemptCount: 1, attempt: 1, nextAttemptAt: null, firstAttemptAt: at(120).toISOString(), completedAt: NOW.toISOString(), lastError: null, events: ['ATTEMPTED:SUCCEEDED:1', 'SUCCEEDED:SUCCEEDED:null'], touchesTicket: false },
    ],
    [
      'succeeded with mappings or a success comment: the ticket is written',
      claimed({ needsProcessing: true }), result(), succeeded,
      { status: 'SUCCEEDED', attemptCount: 1, attempt: 1, nextAttemptAt: null, firstAttemptAt: at(120).toISOString(), completedAt: NOW.toISOString(), lastError: null, events: ['ATTEMPTED:SUCCEEDED:1', 'SUCCEEDED:SUCCEEDED:null'], touchesTicket: true },
    ],
    [
      'succeeded with mappings but no ticket: nothing to write',
      claimed({ needsProcessing: true, ticketId: null }), result(), succeeded,
      { status: 'SUCCEEDED', attemptCount: 1, attempt: 1, nextAttemptAt: null, firstAttemptAt: at(120).toISOString(), completedAt: NOW.toISOString(), lastError: null, events: ['ATTEMPTED:SUCCEEDED:1', 'SUCCEEDED:SUCCEEDED:null'], touchesTicket: false },
    ],
    [
      'first attempt, 500, retry: RETRYING at the decided time, not completed',
      claimed(), http500, retryAt(180),
      { status: 'RETRYING', attemptCount: 1, attempt: 1, nextAttemptAt: at(180).toISOString(), firstAttemptAt: at(120).toISOString(), completedAt: null, lastError: 'HTTP 500 Internal Server Error', events: ['ATTEMPTED:RETRYING:1'], touchesTicket: false },
    ],
    [
      'third attempt, 500, retry: the first attempt’s time is kept',
      claimed({ status: 'RETRYING', attemptCount: 2, firstAttemptAt: at(0) }), http500, retryAt(180),
      { status: 'RETRYING', attemptCount: 3, attempt: 3, nextAttemptAt: at(180).toISOString(), firstAttemptAt: at(0).toISOString(), completedAt: null, lastError: 'HTTP 500 Internal Server Error', events: ['ATTEMPTED:RETRYING:3'], touchesTicket: false },
    ],
    [
      'fifth attempt, 500, failed (window exhausted): FAILED with the decision’s reason; the failure comment needs the ticket',
      claimed({ status: 'RETRYING', attemptCount: 4, firstAttemptAt: at(0) }), http500, failed('retry window of 4m exhausted after 5 attempts; last error: HTTP 500 Internal Server Error'),
      { status: 'FAILED', attemptCount: 5, attempt: 5, nextAttemptAt: null, firstAttemptAt: at(0).toISOString(), completedAt: NOW.toISOString(), lastError: 'retry window of 4m exhausted after 5 attempts; last error: HTTP 500 Internal Server Error', events: ['ATTEMPTED:FAILED:5', 'FAILED:FAILED:null'], touchesTicket: true },
    ],
    [
      'refused address, failed at once: FAILED after one attempt',
      claimed(), result({ statusCode: null, error: 'webhook host "127.0.0.1" is a loopback address', errorClass: 'refused_address', responseBody: null }), failed('not retried: webhook host "127.0.0.1" is a loopback address'),
      { status: 'FAILED', attemptCount: 1, attempt: 1, nextAttemptAt: null, firstAttemptAt: at(120).toISOString(), completedAt: NOW.toISOString(), lastError: 'not retried: webhook host "127.0.0.1" is a loopback address', events: ['ATTEMPTED:FAILED:1', 'FAILED:FAILED:null'], touchesTicket: true },
    ],
    [
      'failed without a ticket (a test send of a deleted ticket): no comment to write',
      claimed({ ticketId: null }), http500, failed('not retried: x'),
      { status: 'FAILED', attemptCount: 1, attempt: 1, nextAttemptAt: null, firstAttemptAt: at(120).toISOString(), completedAt: NOW.toISOString(), lastError: 'not retried: x', events: ['ATTEMPTED:FAILED:1', 'FAILED:FAILED:null'], touchesTicket: false },
    ],
    [
      'a timeout, retry: the attempt has no status code',
      claimed(), result({ statusCode: null, error: 'timed out after 2000 ms', errorClass: 'timeout', responseBody: null, durationMs: 2000 }), retryAt(180),
      { status: 'RETRYING', attemptCount: 1, attempt: 1, nextAttemptAt: at(180).toISOString(), firstAttemptAt: at(120).toISOString(), completedAt: null, lastError: 'timed out after 2000 ms', events: ['ATTEMPTED:RETRYING:1'], touchesTicket: false },
    ],
  ];

  it.each(cases)('%s', (_what, delivery, res, decision, expected) => {
    const o = buildOutcome(delivery, res, decision, NOW);
    expect(summary(o)).toEqual(expected);
    expect(o.decision).toBe(decision);
    expect(o.events.every((e) => e.d === delivery.id && e.w === delivery.webhookId && e.k === delivery.ticketId && e.at === NOW.toISOString())).toBe(true);
    expect(o.attempt).toMatchObject({ deliveryId: delivery.id, startedAt: res.startedAt, durationMs: Math.round(res.durationMs), statusCode: res.statusCode, error: res.error });
  });

  it('the attempt row keeps at most RECORDED_BODY_LIMIT characters of the answer, storable (no U+0000)', () => {
    const long = buildOutcome(claimed(), result({ responseBody: 'x'.repeat(RECORDED_BODY_LIMIT + 10) }), succeeded, NOW);
    expect(long.attempt!.responseBody).toHaveLength(RECORDED_BODY_LIMIT);
    const nul = buildOutcome(claimed(), http500, failed('HTTP 500 \u0000 x'), NOW);
    expect(nul.update.lastError).not.toContain('\u0000');
    const body = buildOutcome(claimed(), result({ responseBody: 'a\u0000b' }), succeeded, NOW);
    expect(body.attempt!.responseBody).not.toContain('\u0000');
    expect(body.attempt!.responseBody).toMatch(/^a.b$/);
  });

  it("what could not be made of the answer is a note on the delivery naming the attempt; the attempt's outcome is the status's", () => {
    const note = 'answer body not decompressed: it is not valid gzip (incorrect header check); it is kept as it came';
    const o = buildOutcome(claimed({ attemptCount: 1 }), result({ responseNote: note }), succeeded, NOW);
    expect(o.update).toMatchObject({ status: 'SUCCEEDED', lastError: null, note: `attempt 2: ${note}` });
    expect(o.attempt!.error).toBeNull();
    expect(buildOutcome(claimed(), result(), succeeded, NOW).update.note).toBeUndefined();
    // a note added later (the ticket work failed) comes after it, never instead
    expect(withNote(o, 'the answer could not be applied to the ticket').update.note).toBe(`attempt 2: ${note}; the answer could not be applied to the ticket`);
  });

  it('a negative or fractional duration is recorded as whole milliseconds, never below 0', () => {
    expect(buildOutcome(claimed(), result({ durationMs: -3 }), succeeded, NOW).attempt!.durationMs).toBe(0);
    expect(buildOutcome(claimed(), result({ durationMs: 12.6 }), succeeded, NOW).attempt!.durationMs).toBe(13);
  });
});

describe('FAILED without an attempt', () => {
  const cases: [what: string, outcome: Outcome, expected: ReturnType<typeof summary>][] = [
    [
      'expiredOutcome: a retry found after its window — the attempts made so far stay, the reason says why',
      expiredOutcome(claimed({ status: 'RETRYING', attemptCount: 2, firstAttemptAt: at(0), lastError: 'HTTP 503 Service Unavailable' }), 300_000, NOW),
      {
        status: 'FAILED', attemptCount: 2, attempt: null, nextAttemptAt: null, firstAttemptAt: at(0).toISOString(), completedAt: NOW.toISOString(),
        lastError: 'retry window of 300 s passed before attempt 3 could start (the service was not running when it was due); last error: HTTP 503 Service Unavailable',
        events: ['FAILED:FAILED:null'], touchesTicket: true,
      },
    ],
    [
      'expiredOutcome of a first attempt whose outcome was never recorded: an attempt of unknown outcome, from its claim',
      expiredOutcome(claimed({ attemptCount: 0, firstAttemptAt: at(0), lostClaimUntil: at(9) }), 240_000, NOW, 9_000),
      {
        status: 'FAILED', attemptCount: 1, attempt: 1, nextAttemptAt: null, firstAttemptAt: at(0).toISOString(), completedAt: NOW.toISOString(),
        lastError: `retry window of 240 s passed before attempt 2 could start; attempt 1's outcome unknown: the worker that claimed this attempt at ${at(0).toISOString()} stopped before recording its outcome, so the request may have reached the receiver`,
        events: ['ATTEMPTED:FAILED:1', 'FAILED:FAILED:null'], touchesTicket: true,
      },
    ],
    [
      'expiredOutcome of a retry whose outcome was never recorded: attempt 3 of unknown outcome, started a lease before its claim ran out',
      expiredOutcome(claimed({ status: 'RETRYING', attemptCount: 2, firstAttemptAt: at(0), lastError: 'HTTP 503 Service Unavailable', lostClaimUntil: at(69) }), 240_000, NOW, 9_000),
      {
        status: 'FAILED', attemptCount: 3, attempt: 3, nextAttemptAt: null, firstAttemptAt: at(0).toISOString(), completedAt: NOW.toISOString(),
        lastError: `retry window of 240 s passed before attempt 4 could start; attempt 3's outcome unknown: the worker that claimed this attempt at ${at(60).toISOString()} stopped before recording its outcome, so the request may have reached the receiver; last error before it: HTTP 503 Service Unavailable`,
        events: ['ATTEMPTED:FAILED:3', 'FAILED:FAILED:null'], touchesTicket: true,
      },
    ],
    [
      'failedWithoutAttempt before any attempt: the window is anchored now',
      failedWithoutAttempt(claimed(), 'not sent: the credentials were sealed with another DESKHOOKS_SECRET_KEY', NOW),
      {
        status: 'FAILED', attemptCount: 0, attempt: null, nextAttemptAt: null, firstAttemptAt: NOW.toISOString(), completedAt: NOW.toISOString(),
        lastError: 'not sent: the credentials were sealed with another DESKHOOKS_SECRET_KEY', events: ['FAILED:FAILED:null'], touchesTicket: true,
      },
    ],
    [
      'failedWithoutAttempt after attempts, without a ticket',
      failedWithoutAttempt(claimed({ attemptCount: 3, firstAttemptAt: at(0), ticketId: null }), 'not sent: x\u0000y', NOW),
      {
        status: 'FAILED', attemptCount: 3, attempt: null, nextAttemptAt: null, firstAttemptAt: at(0).toISOString(), completedAt: NOW.toISOString(),
        lastError: 'not sent: x\ufffdy', events: ['FAILED:FAILED:null'], touchesTicket: false,
      },
    ],
  ];

  it.each(cases)('%s', (_what, outcome, expected) => {
    expect(summary(outcome)).toEqual(expected);
    expect(outcome.decision).toEqual({ kind: 'failed', reason: expected.lastError });
  });

  it('the attempt of unknown outcome is recorded as such: no status, started when it was claimed, its error says it may have been sent', () => {
    const o = expiredOutcome(claimed({ attemptCount: 0, firstAttemptAt: at(0), lostClaimUntil: at(9) }), 240_000, NOW, 9_000);
    expect(o.attempt).toEqual({
      deliveryId: 'd-1', number: 1, startedAt: at(0), durationMs: 0, statusCode: null, responseBody: null,
      error: `outcome unknown: the worker that claimed this attempt at ${at(0).toISOString()} stopped before recording its outcome, so the request may have reached the receiver`,
    });
  });
});
