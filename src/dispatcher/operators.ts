/**
 * The condition operators as data (json-rules-engine style).
 *
 * Each operator is a pure predicate over already-read operands; it never looks at the
 * ticket or the rule. Which operators fit which field, and how a field is read, live in
 * fields.ts; evaluate.ts glues the two together.
 *
 * Values arrive untyped (custom field values are JSON, change sets carry whatever the
 * service recorded), so the coercions below are deliberately tolerant when *reading*
 * (10, "10" and "10.0" are the same NUMBER) and strict about what counts as a number or
 * a date at all (Number(" ") is 0 and Date.parse("2024-02-30") is 1 March in V8; neither
 * must ever make a condition hold).
 */
import { CONDITION_OPERATORS, type ConditionOperator } from '../domain/index.js';
import { readBoolean } from '../helpdesk/index.js';

/**
 * How a field's values compare. `text` and `enum` both compare exactly (case-sensitive);
 * they differ only in which operators fit (enums have no CONTAINS). `presence` is a field
 * that can only be tested for being set (parent). A `duration` is the time a clock has run,
 * read in ms and compared with a duration value (`45s`, `30m`, `2h`, `3d`, bare minutes).
 */
export type ValueKind = 'text' | 'enum' | 'number' | 'date' | 'boolean' | 'presence' | 'duration';

/** The old and new value of one field in a TICKET_UPDATED change set. */
export interface ChangeView {
  old: unknown;
  new: unknown;
}

export interface Operands {
  kind: ValueKind;
  /** the field's current value (after the change) */
  actual: unknown;
  /** the condition's value; null for operators that need none */
  expected: string | null;
  /** this field's change, or null when the event is not TICKET_UPDATED or the field did not change */
  change: ChangeView | null;
}

export interface OperatorSpec {
  /** the condition must carry a value */
  needsValue: boolean;
  /** looks at the change set instead of (only) the current value */
  usesChanges: boolean;
  /** compares against the value with the field's kind (so the value must parse as that kind) */
  typedValue: boolean;
  test(operands: Operands): boolean;
}

// ---------------------------------------------------------------- coercions

/** null, undefined and '' are empty; everything else (0, false, '  ') is a value. */
export function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === '';
}

/** The text form used by text comparisons; empty values read as ''. */
export function toText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A finite number from a number or a decimal string ("10", " 10.0 ", "1e3"); otherwise null. */
export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (!DECIMAL.test(s)) return null; // refuses '', '0x10', 'Infinity', '1,5'
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

// YYYY-MM-DD, optionally with a time (T or space) and an offset. A date-time without an
// offset is read as UTC so that evaluation never depends on the server's time zone.
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Milliseconds since the epoch from a Date or an ISO-8601 date / date-time string; otherwise null. */
export function toTime(v: unknown): number | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime();
  if (typeof v !== 'string') return null;
  const m = ISO_DATE.exec(v.trim());
  if (!m) return null;
  const [y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m.slice(1);
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(s);
  const ms = Number((frac + '000').slice(0, 3));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 2024-02-30 over into March: check the parts survived unchanged.
  const back = new Date(utc);
  if (
    back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day ||
    back.getUTCHours() !== hour || back.getUTCMinutes() !== minute || back.getUTCSeconds() !== second
  ) {
    return null;
  }
  if (zone.toUpperCase() === 'Z') return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
  return utc - sign * offsetMin * 60_000;
}

// up to 10 digits: 100 years in seconds (3153600000s) is 10; the limit itself is MAX_DURATION_MS
const DURATION = /^([1-9][0-9]{0,9})([smhd]?)$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, '': 60_000, h: 3_600_000, d: 86_400_000 };
/**
 * The longest duration a condition may name: 100 years (36500d). A TIMER rule's due time
 * is planned in PostgreSQL as start + duration, and a longer one (999999999d) overflows its
 * interval and timestamp ranges: it is refused at save like any other bad duration.
 */
export const MAX_DURATION_MS = 36_500 * 86_400_000;

/**
 * Milliseconds from a duration: a positive whole number with a unit (`45s`, `30m`, `2h`,
 * `3d`) or a bare positive whole number of minutes (`15`), at most MAX_DURATION_MS; a
 * number is read as ms (a clock's elapsed time). Anything else (0, `1.5h`, `-3m`, `3 h`,
 * `3H`, `36501d`) is null.
 */
export function toDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m = DURATION.exec(v);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms <= MAX_DURATION_MS ? ms : null;
}

/** true/false from what a BOOLEAN custom field takes (its own reading: true/false, 1/0, yes/no, any case); otherwise null. */
export const toBoolean: (v: unknown) => boolean | null = readBoolean;

