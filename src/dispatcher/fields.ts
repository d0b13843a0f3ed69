/**
 * The condition fields as data: how each is read from a TicketSnapshot, how its values
 * compare, and which operators fit it. The fitting operators are derived from a few
 * facts about the field (its kind, whether it can be empty, whether it appears in a
 * TICKET_UPDATED change set) rather than listed per field, so a new field is one line.
 *
 * Change-set entries (FieldChange.field) use the same names, e.g. 'status',
 * 'assignee.email', 'custom.order_no'.
 *
 * The time fields (timeSince*) read how long one of the ticket's clocks has run
 * (TicketSnapshot.clocks); a TIMER rule's due times are planned from the same clocks
 * (timers.ts). This list is also what `ruleFields` shows rule editors.
 */

/** A field's type as rule editors see it (`ruleFields`). */
export type RuleFieldType = 'TEXT' | 'NUMBER' | 'BOOLEAN' | 'DATE' | 'SELECT' | 'ENUM' | 'DURATION' | 'ROLE';
import { toBoolean, toDuration, toNumber, toTime, type ValueKind } from './operators.js';
import {
  REPLY_AUTHORS,
  ROLES,
  TICKET_PRIORITIES,
  TICKET_STATUSES,
  type ConditionOperator,
  type TicketClock,
  type TicketSnapshot,
} from '../domain/index.js';
import type { CustomFieldInfo } from './types.js';
import { BOOLEAN_ACCEPTED, convertCustomFieldValue, type CustomFieldDef } from '../helpdesk/index.js';

export interface FieldDef {
  name: string;
  kind: ValueKind;
  type: RuleFieldType;
  description: string;
  /** time fields: the clock whose running time the field reads */
  clock?: TicketClock;
  /** the only values an equality test can meet (enums, SELECT options); undefined: any */
  values?: readonly string[];
  /** the field can be unset, so IS_EMPTY / IS_NOT_EMPTY are meaningful */
  nullable: boolean;
  /** the field appears in TICKET_UPDATED change sets, so CHANGED* are meaningful */
  changeable: boolean;
  /** values are stored trimmed and lower-cased (e-mail addresses): a condition's value compares so too */
  anyCase?: boolean;
  /** a custom field's definition: a condition's value is judged and stored by the field's own conversion */
  custom?: CustomFieldDef;
  read(ticket: TicketSnapshot): unknown;
}

export const CUSTOM_PREFIX = 'custom.';

/** A time field: how long `clock` has run at the snapshot's moment (null without clocks). */
const timeField = (name: string, clock: TicketClock, description: string): FieldDef => ({
  name, kind: 'duration', type: 'DURATION', description, clock, nullable: false, changeable: false,
  read: (t) => (t.clocks ? t.clocks.now - t.clocks[clock] : null),
});

