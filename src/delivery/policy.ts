/**
 * The retry policy: a pure function of config and one attempt's outcome. Time comes in
 * as arguments (never Date.now()), so 24 hours of retries are tested in milliseconds.
 *
 * The schedule is anchored on the first attempt (attempt n+1 is due at
 * first + n × interval), so slow attempts or a late worker do not push later attempts
 * out and the window bound holds exactly. A 429 or 503 with Retry-After moves the next
 * attempt to the time it names (at least 1 s; past the window: this attempt is the last).
 * A failure the success rule made final (`rejected`) and a 410 Gone end the delivery at
 * once; a 410 also asks for the webhook to be switched off (Decision.switchOff), unless the
 * success rule lists 410 among its statuses.
 */
import type { Decision } from '../domain/index.js';
import type { AttemptResult } from './types.js';

export interface RetryPolicyConfig {
  /** ms between attempt starts */
  intervalMs: number;
  /** no attempt starts later than this after the first one */
  windowMs: number;
}

export interface DecideInput {
  result: AttemptResult;
  /** 1-based number of the attempt just made */
  attemptNumber: number;
  firstAttemptAt: Date;
  now: Date;
}

export interface RetryPolicy {
  readonly config: Readonly<RetryPolicyConfig>;
  decide(input: DecideInput): Decision;
  /**
   * Whether an attempt that is due may still start now: no attempt starts later than the
   * window after the first, however late it is picked up (after downtime, long after its
   * slot). A grace of one interval, 5 s at most, covers ordinary pickup latency.
   */
  mayStart(firstAttemptAt: Date | null, now: Date): boolean;
}

/** Failures that will fail the same way next time: final at once. */
const FINAL_CLASSES = new Set<AttemptResult['errorClass']>(['refused_address', 'invalid_url']);

/** How many attempts the config allows in all (the first one included). */
export function maxAttempts(config: RetryPolicyConfig): number {
  return Math.floor(config.windowMs / config.intervalMs) + 1;
}

/** `24h`, `30m`, `4s`, `1500ms`: the largest unit that divides evenly, for messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** HTTP dates (RFC 9110 5.6.7): IMF-fixdate, the obsolete RFC 850 and asctime forms. */
const HTTP_DATE = [
  /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

/** The shortest wait a Retry-After may ask for. */
const MIN_RETRY_AFTER_MS = 1000;

/**
 * The time a Retry-After header names (delay-seconds or an HTTP date), at least
 * MIN_RETRY_AFTER_MS after `now`; null when absent or unreadable.
 */
export function retryAfterTime(header: string | null, now: Date): Date | null {
  const value = header?.trim() ?? '';
  if (value === '') return null;
  let at: number;
  if (/^\d+$/.test(value)) at = now.getTime() + Math.min(Number(value), 10 * 365 * 86_400) * 1000;
  else if (HTTP_DATE.some((re) => re.test(value))) {
    at = Date.parse(/GMT$/.test(value) ? value : `${value} GMT`);
    if (Number.isNaN(at)) return null;
  } else return null;
  return new Date(Math.max(at, now.getTime() + MIN_RETRY_AFTER_MS));
}

/**
 * How long after its first attempt a due attempt may still start (RetryPolicy.mayStart):
 * the window, plus a grace of one interval, 5 s at most, for pickup latency (Agenda's
 * polling, a busy worker), which is seconds at most.
 */
export function startDeadlineMs(config: RetryPolicyConfig): number {
  return config.windowMs + Math.min(config.intervalMs, 5_000);
}

export function createRetryPolicy(config: RetryPolicyConfig): RetryPolicy {
  const { intervalMs, windowMs } = config;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`retry interval must be a positive number of ms, got ${intervalMs}`);
  if (!Number.isFinite(windowMs) || windowMs < 0) throw new RangeError(`retry window must be zero or a positive number of ms, got ${windowMs}`);
  const frozen = Object.freeze({ intervalMs, windowMs });

  function decide({ result, attemptNumber, firstAttemptAt, now }: DecideInput): Decision {
    if (!Number.isInteger(attemptNumber) || attemptNumber < 1) throw new RangeError(`attemptNumber must be an integer ≥ 1, got ${attemptNumber}`);
    if (result.errorClass === 'none') return { kind: 'succeeded' };
    const lastError = result.error ?? result.errorClass;
    // a 410 the success rule lists is an answer the admin expects (a DELETE of what is already gone): its failed check is an ordinary failure
    if (result.statusCode === 410 && !result.statusExpected) {
      return { kind: 'failed', reason: `not retried: ${lastError}; the receiver says the endpoint is gone, so the webhook was switched off`, switchOff: 'the receiver answered HTTP 410 Gone' };
    }
    if (result.errorClass === 'rejected') return { kind: 'failed', reason: lastError };
    if (FINAL_CLASSES.has(result.errorClass)) return { kind: 'failed', reason: `not retried: ${lastError}` };

    const asked = result.statusCode === 429 || result.statusCode === 503 ? retryAfterTime(result.retryAfter ?? null, now) : null;
    if (asked !== null) {
      // the receiver names the next attempt's time (sooner or later than the schedule's)
      if (asked.getTime() - firstAttemptAt.getTime() > windowMs) {
        return {
          kind: 'failed',
          reason: `Retry-After asks for the next attempt at ${asked.toISOString()}, past the retry window of ${formatDuration(windowMs)} (it ends at ${new Date(firstAttemptAt.getTime() + windowMs).toISOString()}); last error: ${lastError}`,
        };
      }
      return { kind: 'retry', at: asked };
    }

    const offset = attemptNumber * intervalMs;
    const due = firstAttemptAt.getTime() + offset;
    const at = Math.max(due, now.getTime());
    // The window bounds the real start, not only the slot: when an attempt outlasts the
    // interval (a timeout longer than it), its slot has passed and the next attempt would
    // start now, which may be past the window; then this attempt is the last.
    if (offset > windowMs || at - firstAttemptAt.getTime() > windowMs) {
      const plural = attemptNumber === 1 ? 'attempt' : 'attempts';
      return { kind: 'failed', reason: `retry window of ${formatDuration(windowMs)} exhausted after ${attemptNumber} ${plural}; last error: ${lastError}` };
    }
    return { kind: 'retry', at: new Date(at) };
  }

  const deadlineMs = startDeadlineMs(frozen);
  const mayStart = (firstAttemptAt: Date | null, now: Date): boolean =>
    firstAttemptAt === null || now.getTime() - firstAttemptAt.getTime() <= deadlineMs;

  return { config: frozen, decide, mayStart };
}
