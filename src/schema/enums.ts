/**
 * The contract's GraphQL enums, derived from the const arrays of src/domain: each enum
 * object maps a value to itself, and its TypeScript type is the domain's union, so the
 * domain, the entities and the schema spell every enum the same way.
 */
import { registerEnumType } from 'type-graphql';
import * as domain from '../domain/index.js';

/** `['A', 'B']` → `{ A: 'A', B: 'B' }`, in the array's order (the order of the enum's values). */
function enumOf<const T extends readonly string[]>(values: T): { readonly [K in T[number]]: K } {
  return Object.freeze(Object.fromEntries(values.map((v) => [v, v]))) as { readonly [K in T[number]]: K };
}

export const Role = enumOf(domain.ROLES);
export type Role = domain.Role;
export const TicketStatus = enumOf(domain.TICKET_STATUSES);
export type TicketStatus = domain.TicketStatus;
export const TicketPriority = enumOf(domain.TICKET_PRIORITIES);
export type TicketPriority = domain.TicketPriority;
export const PostKind = enumOf(domain.POST_KINDS);
export type PostKind = domain.PostKind;
export const CustomFieldType = enumOf(domain.CUSTOM_FIELD_TYPES);
export type CustomFieldType = domain.CustomFieldType;
export const HttpMethod = enumOf(domain.HTTP_METHODS);
export type HttpMethod = domain.HttpMethod;
export const BodyFormat = enumOf(domain.BODY_FORMATS);
export type BodyFormat = domain.BodyFormat;
export const AuthType = enumOf(domain.AUTH_TYPES);
export type AuthType = domain.AuthType;
export const MappingTarget = enumOf(domain.MAPPING_TARGETS);
export type MappingTarget = domain.MappingTarget;
export const TicketEvent = enumOf(domain.TICKET_EVENT_TYPES);
export type TicketEvent = domain.TicketEventType;
export const MatchType = enumOf(domain.MATCH_TYPES);
export type MatchType = domain.MatchType;
export const ConditionOperator = enumOf(domain.CONDITION_OPERATORS);
export type ConditionOperator = domain.ConditionOperator;
export const ActionType = enumOf(domain.ACTION_TYPES);
export type ActionType = domain.ActionType;
export const DeliveryStatus = enumOf(domain.DELIVERY_STATUSES);
export type DeliveryStatus = domain.DeliveryStatus;
export const DeliveryEventType = enumOf(domain.DELIVERY_EVENT_TYPES);
export type DeliveryEventType = domain.DeliveryEventType;
export const SuccessFailureAction = enumOf(domain.SUCCESS_FAILURE_ACTIONS);
export type SuccessFailureAction = domain.SuccessFailureAction;
export const DeliveryOrdering = enumOf(domain.DELIVERY_ORDERINGS);
export type DeliveryOrdering = domain.DeliveryOrdering;

registerEnumType(Role, { name: 'Role' });
registerEnumType(TicketStatus, { name: 'TicketStatus' });
registerEnumType(TicketPriority, { name: 'TicketPriority' });
registerEnumType(PostKind, { name: 'PostKind', description: 'REPLY: public answer in the conversation. COMMENT: internal note, never shown to clients.' });
registerEnumType(CustomFieldType, { name: 'CustomFieldType' });
registerEnumType(HttpMethod, { name: 'HttpMethod' });
registerEnumType(BodyFormat, { name: 'BodyFormat' });
registerEnumType(AuthType, { name: 'AuthType' });
registerEnumType(MappingTarget, { name: 'MappingTarget' });
registerEnumType(TicketEvent, {
  name: 'TicketEvent',
  description: "The events ('mandatory conditions') a rule listens to.",
  valuesConfig: { TIMER: { description: "fires when a rule's time condition (timeSince*) becomes true for a ticket; once per rule, ticket and start of that clock" } },
});
registerEnumType(MatchType, { name: 'MatchType', description: 'ALL: every condition must hold. ANY: at least one must hold. No conditions: the rule matches its events.' });
registerEnumType(ConditionOperator, { name: 'ConditionOperator' });
registerEnumType(ActionType, { name: 'ActionType' });
registerEnumType(DeliveryStatus, { name: 'DeliveryStatus' });
registerEnumType(DeliveryEventType, { name: 'DeliveryEventType' });
registerEnumType(SuccessFailureAction, { name: 'SuccessFailureAction' });
registerEnumType(DeliveryOrdering, {
  name: 'DeliveryOrdering',
  valuesConfig: {
    NONE: { description: 'deliveries are independent (default)' },
    PER_TICKET: { description: 'deliveries of this webhook for one ticket are sent one at a time in creation order; the next waits until the previous one is final' },
  },
});
