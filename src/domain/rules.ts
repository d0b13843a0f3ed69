/** ALL: every condition must hold. ANY: at least one must hold. No conditions: the rule matches its events. */
export const MATCH_TYPES = ['ALL', 'ANY'] as const;
export type MatchType = (typeof MATCH_TYPES)[number];

export const CONDITION_OPERATORS = [
  'EQUALS', 'NOT_EQUALS', 'CONTAINS', 'NOT_CONTAINS', 'IS_EMPTY', 'IS_NOT_EMPTY',
  'GREATER_THAN', 'LESS_THAN', 'CHANGED', 'CHANGED_TO', 'CHANGED_FROM',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export const ACTION_TYPES = [
  'SEND_WEBHOOK', 'ADD_COMMENT', 'ADD_REPLY', 'SET_STATUS', 'SET_PRIORITY', 'SET_ASSIGNEE', 'SET_CUSTOM_FIELD',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

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