/**
 * Equality by kind. Two empties are equal, an empty never equals a value. NUMBER, DATE
 * and BOOLEAN compare parsed values ("10" == "10.0"), falling back to exact text when a
 * side does not parse (a stored value of the wrong type still equals its own text).
 */
export function sameValue(kind: ValueKind, a: unknown, b: unknown): boolean {
  if (isEmpty(a) || isEmpty(b)) return isEmpty(a) && isEmpty(b);
  const parse = kind === 'number' ? toNumber : kind === 'date' ? toTime : kind === 'boolean' ? toBoolean : null;
  if (parse) {
    const pa = parse(a), pb = parse(b);
    if (pa !== null && pb !== null) return pa === pb;
  }
  return toText(a) === toText(b);
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The field's value as a condition's value compares with it. A DATE value without a time
 * (`2024-05-01`) names a whole day: a timestamp (a DATE field holds either, timestamps in
 * UTC) then compares as its date in UTC, so EQUALS holds all that day and GREATER_THAN
 * from the next one. A value with a time compares instants.
 */
function asCompared(kind: ValueKind, actual: unknown, expected: string | null): unknown {
  if (kind !== 'date' || expected === null || !DATE_ONLY.test(expected.trim())) return actual;
  const t = toTime(actual);
  return t === null ? actual : new Date(t).toISOString().slice(0, 10);
}

/** -1 / 0 / 1 for NUMBER and DATE; null when either side is missing or unparsable (never matches). */
function order(kind: ValueKind, a: unknown, b: unknown): number | null {
  const parse = kind === 'number' ? toNumber : kind === 'date' ? toTime : kind === 'duration' ? toDuration : null;
  if (!parse) return null;
  const pa = parse(a), pb = parse(b);
  if (pa === null || pb === null) return null;
  return Math.sign(pa - pb);
}

/** The field really changed: present in the change set with a different old and new value. */
function changed(o: Operands): o is Operands & { change: ChangeView } {
  return o.change !== null && !sameValue(o.kind, o.change.old, o.change.new);
}

function contains(o: Operands): boolean {
  return toText(o.actual).toLowerCase().includes((o.expected ?? '').toLowerCase());
}

// ---------------------------------------------------------------- the table

// An operator that needs a value but has none (a rule stored before validation existed)
// never holds: a broken condition must not fire actions.
export const OPERATORS: Readonly<Record<ConditionOperator, OperatorSpec>> = Object.freeze({
  EQUALS: {
    needsValue: true, usesChanges: false, typedValue: true,
    test: (o) => o.expected !== null && sameValue(o.kind, asCompared(o.kind, o.actual, o.expected), o.expected),
  },
  NOT_EQUALS: {
    needsValue: true, usesChanges: false, typedValue: true,
    test: (o) => o.expected !== null && !sameValue(o.kind, asCompared(o.kind, o.actual, o.expected), o.expected),
  },
  CONTAINS: {
    needsValue: true, usesChanges: false, typedValue: false,
    test: (o) => o.expected !== null && contains(o),
  },
  NOT_CONTAINS: {
    needsValue: true, usesChanges: false, typedValue: false,
    test: (o) => o.expected !== null && !contains(o),
  },
  IS_EMPTY: {
    needsValue: false, usesChanges: false, typedValue: false,
    test: (o) => isEmpty(o.actual),
  },
  IS_NOT_EMPTY: {
    needsValue: false, usesChanges: false, typedValue: false,
    test: (o) => !isEmpty(o.actual),
  },
  GREATER_THAN: {
    needsValue: true, usesChanges: false, typedValue: true,
    test: (o) => order(o.kind, asCompared(o.kind, o.actual, o.expected), o.expected) === 1,
  },
  LESS_THAN: {
    needsValue: true, usesChanges: false, typedValue: true,
    test: (o) => order(o.kind, asCompared(o.kind, o.actual, o.expected), o.expected) === -1,
  },
  CHANGED: {
    needsValue: false, usesChanges: true, typedValue: false,
    test: (o) => changed(o),
  },
  CHANGED_TO: {
    needsValue: true, usesChanges: true, typedValue: true,
    test: (o) => o.expected !== null && changed(o) && sameValue(o.kind, asCompared(o.kind, o.change.new, o.expected), o.expected),
  },
  CHANGED_FROM: {
    needsValue: true, usesChanges: true, typedValue: true,
    test: (o) => o.expected !== null && changed(o) && sameValue(o.kind, asCompared(o.kind, o.change.old, o.expected), o.expected),
  },
});

export const OPERATOR_NAMES: readonly ConditionOperator[] = CONDITION_OPERATORS;

export function isOperator(name: string): name is ConditionOperator {
  return Object.hasOwn(OPERATORS, name);
}
