/**
 * Save-time validation of a RuleInput: every problem at once, each naming the GraphQL
 * input path it concerns (`conditions[1].operator`), so a UI can put the message next to
 * the right control. Pure: whatever needs the database (webhooks, users) or the template
 * engine comes in through ValidationContext.
 */
import { BUILT_IN_FIELD_NAMES, CUSTOM_PREFIX, isTimeField, operatorsFor, resolveField, valueProblem, TIME_FIELD_CLOCKS } from './fields.js';
import { OPERATORS, OPERATOR_NAMES, isOperator } from './operators.js';
import { ACTION_TYPES, isId, isOneOf, TICKET_EVENT_TYPES, TICKET_PRIORITIES, TICKET_STATUSES } from '../domain/index.js';
import type { CustomFieldInfo } from './types.js';
import { checkText, convertCustomFieldValue, TEXT_LIMITS } from '../helpdesk/index.js';
import { scanTemplate } from '../templates/index.js';

export interface ConditionInputLike {
  field: string;
  operator: string;
  value?: string | null;
}

export interface ActionInputLike {
  type: string;
  webhookId?: string | null;
  field?: string | null;
  value?: string | null;
  awaitResponse?: boolean | null;
}

export interface RuleInputLike {
  name: string;
  description?: string | null;
  events: string[];
  match?: string | null;
  conditions?: ConditionInputLike[] | null;
  actions: ActionInputLike[];
}

export interface ValidationContext {
  customFields: ReadonlyMap<string, CustomFieldInfo>;
  webhookExists: (id: string) => boolean;
  /** the role of that user, or null if there is none */
  assigneeRole: (id: string) => string | null;
  /** an error message, or null if the template is valid */
  checkTemplate: (source: string) => string | null;
}

export interface FieldError {
  field: string;
  message: string;
}

const ASSIGNABLE_ROLES = ['ADMIN', 'AGENT'];

/**
 * A value with a tag — `{{ path }}` or a HelpDeskEddy tag such as `{ticket_id}` — is a
 * template, rendered when the action runs; any other value is fixed and checked as the
 * value it is. A `{{` that is no valid tag also makes a template, refused by its check.
 */
function isTemplate(v: string): boolean {
  if (v.includes('{{')) return true;
  return scanTemplate(v, 'action').some((part) => typeof part !== 'string');
}
const blank = (v: string | null | undefined): v is null | undefined | '' => v === null || v === undefined || v === '';

type Report = (field: string, message: string) => void;

/** Length limits and unstorable characters of every text field. */
function textErrors(input: RuleInputLike): FieldError[] {
  const { name, line, text } = TEXT_LIMITS;
  const errors: FieldError[] = [];
  checkText(errors, 'name', input.name, name);
  checkText(errors, 'description', input.description, text);
  (input.conditions ?? []).forEach((c, i) => {
    checkText(errors, `conditions[${i}].field`, c.field, name);
    checkText(errors, `conditions[${i}].value`, c.value, line);
  });
  input.actions.forEach((a, i) => {
    checkText(errors, `actions[${i}].field`, a.field, name);
    checkText(errors, `actions[${i}].value`, a.value, text);
  });
  return errors;
}

export function validateRuleInput(input: RuleInputLike, ctx: ValidationContext): FieldError[] {
  // nothing else is judged on text that is too long or cannot be stored
  const errors = textErrors(input);
  if (errors.length) return errors;
  const report: Report = (field, message) => errors.push({ field, message });

  if (input.name.trim() === '') report('name', 'must not be empty');

  if (input.events.length === 0) report('events', 'a rule needs at least one event');
  input.events.forEach((e, i) => {
    if (!isOneOf(TICKET_EVENT_TYPES, e)) report(`events[${i}]`, `unknown event "${e}"; use one of ${TICKET_EVENT_TYPES.join(', ')}`);
  });

  if (input.match != null && input.match !== 'ALL' && input.match !== 'ANY') {
    report('match', `unknown match "${input.match}"; use ALL or ANY`);
  }

  (input.conditions ?? []).forEach((c, i) => validateCondition(c, `conditions[${i}]`, ctx, report));
  neverRuns(input, errors, report);
  // a TIMER fires when time makes the conditions true: only a "more than" time condition becomes true by waiting
  if (input.events.includes('TIMER') && !(input.conditions ?? []).some((c) => isTimeField(c.field) && c.operator === 'GREATER_THAN')) {
    report('conditions', `a TIMER rule needs at least one GREATER_THAN condition on a time field (${[...TIME_FIELD_CLOCKS.keys()].join(', ')})`);
  }

  if (input.actions.length === 0) report('actions', 'a rule needs at least one action');
  input.actions.forEach((a, i) => validateAction(a, `actions[${i}]`, ctx, report));

  return errors;
}

