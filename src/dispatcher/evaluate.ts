/**
 * Pure evaluation: event + ticket + rules → the rules to execute, in order. It does not
 * run actions, touch the database or read the clock, so it is
 * tested as tables and the action runner decides what executing means.
 */
import { operatorFits, resolveField } from './fields.js';
import { OPERATORS, isOperator, type ChangeView } from './operators.js';
import type { ConditionDef, TicketSnapshot } from '../domain/index.js';
import type { CustomFieldInfo, DispatchEvent, RuleDef } from './types.js';

/**
 * Whether one condition holds. A condition that no longer makes sense — its custom field
 * was deleted, its operator does not fit the field (any more) — never holds: a stale rule
 * must go quiet rather than fire on every event.
 */
export function conditionHolds(
  condition: ConditionDef,
  event: DispatchEvent,
  ticket: TicketSnapshot,
  customFields: ReadonlyMap<string, CustomFieldInfo>,
): boolean {
  const field = resolveField(condition.field, customFields);
  if (!field || !isOperator(condition.operator) || !operatorFits(field, condition.operator)) return false;
  const op = OPERATORS[condition.operator];
  // an e-mail address is stored trimmed and lower-cased: " Ann@Example.com" in a condition names ann@example.com
  const fold = <T>(v: T): T => (field.anyCase && typeof v === 'string' ? (v.trim().toLowerCase() as T) : v);
  const change = op.usesChanges ? changeOf(event, condition.field) : null;
  return op.test({
    kind: field.kind,
    actual: fold(field.read(ticket)),
    expected: fold(condition.value),
    change: change && { old: fold(change.old), new: fold(change.new) },
  });
}

/** Change sets only exist for TICKET_UPDATED; for any other event CHANGED* see no change. */
function changeOf(event: DispatchEvent, field: string): ChangeView | null {
  if (event.type !== 'TICKET_UPDATED') return null;
  return event.changes.find((c) => c.field === field) ?? null;
}

/** The rule listens to the event and its conditions hold (ALL / ANY; no conditions: always). */
export function ruleMatches(
  rule: RuleDef,
  event: DispatchEvent,
  ticket: TicketSnapshot,
  customFields: ReadonlyMap<string, CustomFieldInfo>,
): boolean {
  if (!rule.enabled || !rule.events.includes(event.type)) return false;
  if (rule.conditions.length === 0) return true; // [].some() would be false for ANY
  const holds = (c: ConditionDef) => conditionHolds(c, event, ticket, customFields);
  return rule.match === 'ANY' ? rule.conditions.some(holds) : rule.conditions.every(holds);
}

const DIGITS = /^\d+$/;

/** Ids as numbers when both are numeric (without Number(): ids may exceed 2^53), else as text. */
function compareIds(a: string, b: string): number {
  if (DIGITS.test(a) && DIGITS.test(b)) {
    const x = a.replace(/^0+(?=\d)/, ''), y = b.replace(/^0+(?=\d)/, '');
    if (x.length !== y.length) return x.length - y.length;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Position first, then id: the order is total, so evaluation never depends on load order. */
export function compareRules(a: RuleDef, b: RuleDef): number {
  return a.position - b.position || compareIds(a.id, b.id);
}

/**
 * The rules to execute for this event, in execution order. The first matching rule is
 * executed; the next rules are checked only while each matched rule has
 * continueAfterMatch, so evaluation stops after the first matched rule without it.
 * A TIMER event belongs to the rule whose timer raised it: only that rule is judged (its
 * conditions again, as of the firing), and never for a CLOSED ticket.
 */
export function evaluate(
  event: DispatchEvent,
  ticket: TicketSnapshot,
  rules: RuleDef[],
  customFields: ReadonlyMap<string, CustomFieldInfo>,
): RuleDef[] {
  if (event.type === 'TIMER') {
    const rule = rules.find((r) => r.id === event.ruleId);
    return rule && ticket.status !== 'CLOSED' && ruleMatches(rule, event, ticket, customFields) ? [rule] : [];
  }
  const selected: RuleDef[] = [];
  for (const rule of [...rules].sort(compareRules)) {
    if (!ruleMatches(rule, event, ticket, customFields)) continue;
    selected.push(rule);
    if (!rule.continueAfterMatch) break;
  }
  return selected;
}
