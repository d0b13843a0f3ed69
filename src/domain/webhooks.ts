import type { ConditionOperator } from './rules.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const BODY_FORMATS = ['JSON', 'XML', 'FORM'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

export const AUTH_TYPES = ['NONE', 'BASIC', 'BEARER'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** Where a value read from a receiver's answer goes: a custom field of the ticket, or a temporary field for later templates. */
export const MAPPING_TARGETS = ['CUSTOM_FIELD', 'TEMPORARY'] as const;
export type MappingTarget = (typeof MAPPING_TARGETS)[number];

export interface ResponseMappingDef {
  path: string;
  target: MappingTarget;
  field: string;
}

/**
 * A webhook header as stored. A secret one (a credential such as X-Api-Key) keeps its value
 * sealed with the SecretBox in `sealed`; its `value` is empty.
 */
export interface StoredHeader {
  name: string;
  value: string;
  secret?: boolean;
  sealed?: string;
}

/** A request exactly as it will be sent. `headers` exclude Authorization (see auth). */
export interface RenderedRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** What a status outside a success rule's statuses, or a failed path check, does to the delivery. */
export const SUCCESS_FAILURE_ACTIONS = ['RETRY', 'FAIL'] as const;
export type SuccessFailureAction = (typeof SUCCESS_FAILURE_ACTIONS)[number];

/** NONE: deliveries are independent. PER_TICKET: one at a time per (webhook, ticket), in creation order. */
export const DELIVERY_ORDERINGS = ['NONE', 'PER_TICKET'] as const;
export type DeliveryOrdering = (typeof DELIVERY_ORDERINGS)[number];

/**
 * When an answer counts as success, as stored (`webhooks.success_rule`; null there is
 * DEFAULT_SUCCESS_RULE): `statuses` is a list of codes and ranges ("200-299,304"), `path`
 * an optional response path (the syntax of ResponseMapping.path) whose value must satisfy
 * `operator`/`value`.
 */
export interface SuccessRuleDef {
  statuses: string;
  path: string | null;
  operator: ConditionOperator | null;
  value: string | null;
  onFailure: SuccessFailureAction;
}

export const DEFAULT_SUCCESS_STATUSES = '200-399';

export const DEFAULT_SUCCESS_RULE: Readonly<SuccessRuleDef> = Object.freeze({ statuses: DEFAULT_SUCCESS_STATUSES, path: null, operator: null, value: null, onFailure: 'RETRY' });

/** How long a rotated-out signing secret keeps signing as the second signature. */
export const PREVIOUS_SECRET_VALID_MS = 24 * 3_600_000;

/** Limits of the per-webhook isolation settings. */
export const MAX_CONCURRENCY_RANGE = Object.freeze({ min: 1, max: 1000, default: 10 });
export const RATE_LIMIT_RANGE = Object.freeze({ min: 0.01, max: 10_000 });
