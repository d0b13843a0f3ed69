/** Rules as the console edits them, and their RuleInput (updateRule replaces the whole definition). */
import { graphql } from './gql';
import type { ActionType, ConditionOperator, MatchType, RuleInput, TicketEvent } from './gql/graphql';
import { conditionValueText } from './words';

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

export const OPERATOR_TEXT: Record<ConditionOperator, string> = {
  EQUALS: 'equals',
  NOT_EQUALS: 'does not equal',
  CONTAINS: 'contains',
  NOT_CONTAINS: 'does not contain',
  IS_EMPTY: 'is empty',
  IS_NOT_EMPTY: 'is not empty',
  GREATER_THAN: 'is greater than',
  LESS_THAN: 'is less than',
  CHANGED: 'changed',
  CHANGED_TO: 'changed to',
  CHANGED_FROM: 'changed from',
};

export const ACTION_TEXT: Record<ActionType, string> = {
  SEND_WEBHOOK: 'Send webhook',
  ADD_COMMENT: 'Add internal comment',
  ADD_REPLY: 'Add reply',
  SET_STATUS: 'Set status',
  SET_PRIORITY: 'Set priority',
  SET_ASSIGNEE: 'Set assignee',
  SET_CUSTOM_FIELD: 'Set custom field',
};

/** How a time condition's value is written (ruleFields type DURATION; src/dispatcher/fields.ts refuses anything else). */
export const DURATION_HINT = 'A duration: a positive whole number with s, m, h or d (45s, 30m, 2h, 3d), or a bare number of minutes.';

/** The built-in condition fields (src/dispatcher/fields.ts) as an admin reads them; a field not named here is shown by its name. */
const BUILT_IN_FIELD_TEXT: Readonly<Record<string, string>> = {
  title: 'Title',
  description: 'Description',
  status: 'Status',
  priority: 'Priority',
  'requester.email': 'Requester’s email',
  'requester.role': 'Requester’s role',
  'assignee.email': 'Assignee’s email',
  parent: 'Parent ticket',
  lastReplyAuthor: 'Author of the newest reply',
  timeSinceCreated: 'Time since created',
  timeSinceUpdated: 'Time since updated',
  timeSinceLastReply: 'Time since the newest reply',
  timeSinceLastClientReply: 'Time since the client’s newest reply',
  timeSinceLastStaffReply: 'Time since the staff’s newest reply',
  timeSinceLastComment: 'Time since the newest internal comment',
};

const CUSTOM_PREFIX = 'custom.';

/** A custom field's definition as far as its label needs it. */
export interface CustomFieldLabel {
  key: string;
  name: string;
}

/**
 * A custom field by its label (its definition's name); with its key added when another field
 * has the same label, and by its key when it has no label or no definition.
 */
export function customFieldText(key: string, customFields: readonly CustomFieldLabel[]): string {
  const def = customFields.find((f) => f.key === key);
  const name = def?.name.trim();
  if (!name) return `custom field ${key}`;
  return customFields.some((f) => f !== def && f.name.trim() === name) ? `${name} (${key})` : name;
}

/** A condition field (`priority`, `custom.order_no`) by the label an admin knows it by. */
export function conditionFieldText(name: string, customFields: readonly CustomFieldLabel[]): string {
  if (name.startsWith(CUSTOM_PREFIX)) return customFieldText(name.slice(CUSTOM_PREFIX.length), customFields);
  return BUILT_IN_FIELD_TEXT[name] ?? name;
}

/** What the editor knows to word a refused save's problems: the form saved and the lists it offers. */
export interface ProblemContext {
  form: RuleForm;
  customFields: readonly CustomFieldLabel[];
  /** the operators that fit a condition field (ruleFields), when listed */
  operatorsOf: (field: string) => readonly ConditionOperator[] | undefined;
  /** the values a condition field can take (ruleFields' options), when listed */
  optionsOf: (field: string) => readonly string[] | undefined;
}

const quoted = (s: string) => `“${s}”`;
const sentence = (s: string) => {
  const t = s.trim().replace(/\.?$/, '.');
  return t.charAt(0).toUpperCase() + t.slice(1);
};
const orList = (items: readonly string[]) =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;

/**
 * The API's message with its terms in the editor's words: operators and action types as the
 * pickers name them, condition fields by their labels.
 */
function inEditorTerms(message: string, customFields: readonly CustomFieldLabel[]): string {
  return sentence(
    message
      .replace(/\b(?:custom\.[\w-]+|requester\.(?:email|role)|assignee\.email|timeSince\w+|lastReplyAuthor)\b/g, (name) => conditionFieldText(name, customFields))
      .replace(/\b[A-Z][A-Z_]+\b/g, (word) =>
        word in OPERATOR_TEXT
          ? quoted(OPERATOR_TEXT[word as ConditionOperator])
          : word in ACTION_TEXT
            ? quoted(ACTION_TEXT[word as ActionType])
            : word,
      ),
  );
}