const BUILT_IN: readonly FieldDef[] = [
  { name: 'title', kind: 'text', type: 'TEXT', description: 'the ticket title', nullable: false, changeable: true, read: (t) => t.title },
  { name: 'description', kind: 'text', type: 'TEXT', description: 'the ticket description', nullable: true, changeable: true, read: (t) => t.description },
  { name: 'status', kind: 'enum', type: 'ENUM', description: 'the ticket status', values: TICKET_STATUSES, nullable: false, changeable: true, read: (t) => t.status },
  { name: 'priority', kind: 'enum', type: 'ENUM', description: 'the ticket priority', values: TICKET_PRIORITIES, nullable: false, changeable: true, read: (t) => t.priority },
  // The requester cannot be changed through UpdateTicketInput: no CHANGED* on it.
  { name: 'requester.email', kind: 'text', type: 'TEXT', description: "the requester's email (any case)", nullable: false, changeable: false, anyCase: true, read: (t) => t.requester.email },
  { name: 'requester.role', kind: 'enum', type: 'ROLE', description: "the requester's role", values: ROLES, nullable: false, changeable: false, read: (t) => t.requester.role },
  { name: 'assignee.email', kind: 'text', type: 'TEXT', description: "the assignee's email, any case (empty: unassigned)", nullable: true, changeable: true, anyCase: true, read: (t) => t.assignee?.email ?? null },
  // The value is the parent's id; only its presence is meaningful to a rule.
  { name: 'parent', kind: 'presence', type: 'TEXT', description: 'the parent ticket: only whether there is one', nullable: true, changeable: false, read: (t) => t.parentId },
  { name: 'lastReplyAuthor', kind: 'enum', type: 'ENUM', description: 'who wrote the newest reply: CLIENT or STAFF (empty: no replies)', values: REPLY_AUTHORS, nullable: true, changeable: false, read: (t) => t.lastReplyAuthor },
  timeField('timeSinceCreated', 'created', 'time since the ticket was created; a duration: 45s, 30m, 2h, 3d or bare minutes'),
  timeField('timeSinceUpdated', 'updated', 'time since a person last changed the ticket or posted on it (rule actions and webhook results do not count)'),
  timeField('timeSinceLastReply', 'lastReply', 'time since the newest reply (no reply: since creation)'),
  timeField('timeSinceLastClientReply', 'lastClientReply', "time since the newest client's reply (none: since creation)"),
  timeField('timeSinceLastStaffReply', 'lastStaffReply', 'time since the newest staff or system reply (none: since creation)'),
  timeField('timeSinceLastComment', 'lastComment', 'time since the newest internal comment (none: since creation)'),
];

const BY_NAME: ReadonlyMap<string, FieldDef> = new Map(BUILT_IN.map((f) => [f.name, f]));

export const BUILT_IN_FIELD_NAMES: readonly string[] = BUILT_IN.map((f) => f.name);

function customFieldDef(key: string, info: CustomFieldInfo): FieldDef {
  const kind: ValueKind =
    info.type === 'NUMBER' ? 'number' : info.type === 'DATE' ? 'date' : info.type === 'BOOLEAN' ? 'boolean' : 'text';
  return {
    name: CUSTOM_PREFIX + key,
    kind,
    type: info.type,
    description: `custom field ${key} (${info.type})`,
    // A SELECT compares as text (CONTAINS fits), but equality can only meet an option.
    values: info.type === 'SELECT' && info.options.length > 0 ? info.options : undefined,
    nullable: true,
    changeable: true,
    custom: { key, type: info.type, options: info.options },
    // hasOwn: a key such as "constructor" must not read Object.prototype.
    read: (t) => (Object.hasOwn(t.custom, key) ? t.custom[key] : null),
  };
}

/** The field definition for a condition field name, or null if there is none (unknown, or a deleted custom field). */
export function resolveField(name: string, customFields: ReadonlyMap<string, CustomFieldInfo>): FieldDef | null {
  if (name.startsWith(CUSTOM_PREFIX)) {
    const key = name.slice(CUSTOM_PREFIX.length);
    const info = customFields.get(key);
    return info ? customFieldDef(key, info) : null;
  }
  return BY_NAME.get(name) ?? null;
}

/** The operators that fit a field, in a stable order (used in error messages). */
export function operatorsFor(field: Pick<FieldDef, 'kind' | 'nullable' | 'changeable'>): ConditionOperator[] {
  if (field.kind === 'presence') return ['IS_EMPTY', 'IS_NOT_EMPTY'];
  if (field.kind === 'duration') return ['GREATER_THAN', 'LESS_THAN'];
  const ops: ConditionOperator[] = ['EQUALS', 'NOT_EQUALS'];
  if (field.kind === 'text') ops.push('CONTAINS', 'NOT_CONTAINS');
  if (field.nullable) ops.push('IS_EMPTY', 'IS_NOT_EMPTY');
  if (field.kind === 'number' || field.kind === 'date') ops.push('GREATER_THAN', 'LESS_THAN');
  if (field.changeable) ops.push('CHANGED', 'CHANGED_TO', 'CHANGED_FROM');
  return ops;
}

export function operatorFits(field: FieldDef, op: ConditionOperator): boolean {
  return operatorsFor(field).includes(op);
}

