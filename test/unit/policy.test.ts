import { describe, expect, it } from 'vitest';
import { createRetryPolicy, formatDuration, maxAttempts } from '../../src/delivery/policy.js';
import type { AttemptResult } from '../../src/delivery/types.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const first = new Date('2024-05-01T10:00:00.000Z');

function result(errorClass: AttemptResult['errorClass'], error: string | null = null): AttemptResult {
  return {
    startedAt: first,
    durationMs: 12,
    statusCode: errorClass === 'http_status' ? 503 : errorClass === 'none' ? 200 : null,
    error,
    errorClass,
    responseBody: null,
    responseContentType: null,
    responseTruncated: false,
  };
}

const fail503 = result('http_status', 'HTTP 503');

describe('maxAttempts', () => {
  it.each([
    [30 * M, 24 * H, 49],
    [1 * S, 4 * S, 5],
    [2 * S, 5 * S, 3],
    [1 * S, 0, 1],
    [10 * S, 9 * S, 1],
  ])('interval %i ms, window %i ms → %i attempts', (intervalMs, windowMs, n) => {
    expect(maxAttempts({ intervalMs, windowMs })).toBe(n);
  });
});

describe('retry schedule (attempt n failed → next attempt or stop)', () => {
  // [attempt just made, offset of the next attempt from the first one (ms) or 'stop']
  const defaults: [number, number | 'stop'][] = [
    [1, 30 * M],
    [2, 60 * M],
    [3, 90 * M],
    [47, 47 * 30 * M],
    [48, 24 * H],
    [49, 'stop'],
    [50, 'stop'],
  ];
  const short: [number, number | 'stop'][] = [
    [1, 1 * S],
    [2, 2 * S],
    [3, 3 * S],
    [4, 4 * S],
    [5, 'stop'],
  ];

  it.each([
    ['30m / 24h', 30 * M, 24 * H, defaults],
    ['1s / 4s', 1 * S, 4 * S, short],
  ] as const)('%s', (_name, intervalMs, windowMs, table) => {
    const policy = createRetryPolicy({ intervalMs, windowMs });
    for (const [n, expected] of table) {
      // "now" is just after the attempt that was due: the schedule does not drift with it.
      const now = new Date(first.getTime() + (n - 1) * intervalMs + 250);
      const d = policy.decide({ result: fail503, attemptNumber: n, firstAttemptAt: first, now });
      if (expected === 'stop') {
        expect(d.kind, `attempt ${n}`).toBe('failed');
      } else {
        expect(d, `attempt ${n}`).toEqual({ kind: 'retry', at: new Date(first.getTime() + expected) });
      }
    }
  });

  it('the window bound yields exactly maxAttempts attempts when walked through', () => {
    for (const cfg of [{ intervalMs: 30 * M, windowMs: 24 * H }, { intervalMs: S, windowMs: 4 * S }]) {
      const policy = createRetryPolicy(cfg);
      let n = 1;
      for (; n <= 1000; n++) {
        const d = policy.decide({ result: fail503, attemptNumber: n, firstAttemptAt: first, now: first });
        if (d.kind !== 'retry') break;
      }
      expect(n).toBe(maxAttempts(cfg));
    }
  });

  it('names the window, the attempt count and the last error when it gives up', () => {
    const policy = createRetryPolicy({ intervalMs: 30 * M, windowMs: 24 * H });
    const d = policy.decide({ result: fail503, attemptNumber: 49, firstAttemptAt: first, now: new Date(first.getTime() + 24 * H + 1000) });
    expect(d).toEqual({ kind: 'failed', reason: 'retry window of 24h exhausted after 49 attempts; last error: HTTP 503' });
    const short = createRetryPolicy({ intervalMs: S, windowMs: 4 * S });
    const e = short.decide({ result: result('timeout', 'timed out after 2000 ms'), attemptNumber: 5, firstAttemptAt: first, now: first });
    expect(e).toEqual({ kind: 'failed', reason: 'retry window of 4s exhausted after 5 attempts; last error: timed out after 2000 ms' });
  });

  it('schedules at "now" when the anchored time is already past (a late worker)', () => {
    const policy = createRetryPolicy({ intervalMs: 30 * M, windowMs: 24 * H });
    const now = new Date(first.getTime() + 5 * H);
    expect(policy.decide({ result: fail503, attemptNumber: 2, firstAttemptAt: first, now })).toEqual({ kind: 'retry', at: now });
  });
});

describe('failure classes', () => {
  const policy = createRetryPolicy({ intervalMs: S, windowMs: 4 * S });
  const decide = (r: AttemptResult) => policy.decide({ result: r, attemptNumber: 1, firstAttemptAt: first, now: first });

  it.each([
    ['none', null, 'succeeded'],
    ['http_status', 'HTTP 500 Internal Server Error', 'retry'],
    ['timeout', 'timed out after 2000 ms', 'retry'],
    ['network', 'connection refused (ECONNREFUSED 127.0.0.1:9)', 'retry'],
    ['refused_address', 'webhook host "localhost" resolves to 127.0.0.1, a loopback address; set …', 'failed'],
    ['invalid_url', 'invalid URL: the rendered URL is empty', 'failed'],
  ] as const)('%s → %s', (cls, error, kind) => {
    const d = decide(result(cls, error));
    expect(d.kind).toBe(kind);
    if (d.kind === 'failed') expect(d.reason).toContain(error);
  });
});

describe('config and input checks', () => {
  it('refuses a non-positive interval or a negative window', () => {
    expect(() => createRetryPolicy({ intervalMs: 0, windowMs: 1 })).toThrow(/interval/);
    expect(() => createRetryPolicy({ intervalMs: 1, windowMs: -1 })).toThrow(/window/);
  });
  it('refuses attempt numbers below 1', () => {
    const policy = createRetryPolicy({ intervalMs: S, windowMs: 4 * S });
    expect(() => policy.decide({ result: fail503, attemptNumber: 0, firstAttemptAt: first, now: first })).toThrow(/attemptNumber/);
  });
  it.each([
    [24 * H, '24h'],
    [30 * M, '30m'],
    [4 * S, '4s'],
    [1500, '1500ms'],
    [90 * M, '90m'],
  ])('formatDuration(%i) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('mayStart: no attempt later than the window (plus a pickup grace of one interval, 5 s at most)', () => {
  const policy = createRetryPolicy({ intervalMs: 1_000, windowMs: 4_000 });
  const first = new Date(0);
  it.each([
    [null, 999_999, true],
    [first, 0, true],
    [first, 4_000, true],
    [first, 5_000, true],
    [first, 5_001, false],
    [first, 60_000, false],
  ] as const)('first %s, now +%i ms → %s', (firstAt, now, expected) => {
    expect(policy.mayStart(firstAt, new Date(now))).toBe(expected);
  });
});

describe('mayStart with the default 30 m / 24 h: the grace is 5 s, not an interval', () => {
  const policy = createRetryPolicy({ intervalMs: 30 * 60_000, windowMs: 24 * 3_600_000 });
  const first = new Date(0);
  it.each([
    [24 * 3_600_000, true],
    [24 * 3_600_000 + 5_000, true],
    [24 * 3_600_000 + 5_001, false],
    [24 * 3_600_000 + 10 * 60_000, false],
  ] as const)('now +%i ms → %s', (now, expected) => {
    expect(policy.mayStart(first, new Date(now))).toBe(expected);
  });
});
