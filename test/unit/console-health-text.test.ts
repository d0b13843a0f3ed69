/**
 * The console's words for a webhook's recent attempts (web/src/components/recent-attempts.ts):
 * "all … succeeded" only when none failed, 100% only when all did.
 */
import { describe, expect, it } from 'vitest';
import { recentText } from '../../web/src/components/recent-attempts.js';

describe('recent attempts as the console words them', () => {
  it.each([
    [0, 0, 'no attempts in the last 5 min'],
    [1, 0, 'all 1 attempt in the last 5 min succeeded'],
    [12, 0.75, '75% of 12 attempts in the last 5 min failed'],
    [10, 1, '100% of 10 attempts in the last 5 min failed'],
    // one failure among many is no clean record, one success among many no total failure
    [300, 1 / 300, '1% of 300 attempts in the last 5 min failed'],
    [1000, 4 / 1000, '1% of 1000 attempts in the last 5 min failed'],
    [300, 299 / 300, '99% of 300 attempts in the last 5 min failed'],
  ])('%i attempts, failure rate %f: %s', (attempts, rate, text) => {
    expect(recentText(attempts, rate)).toBe(text);
  });
});