/**
 * The time fields whose clock an event starts itself. Conditions are judged as of the
 * event, so there such a clock has run 0 s and GREATER_THAN never holds: a ticket's
 * clocks all start at its creation, any event a person raises starts `updated`, a reply
 * the reply clock and a comment the comment clock (clocks.ts).
 */
const CLOCKS_STARTED_BY: Readonly<Record<string, readonly string[]>> = {
  TICKET_CREATED: [...TIME_FIELD_CLOCKS.keys()],
  TICKET_UPDATED: ['timeSinceUpdated'],
  REPLY_ADDED: ['timeSinceUpdated', 'timeSinceLastReply'],
  COMMENT_ADDED: ['timeSinceUpdated', 'timeSinceLastComment'],
};

/** A TIMER is never raised for a CLOSED ticket (closing stops its timers): there a status of CLOSED never holds. */
const isClosedStatus = (c: ConditionInputLike): boolean => c.field === 'status' && c.operator === 'EQUALS' && c.value?.trim() === 'CLOSED';

/** Whether condition `c` can never hold on `event`. */
function deadOn(c: ConditionInputLike, event: string): boolean {
  if (!isOperator(c.operator)) return false;
  if (OPERATORS[c.operator].usesChanges) return event !== 'TICKET_UPDATED';
  if (event === 'TIMER') return isClosedStatus(c);
  return c.operator === 'GREATER_THAN' && (CLOCKS_STARTED_BY[event] ?? []).includes(c.field);
}

/**
 * A rule whose conditions can hold on none of its events is refused (with ALL, one such
 * condition is enough; with ANY, all of them): CHANGED, CHANGED_TO and CHANGED_FROM read
 * the change set, which only TICKET_UPDATED has, a GREATER_THAN on a clock the event
 * starts itself (CLOCKS_STARTED_BY) is judged at 0 s, and a TIMER never comes for a CLOSED
 * ticket. Reported on the condition at fault,
 * unless it is wrong already.
 */
function neverRuns(input: RuleInputLike, errors: readonly FieldError[], report: Report): void {
  const conditions = input.conditions ?? [];
  const events = input.events.filter((e) => isOneOf(TICKET_EVENT_TYPES, e));
  if (events.length === 0 || conditions.length === 0) return;
  const dead = events.map((e) => conditions.map((c) => deadOn(c, e)));
  const runsOn = (row: boolean[]) => (input.match === 'ANY' ? row.some((d) => !d) : row.every((d) => !d));
  if (dead.some(runsOn)) return;
  // the condition that fails on every event (with ANY, every condition does: the first)
  const i = conditions.findIndex((_, j) => dead.every((row) => row[j]));
  const at = i === -1 ? 'conditions' : `conditions[${i}].operator`;
  if (errors.some((e) => e.field.startsWith(i === -1 ? 'conditions' : `conditions[${i}].`))) return;
  const listens = `the rule listens to ${events.join(', ')}, so it would never run`;
  if (i === -1) {
    const which = events.map((e, k) => `on ${e} conditions[${dead[k]!.indexOf(true)}]`).join(', ');
    report(at, `no event of the rule lets all its conditions hold (${which} never holds), so it would never run`);
    return;
  }
  const c = conditions[i]!;
  if (OPERATORS[c.operator as keyof typeof OPERATORS].usesChanges) {
    report(at, `${c.operator} holds only on TICKET_UPDATED (the one event with a change set), and ${listens}; add TICKET_UPDATED to its events, or test the value with EQUALS`);
  } else if (isClosedStatus(c)) {
    report(at, `a TIMER never fires for a CLOSED ticket (closing stops its timers), and ${listens}; to act some time after a ticket is closed, time it from RESOLVED, or listen to TICKET_UPDATED`);
  } else {
    report(at, `${c.field} GREATER_THAN never holds on ${events.join(', ')}: conditions are judged as of the event, which starts that clock itself, so the rule would never run; to act some time after it, listen to TIMER`);
  }
}

function validateCondition(c: ConditionInputLike, path: string, ctx: ValidationContext, report: Report): void {
  const field = resolveField(c.field, ctx.customFields);
  if (!field) {
    report(`${path}.field`, c.field.startsWith(CUSTOM_PREFIX)
      ? `custom field "${c.field.slice(CUSTOM_PREFIX.length)}" does not exist`
      : `unknown field "${c.field}"; use one of ${BUILT_IN_FIELD_NAMES.join(', ')} or custom.<key>`);
  }
  if (!isOperator(c.operator)) {
    report(`${path}.operator`, `unknown operator "${c.operator}"; use one of ${OPERATOR_NAMES.join(', ')}`);
    return;
  }
  if (!field) return; // the operator and value cannot be judged without the field
  const fits = operatorsFor(field);
  if (!fits.includes(c.operator)) {
    report(`${path}.operator`, `operator ${c.operator} does not fit field ${c.field}; use one of ${fits.join(', ')}`);
    return;
  }

  const op = OPERATORS[c.operator];
  const value = c.value ?? null;
  if (!op.needsValue) {
    // A stray value would be silently ignored; saying so beats a rule that surprises later.
    if (!blank(value)) report(`${path}.value`, `operator ${c.operator} takes no value`);
    return;
  }
  if (value === null) {
    report(`${path}.value`, `operator ${c.operator} needs a value`);
    return;
  }
  if (value === '') {
    // "changed from/to nothing" (e.g. an assignee was set) is meaningful on a field that can
    // be empty; anywhere else an empty value is a forgotten one (CONTAINS '' always holds).
    const emptyOk = (c.operator === 'CHANGED_TO' || c.operator === 'CHANGED_FROM') && field.nullable;
    if (!emptyOk) report(`${path}.value`, `operator ${c.operator} needs a value (IS_EMPTY / IS_NOT_EMPTY test for an empty field)`);
    return;
  }
  if (op.typedValue) {
    const problem = valueProblem(field, value, `field ${c.field}`);
    if (problem) report(`${path}.value`, problem);
  }
}

