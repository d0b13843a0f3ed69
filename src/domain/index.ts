/**
 * The shared vocabulary: plain types and const arrays, imported by every layer and
 * importing nothing of ours. GraphQL enums (src/schema) are derived from the arrays.
 */
export * from './users.js';
export * from './tickets.js';
export * from './events.js';
export * from './rules.js';
export * from './webhooks.js';
export * from './deliveries.js';
export * from './breaker.js';
export * from './problems.js';
export * from './one-of.js';
export * from './decimal.js';
export * from './ids.js';
