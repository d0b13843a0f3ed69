/** Rules as the console edits them, and their RuleInput (updateRule replaces the whole definition). */
import { graphql } from './gql';
import type { ActionType, ConditionOperator, MatchType, RuleInput, TicketEvent } from './gql/graphql';

/** A rule's whole definition as the list and the editor read it (what formOf needs, with the names they show). */
export const RuleDefinition = graphql(`
  fragment ConsoleRuleDefinition on Rule {
    id
    name
    description
    enabled
    position
    continueAfterMatch
    events
    match
    conditions {
      field
      operator
      value
    }
    actions {
      type
      webhook {
        id
        name
      }
      field
      value
      awaitResponse
    }
  }
`);

export interface RuleActionRow {
  type: ActionType;
  webhookId: string;
  field: string;
  value: string;
  awaitResponse: boolean;
}

export interface RuleConditionRow {
  field: string;
  operator: ConditionOperator;
  value: string;
}

export interface RuleForm {
  name: string;
  description: string;
  enabled: boolean;
  position: number;
  continueAfterMatch: boolean;
  events: TicketEvent[];
  match: MatchType;
  conditions: RuleConditionRow[];
  actions: RuleActionRow[];
}

export interface RuleLike {
  name: string;
  description: string;
  enabled: boolean;
  position: number;
  continueAfterMatch: boolean;
  events: readonly TicketEvent[];
  match: MatchType;
  conditions: readonly { field: string; operator: ConditionOperator; value?: string | null }[];
  actions: readonly { type: ActionType; webhook?: { id: string } | null; field?: string | null; value?: string | null; awaitResponse: boolean }[];
}

export const NO_VALUE_OPERATORS: readonly ConditionOperator[] = ['IS_EMPTY', 'IS_NOT_EMPTY', 'CHANGED'];

export function formOf(r: RuleLike): RuleForm {
  return {
    name: r.name,
    description: r.description,
    enabled: r.enabled,
    position: r.position,
    continueAfterMatch: r.continueAfterMatch,
    events: [...r.events],
    match: r.match,
    conditions: r.conditions.map((c) => ({ field: c.field, operator: c.operator, value: c.value ?? '' })),
    actions: r.actions.map((a) => ({
      type: a.type,
      webhookId: a.webhook?.id ?? '',
      field: a.field ?? '',
      value: a.value ?? '',
      awaitResponse: a.awaitResponse,
    })),
  };
}

export function ruleInput(f: RuleForm): RuleInput {
  return {
    name: f.name,
    description: f.description,
    enabled: f.enabled,
    position: f.position,
    continueAfterMatch: f.continueAfterMatch,
    events: f.events,
    match: f.match,
    conditions: f.conditions.map((c) => ({ field: c.field, operator: c.operator, value: NO_VALUE_OPERATORS.includes(c.operator) ? null : c.value })),
    actions: f.actions.map((a) =>
      a.type === 'SEND_WEBHOOK'
        ? { type: a.type, webhookId: a.webhookId || null, awaitResponse: a.awaitResponse }
        : a.type === 'SET_CUSTOM_FIELD'
          ? { type: a.type, field: a.field, value: a.value }
          : { type: a.type, value: a.value },
    ),
  };
}
