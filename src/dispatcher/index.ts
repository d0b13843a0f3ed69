/** The dispatcher: rules (save-time validation, storage), pure evaluation, the action runner, the outbox drain and its set-based batches. */
export * from './types.js';
export * from './operators.js';
export * from './fields.js';
export * from './evaluate.js';
export * from './validate-rule.js';
export * from './rules.js';
export * from './actions.js';
export * from './processor.js';
export * from './definitions.js';
export * from './batch.js';
export * from './timers.js';
