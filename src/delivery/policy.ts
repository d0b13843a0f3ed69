/**
 * The retry policy: a pure function of config and one attempt's outcome. Time comes in
 * as arguments (never Date.now()), so 24 hours of retries are tested in milliseconds.
 *
 * The schedule is anchored on the first attempt (attempt n+1 is due at
 * first + n × interval), so slow attempts or a late worker do not push later attempts
 * out and the window bound holds exactly.
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

export function createRetryPolicy(config: RetryPolicyConfig): RetryPolicy {
  const { intervalMs, windowMs } = config;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError(`retry interval must be a positive number of ms, got ${intervalMs}`);
  if (!Number.isFinite(windowMs) || windowMs < 0) throw new RangeError(`retry window must be zero or a positive number of ms, got ${windowMs}`);
  const frozen = Object.freeze({ intervalMs, windowMs });

  function decide({ result, attemptNumber, firstAttemptAt, now }: DecideInput): Decision {
    if (!Number.isInteger(attemptNumber) || attemptNumber < 1) throw new RangeError(`attemptNumber must be an integer ≥ 1, got ${attemptNumber}`);
    if (result.errorClass === 'none') return { kind: 'succeeded' };
    const lastError = result.error ?? result.errorClass;
    if (FINAL_CLASSES.has(result.errorClass)) return { kind: 'failed', reason: `not retried: ${lastError}` };

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

  // pickup latency (Agenda's polling, a busy worker) is seconds at most
  const graceMs = Math.min(intervalMs, 5_000);
  const mayStart = (firstAttemptAt: Date | null, now: Date): boolean =>
    firstAttemptAt === null || now.getTime() - firstAttemptAt.getTime() <= windowMs + graceMs;

  return { config: frozen, decide, mayStart };
}
