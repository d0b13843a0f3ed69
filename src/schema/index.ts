/** The GraphQL schema's types (type-graphql classes) and enums; contract.graphql is the printed contract. */
export * from './enums.js';
export { ID } from './id-scalar.js';
export * from './helpdesk-types.js';
export * from './webhook-types.js';
export * from './webhook-health-types.js';
export * from './rule-types.js';
export * from './delivery-types.js';
