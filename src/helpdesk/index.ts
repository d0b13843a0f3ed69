/** The helpdesk services: users and API keys, tickets and posts, custom fields, text limits, the event outbox. */
export * from './actor.js';
export * from './api-keys.js';
export * from './custom-field-value.js';
export * from './custom-fields.js';
export * from './events.js';
export * from './text-input.js';
export * from './tickets.js';
export * from './users.js';
