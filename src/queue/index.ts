/**
 * What the two work queues (deliveries, ticket events) share and neither owns: the batch
 * claim with a lease (claim.ts), the wake/drain loop (drain.ts), and the job engine for
 * timed wake-ups and sweeps (jobs.ts). It knows neither queue's rows.
 */
export { defineClaim, type Claim, type ClaimSpec, type Queryable } from './claim.js';
export { DrainLoop } from './drain.js';
export { createJobEngine, type JobEngine, type JobEngineOptions, type JobOptions } from './jobs.js';