/**
 * Why a literal value cannot be one of this field's values, or null if it can. Used for
 * condition values compared by kind. On a custom field the field's own conversion judges
 * it, as it judges the field's values everywhere (ticket input, SET_CUSTOM_FIELD, mapped
 * answers): a condition takes exactly what the field can hold. A value that is not of the
 * kind at all is worded as for any field (rule editors read these words); the conversion
 * words the rest (a number it cannot hold exactly, a time without a zone).
 */
export function valueProblem(field: Pick<FieldDef, 'kind' | 'values' | 'custom'>, value: string, subject: string): string | null {
  if (!field.custom) return kindProblem(field, TRIMMED_KINDS.has(field.kind) ? value.trim() : value, subject);
  const converted = convertCustomFieldValue(field.custom, value);
  return converted.ok ? null : (kindProblem(field, value, subject) ?? converted.error);
}

function kindProblem(field: Pick<FieldDef, 'kind' | 'values'>, value: string, subject: string): string | null {
  if (field.values && !field.values.includes(value)) {
    return `"${value}" is not one of ${field.values.join(', ')} (${subject})`;
  }
  switch (field.kind) {
    case 'number':
      return toNumber(value) === null ? `${subject} needs a number, got "${value}"` : null;
    case 'date':
      return toTime(value) === null ? `${subject} needs a date (YYYY-MM-DD or ISO 8601 date-time), got "${value}"` : null;
    case 'boolean':
      return toBoolean(value) === null ? `${subject} needs true or false (accepted: ${BOOLEAN_ACCEPTED}, any case), got "${value}"` : null;
    case 'duration':
      return toDuration(value) === null ? `${subject} needs a duration: a positive whole number with s, m, h or d (45s, 30m, 2h, 3d) or a bare number of minutes, at most 36500d (100 years), got "${value}"` : null;
    default:
      return null;
  }
}

/**
 * The kinds whose values are names or amounts, never free text (an enum's `URGENT`, a
 * duration's `2h`): a condition's value is judged and kept trimmed, so one pasted with a
 * space or line break (` URGENT`, `2h\n`) names the same value, as SET_STATUS and
 * SET_PRIORITY read theirs.
 */
const TRIMMED_KINDS: ReadonlySet<ValueKind> = new Set<ValueKind>(['enum', 'duration']);

/**
 * A condition's value as it is stored: on a custom field as the field holds it (its
 * conversion: BOOLEAN `yes` is `true`, SELECT ` Email ` is `Email`, NUMBER `1e3` is
 * `1000`, a DATE timestamp is UTC); an enum or a duration trimmed; any other as written.
 */
export function canonicalValue(field: Pick<FieldDef, 'kind' | 'custom'>, value: string): string {
  if (TRIMMED_KINDS.has(field.kind)) return value.trim();
  const converted = field.custom ? convertCustomFieldValue(field.custom, value) : null;
  return converted?.ok && converted.value !== null ? String(converted.value) : value;
}

/** The time fields' clocks by field name (the fields a TIMER rule's due times come from). */
export const TIME_FIELD_CLOCKS: ReadonlyMap<string, TicketClock> = new Map(BUILT_IN.filter((f) => f.clock).map((f) => [f.name, f.clock!]));

export const isTimeField = (name: string): boolean => TIME_FIELD_CLOCKS.has(name);

/** A condition field as rule editors see it (`ruleFields`). */
export interface RuleFieldInfo {
  name: string;
  type: RuleFieldType;
  description: string;
  operators: ConditionOperator[];
  /** the values of SELECT, ENUM and ROLE fields */
  options: string[];
}

/** Every condition field — built-in, then the custom fields by key — with its operators. */
export function ruleFields(customFields: ReadonlyMap<string, CustomFieldInfo>): RuleFieldInfo[] {
  const custom = [...customFields.keys()].sort().map((key) => customFieldDef(key, customFields.get(key)!));
  return [...BUILT_IN, ...custom].map((f) => ({
    name: f.name,
    type: f.type,
    description: f.description,
    operators: operatorsFor(f),
    options: f.type === 'SELECT' || f.type === 'ENUM' || f.type === 'ROLE' ? [...(f.values ?? [])] : [],
  }));
}
