import { OPEN_DELIVERY_STATUSES } from '../domain/index.js';

/**
 * SQL: a delivery row still open (PENDING or RETRYING), `status in (…)`; prefix a table
 * alias as `d.${OPEN}`. The partial indexes of open deliveries have the same predicate,
 * so that the planner uses them.
 */
export const OPEN = `status in (${OPEN_DELIVERY_STATUSES.map((s) => `'${s}'`).join(', ')})`;
