import { registerEnumType } from 'type-graphql';

// TypeScript enums whose values equal their names, as the contract's GraphQL enums.
export enum Role { ADMIN = 'ADMIN', AGENT = 'AGENT', CLIENT = 'CLIENT' }
export enum TicketStatus { OPEN = 'OPEN', IN_PROGRESS = 'IN_PROGRESS', WAITING = 'WAITING', RESOLVED = 'RESOLVED', CLOSED = 'CLOSED' }
export enum TicketPriority { LOW = 'LOW', NORMAL = 'NORMAL', HIGH = 'HIGH', URGENT = 'URGENT' }
export enum PostKind { REPLY = 'REPLY', COMMENT = 'COMMENT' }
export enum CustomFieldType { TEXT = 'TEXT', NUMBER = 'NUMBER', BOOLEAN = 'BOOLEAN', DATE = 'DATE', SELECT = 'SELECT' }
export enum HttpMethod { GET = 'GET', POST = 'POST', PUT = 'PUT', PATCH = 'PATCH', DELETE = 'DELETE' }
export enum BodyFormat { JSON = 'JSON', XML = 'XML', FORM = 'FORM' }
export enum AuthType { NONE = 'NONE', BASIC = 'BASIC', BEARER = 'BEARER' }
export enum MappingTarget { CUSTOM_FIELD = 'CUSTOM_FIELD', TEMPORARY = 'TEMPORARY' }
export enum TicketEvent { TICKET_CREATED = 'TICKET_CREATED', TICKET_UPDATED = 'TICKET_UPDATED', REPLY_ADDED = 'REPLY_ADDED', COMMENT_ADDED = 'COMMENT_ADDED' }
export enum MatchType { ALL = 'ALL', ANY = 'ANY' }
export enum ConditionOperator {
  EQUALS = 'EQUALS', NOT_EQUALS = 'NOT_EQUALS', CONTAINS = 'CONTAINS', NOT_CONTAINS = 'NOT_CONTAINS',
  IS_EMPTY = 'IS_EMPTY', IS_NOT_EMPTY = 'IS_NOT_EMPTY', GREATER_THAN = 'GREATER_THAN', LESS_THAN = 'LESS_THAN',
  CHANGED = 'CHANGED', CHANGED_TO = 'CHANGED_TO', CHANGED_FROM = 'CHANGED_FROM',
}
export enum ActionType {
  SEND_WEBHOOK = 'SEND_WEBHOOK', ADD_COMMENT = 'ADD_COMMENT', ADD_REPLY = 'ADD_REPLY', SET_STATUS = 'SET_STATUS',
  SET_PRIORITY = 'SET_PRIORITY', SET_ASSIGNEE = 'SET_ASSIGNEE', SET_CUSTOM_FIELD = 'SET_CUSTOM_FIELD',
}
export enum DeliveryStatus { PENDING = 'PENDING', RETRYING = 'RETRYING', SUCCEEDED = 'SUCCEEDED', FAILED = 'FAILED', CANCELLED = 'CANCELLED' }
export enum DeliveryEventType { QUEUED = 'QUEUED', ATTEMPTED = 'ATTEMPTED', SUCCEEDED = 'SUCCEEDED', FAILED = 'FAILED', CANCELLED = 'CANCELLED' }

registerEnumType(Role, { name: 'Role' });
registerEnumType(TicketStatus, { name: 'TicketStatus' });
registerEnumType(TicketPriority, { name: 'TicketPriority' });
registerEnumType(PostKind, { name: 'PostKind', description: 'REPLY: public answer in the conversation. COMMENT: internal note, never shown to clients.' });
registerEnumType(CustomFieldType, { name: 'CustomFieldType' });
registerEnumType(HttpMethod, { name: 'HttpMethod' });
registerEnumType(BodyFormat, { name: 'BodyFormat' });
registerEnumType(AuthType, { name: 'AuthType' });
registerEnumType(MappingTarget, { name: 'MappingTarget' });
registerEnumType(TicketEvent, { name: 'TicketEvent', description: "The events ('mandatory conditions') a rule listens to." });
registerEnumType(MatchType, { name: 'MatchType', description: 'ALL: every condition must hold. ANY: at least one must hold. No conditions: the rule matches its events.' });
registerEnumType(ConditionOperator, { name: 'ConditionOperator' });
registerEnumType(ActionType, { name: 'ActionType' });
registerEnumType(DeliveryStatus, { name: 'DeliveryStatus' });
registerEnumType(DeliveryEventType, { name: 'DeliveryEventType' });
