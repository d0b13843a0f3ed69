/**
 * A webhook's circuit breaker: CLOSED sends, OPEN holds the webhook's due deliveries,
 * HALF_OPEN while a probe is in flight. A webhook without a state row is CLOSED.
 */
export const BREAKER_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

/** The breaker judges a webhook by its attempts started within this window (and since its last close). */
export const BREAKER_WINDOW_MS = 5 * 60_000;
