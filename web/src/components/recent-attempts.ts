/**
 * How a webhook's recent attempts went (the health's 5-minute window), in the console's
 * words, stated apart from the breaker. "all … succeeded" only when none failed, 100%
 * only when all did: a share between them is shown as 1–99%, however it rounds.
 */
export function recentText(attempts: number, failureRate: number): string {
  if (attempts === 0) return 'no attempts in the last 5 min';
  const failed = Math.round(failureRate * attempts);
  const of = `${attempts} ${attempts === 1 ? 'attempt' : 'attempts'} in the last 5 min`;
  if (failed === 0) return `all ${of} succeeded`;
  const percent = failed === attempts ? 100 : Math.min(99, Math.max(1, Math.round(failureRate * 100)));
  return `${percent}% of ${of} failed`;
}