function validateAction(a: ActionInputLike, path: string, ctx: ValidationContext, report: Report): void {
  const type = a.type;
  if (!isOneOf(ACTION_TYPES, type)) {
    report(`${path}.type`, `unknown action type "${type}"; use one of ${ACTION_TYPES.join(', ')}`);
    return;
  }
  const value = a.value ?? null;

  // Inputs an action type does not use would be silently dropped: refuse them instead.
  if (a.awaitResponse === true && type !== 'SEND_WEBHOOK') {
    report(`${path}.awaitResponse`, `awaitResponse applies only to SEND_WEBHOOK, not ${type}`);
  }
  if (!blank(a.webhookId) && type !== 'SEND_WEBHOOK') report(`${path}.webhookId`, `${type} does not use a webhook`);
  if (!blank(a.field) && type !== 'SET_CUSTOM_FIELD') report(`${path}.field`, `${type} does not use a field`);

  const template = (v: string) => {
    const problem = ctx.checkTemplate(v);
    if (problem) report(`${path}.value`, problem);
  };

  switch (type) {
    case 'SEND_WEBHOOK':
      if (blank(a.webhookId)) report(`${path}.webhookId`, 'SEND_WEBHOOK needs a webhook');
      else if (!ctx.webhookExists(a.webhookId)) report(`${path}.webhookId`, `unknown webhook "${a.webhookId}"`);
      if (!blank(value)) report(`${path}.value`, 'SEND_WEBHOOK does not use a value');
      return;

    case 'ADD_COMMENT':
    case 'ADD_REPLY':
      if (blank(value) || value.trim() === '') report(`${path}.value`, `${type} needs a non-empty text`);
      else template(value);
      return;

    case 'SET_STATUS':
    case 'SET_PRIORITY': {
      const allowed: readonly string[] = type === 'SET_STATUS' ? TICKET_STATUSES : TICKET_PRIORITIES;
      if (blank(value)) report(`${path}.value`, `${type} needs one of ${allowed.join(', ')}`);
      else if (isTemplate(value)) template(value);
      // the action trims what it is given
      else if (!allowed.includes(value.trim())) report(`${path}.value`, `${type} "${value}" is not one of ${allowed.join(', ')}`);
      return;
    }

    case 'SET_ASSIGNEE': {
      if (blank(value)) {
        report(`${path}.value`, 'SET_ASSIGNEE needs a user id');
        return;
      }
      if (isTemplate(value)) return template(value); // resolved when the action runs
      // the action trims what it is given, and takes a user id only (not an e-mail address or a name)
      const id = value.trim();
      if (!isId(id)) {
        report(`${path}.value`, `SET_ASSIGNEE takes the id of an AGENT or ADMIN user (a number such as 2), or a template giving one; "${value}" is no user id`);
        return;
      }
      const role = ctx.assigneeRole(id);
      if (role === null) report(`${path}.value`, `SET_ASSIGNEE: unknown user "${value}"`);
      else if (!ASSIGNABLE_ROLES.includes(role)) {
        report(`${path}.value`, `SET_ASSIGNEE must name an AGENT or ADMIN user; user "${value}" is ${role}`);
      }
      return;
    }

    case 'SET_CUSTOM_FIELD': {
      const key = a.field;
      const info = blank(key) ? undefined : ctx.customFields.get(key);
      if (blank(key)) report(`${path}.field`, 'SET_CUSTOM_FIELD needs a custom field key');
      else if (!info) report(`${path}.field`, `unknown custom field "${key}"`);
      // An empty value clears the field, which any type allows.
      if (blank(value)) return;
      if (isTemplate(value)) return template(value);
      // a fixed value is judged as the action will write it: by the field's own conversion
      if (info) {
        const converted = convertCustomFieldValue({ key: key!, type: info.type, options: info.options }, value);
        if (!converted.ok) report(`${path}.value`, converted.error);
      }
      return;
    }
  }
}