/** Why a value is not one of `label`'s values, from the kind of value the API's message says it needs; null when it says something else. */
function valueKindText(message: string, value: string, label: string, options: readonly string[] | undefined): string | null {
  if (/is not one of/.test(message)) {
    return options?.length ? `${quoted(value)} is not a value of ${label}: choose ${orList(options.map(quoted))}.` : `${quoted(value)} is not a value of ${label}.`;
  }
  if (/needs a number/.test(message)) return `${quoted(value)} is not a number: ${label} takes a number such as 42 or 3.5.`;
  if (/needs a date/.test(message)) return `${quoted(value)} is not a date: write it as 2026-03-31 or 2026-03-31T14:30:00Z.`;
  if (/needs true or false/.test(message)) return `${quoted(value)} is not yes or no: ${label} takes yes, no, true, false, 1 or 0, in any case.`;
  if (/needs a duration/.test(message)) return `${quoted(value)} is not a duration. ${DURATION_HINT}`;
  return null;
}

/**
 * A refused save's problem at `field` (a RuleInput path such as `conditions[0].value`) in words
 * an admin understands, naming what the form shows (the field's label, the operator as the
 * picker says it); a message of another kind keeps what it says, in the editor's terms.
 */
export function ruleProblemText(field: string, message: string, ctx: ProblemContext): string {
  const { form, customFields } = ctx;
  const other = () => inEditorTerms(message, customFields);
  if (field === 'name' && /must not be empty/.test(message)) return 'Give the rule a name.';
  if (field === 'events' && /at least one event/.test(message)) return 'Choose at least one event.';
  if (field === 'actions' && /at least one action/.test(message)) return 'Add at least one action.';
  if (field === 'conditions' && /TIMER/.test(message)) {
    const timeFields = Object.keys(BUILT_IN_FIELD_TEXT).filter((f) => f.startsWith('timeSince')).map((f) => BUILT_IN_FIELD_TEXT[f]!);
    return `A rule run by the Timer event needs a condition “is greater than” on a time field (${timeFields.join(', ')}), such as “Time since the newest reply is greater than 2h”.`;
  }

  const condition = /^conditions\[(\d+)\]\.(field|operator|value)$/.exec(field);
  const c = condition ? form.conditions[Number(condition[1])] : undefined;
  if (condition && c) {
    const label = conditionFieldText(c.field, customFields);
    switch (condition[2]) {
      case 'field':
        if (/does not exist/.test(message)) return `The custom field ${c.field.slice(CUSTOM_PREFIX.length)} no longer exists: choose another field.`;
        if (/unknown field/.test(message)) return `${quoted(c.field)} is not a field a rule can test: choose one from the list.`;
        return other();
      case 'operator': {
        const fits = ctx.operatorsOf(c.field);
        if (/does not fit/.test(message)) {
          const choose = fits?.length ? `: choose ${orList(fits.map((o) => quoted(OPERATOR_TEXT[o])))}` : '';
          return `${quoted(OPERATOR_TEXT[c.operator] ?? c.operator)} does not work with ${label}${choose}.`;
        }
        return /unknown operator/.test(message) ? 'Choose an operator from the list.' : other();
      }
      case 'value': {
        if (/takes no value/.test(message)) return `${quoted(OPERATOR_TEXT[c.operator])} takes no value: leave Value empty.`;
        if (/needs a value/.test(message)) {
          const empty = ctx.operatorsOf(c.field)?.includes('IS_EMPTY') ? ' (to test for an empty field, choose the operator “is empty”)' : '';
          return `Enter the value to compare ${label} with${empty}.`;
        }
        return valueKindText(message, c.value, label, ctx.optionsOf(c.field)?.map((o) => conditionValueText(c.field, o))) ?? other();
      }
    }
  }

  const action = /^actions\[(\d+)\]\.(webhookId|field|value)$/.exec(field);
  const a = action ? form.actions[Number(action[1])] : undefined;
  if (action && a) {
    switch (action[2]) {
      case 'webhookId':
        if (/needs a webhook/.test(message)) return 'Choose the webhook to send.';
        if (/unknown webhook/.test(message)) return 'This webhook no longer exists: choose another.';
        return other();
      case 'field':
        if (/needs a custom field key/.test(message)) return 'Choose the custom field to set.';
        if (/unknown custom field/.test(message)) return `The custom field ${a.field} no longer exists: choose another.`;
        return other();
      case 'value':
        if (/needs a non-empty text/.test(message)) return a.type === 'ADD_REPLY' ? 'Write the reply to add.' : 'Write the comment to add.';
        if (a.type === 'SET_STATUS' && /needs one of|is not one of/.test(message)) return 'Choose a status.';
        if (a.type === 'SET_PRIORITY' && /needs one of|is not one of/.test(message)) return 'Choose a priority.';
        if (a.type === 'SET_ASSIGNEE') {
          if (/needs a user id/.test(message)) return 'Choose the staff member to assign.';
          if (/unknown user/.test(message)) return 'This user no longer exists: choose another staff member.';
          if (/must name an AGENT or ADMIN/.test(message)) return 'Only agents and admins can be assigned a ticket: choose a staff member.';
        }
        if (a.type === 'SET_CUSTOM_FIELD') {
          const text = valueKindText(message, a.value, customFieldText(a.field, customFields), undefined);
          if (text) return text;
        }
        return other();
    }
  }
  return other();
}
