/**
 * Delivery: a webhook and a ticket become a rendered request (request.ts), sent with
 * undici behind the address guard (send.ts), judged by the retry policy (policy.ts),
 * recorded in batches (store.ts, outcome.ts, recorder.ts) by the worker (worker.ts),
 * answered back onto the ticket (response.ts), and published on the live feed (events.ts).
 */
export type { AttemptResult, HeaderDef, WebhookDef } from './types.js';
export { checkHostLiteral, classifyAddress, createGuardedLookup, guardedLookup, REFUSED_CODE, RefusedAddressError, type AddressClass } from './address-guard.js';
export { openCredentials, sealCredentials } from './credentials.js';
export {
  createDeliveryEventHub,
  matches,
  messagesOnly,
  type DeliveryEventFilter,
  type DeliveryEventHub,
  type DeliveryFeedItem,
  type DeliverySubscription,
  type FeedLoader,
  type FlowGate,
  type HubOptions,
} from './events.js';
export { feedLoader, type AttemptRow, type DeliveryRow } from './feed-loader.js';
export { createJobEngine, type JobEngine, type JobEngineOptions } from './jobs.js';
export { createRetryPolicy, formatDuration, maxAttempts, type DecideInput, type RetryPolicy, type RetryPolicyConfig } from './policy.js';
export {
  authorizationFor,
  previewRequest,
  REDACTED,
  redactedAuthorization,
  renderRequest,
  RequestRenderError,
  urlTagProblem,
  validateWebhookDefinition,
  type RenderOptions,
  type WebhookDefinitionInput,
} from './request.js';
export { applyMappings, getPath, parseMappingPath, parseResponseBody, type MappingOutcome, type ParsedBody } from './response.js';
export { createSender, DEFAULT_MAX_RESPONSE_BYTES, type Sender, type SenderOptions } from './send.js';
export {
  attemptsOf,
  createDeliveryService,
  findDelivery,
  listDeliveries,
  type DeliveryListFilter,
  type DeliveryService,
  type NewDelivery,
} from './service.js';
export { cutText, isStorableText, storableFromBytes, storableText, storableValue } from './storable.js';
export { DELIVERIES_CHANNEL, DELIVERY_EVENTS_CHANNEL, eventPayloads, isAttemptInFlight } from './store.js';
export { createWebhook, deleteWebhook, findWebhook, getWebhook, listWebhooks, updateWebhook, webhookDef, type WebhookInput } from './webhooks.js';
export { DeliveryWorker, type WorkerOptions } from './worker.js';
