/**
 * Dispatcher data: pure, no ORM entities. Enum values mirror schema.graphql.
 */
export type TicketEventType = 'TICKET_CREATED' | 'TICKET_UPDATED' | 'REPLY_ADDED' | 'COMMENT_ADDED';
export type MatchType = 'ALL' | 'ANY';
export type ConditionOperator =
  | 'EQUALS' | 'NOT_EQUALS' | 'CONTAINS' | 'NOT_CONTAINS' | 'IS_EMPTY' | 'IS_NOT_EMPTY'
  | 'GREATER_THAN' | 'LESS_THAN' | 'CHANGED' | 'CHANGED_TO' | 'CHANGED_FROM';
export type ActionType =
  | 'SEND_WEBHOOK' | 'ADD_COMMENT' | 'ADD_REPLY' | 'SET_STATUS' | 'SET_PRIORITY' | 'SET_ASSIGNEE' | 'SET_CUSTOM_FIELD';

export interface ConditionDef {
  /** title, description, status, priority, requester.email, requester.role, assignee.email, parent, lastReplyAuthor, custom.<key> */
  field: string;
  operator: ConditionOperator;
  value: string | null;
}

export interface ActionDef {
  type: ActionType;
  webhookId: string | null;
  field: string | null;
  value: string | null;
  awaitResponse: boolean;
}

export interface RuleDef {
  id: string;
  name: string;
  enabled: boolean;
  position: number;
  continueAfterMatch: boolean;
  events: TicketEventType[];
  match: MatchType;
  conditions: ConditionDef[];
  actions: ActionDef[];
}

/** One changed field of a TICKET_UPDATED event; field names as in ConditionDef.field. */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** The ticket as conditions see it, after the change. */
export interface TicketSnapshot {
  id: string;
  title: string;
  description: string;
  status: string;
  priority: string;
  requester: { email: string; role: string };
  assignee: { email: string } | null;
  parentId: string | null;
  /** role of the author of the newest REPLY: 'CLIENT' or 'STAFF'; null with no replies */
  lastReplyAuthor: 'CLIENT' | 'STAFF' | null;
  custom: Record<string, unknown>;
}

export interface CustomFieldInfo {
  type: 'TEXT' | 'NUMBER' | 'BOOLEAN' | 'DATE' | 'SELECT';
  options: string[];
}

export interface DispatchEvent {
  type: TicketEventType;
  changes: FieldChange[];
}
