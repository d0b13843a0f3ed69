/**
 * Delivery: a webhook and a ticket become a rendered request (request.ts), sent with
 * undici behind the address guard (send.ts) and signed per attempt (signing.ts, with the
 * webhook's secrets and success rule read at send time by send-policy.ts), judged by its
 * success rule (success-rule.ts) and the retry policy (policy.ts) into
 * an outcome (outcome.ts), recorded in batches by the worker (worker.ts, recorder.ts)
 * through the one owner of delivery rows and their feed messages (store.ts), answered
 * back onto the ticket (response.ts, write-back.ts), and published on the live feed (events.ts).
 * Webhook definitions are saved, deleted and previewed by the webhook service (webhooks.ts);
 * view.ts says what a delivery shows its readers beyond its columns.
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
export { createRetryPolicy, formatDuration, maxAttempts, retryAfterTime, startDeadlineMs, type DecideInput, type RetryPolicy, type RetryPolicyConfig } from './policy.js';
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
  DELIVERY_PAGE_RANGE,
  DELIVERY_PAGE_SIZE,
  findDelivery,
  TICKET_DELIVERY_PAGE_SIZE,
  deliveriesOfTickets,
  listDeliveries,
  listStatements,
  type DeliveryDraft,
  type DeliveryPageResult,
  type DeliveryService,
  type DeliveryOrigin,
  type DraftInput,
  type NewDelivery,
  type TicketDeliveryPage,
} from './service.js';
export { filterCondition, filterSql, MAX_SEARCH_LENGTH, substringPattern, type DeliveryListFilter } from './filter.js';
export { BULK_LIMIT, type BulkResult } from './bulk.js';
export { createSearchWindows, rarestWindow, type SearchWindows } from './search-window.js';
export { cutText, isStorableText, storableText, storableValue } from './storable.js';
export { DELIVERIES_CHANNEL, DELIVERY_EVENTS_CHANNEL, eventPayloads, feedMessages, isAttemptInFlight, releaseWaitingTurns, type Transition } from './store.js';
export { createWorkerStore } from './recorder.js';
export { createWebhookHealthService, STATS_MAX_HOURS, statsBucketLimit, type StatsBucketView, type WebhookHealthService, type WebhookHealthView, type WebhookStatsView } from './health.js';
export {
  createWebhookService,
  findWebhook,
  getWebhook,
  PREVIEW_DELIVERY_ID,
  unopenableSecrets,
  webhookDef,
  webhookOffMessage,
  type RulesUsingWebhook,
  type WebhookInput,
  type WebhookService,
  type WebhookServiceDeps,
} from './webhooks.js';
export { judgeAnswer, parseStatuses, successRuleOf, successRuleProblems, type SuccessRuleInput } from './success-rule.js';
export { newSigningSecret, signatureHeaders, signingKey, SIGNING_SECRET_PREFIX } from './signing.js';
export { deliveryView, type DeliveryView, type DeliveryViewInput } from './view.js';
export { DeliveryWorker, type WorkerOptions, type WorkerStore } from './worker.js';
export { DeliveryTextIndexer, indexDeliveryTexts, type TextIndexerOptions } from './text-indexer.js';
