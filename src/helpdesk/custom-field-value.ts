/**
 * Converts a raw value (API input, or a value mapped from a webhook response) to a custom
 * field's type. Pure; shared by the ticket service and the delivery response mapping so
 * both accept and refuse exactly the same values.
 */
import { DECIMAL_TEXT, readsExactly, type CustomFieldType } from '../domain/index.js';
import { TEXT_LIMITS, textProblem } from './text-input.js';

export interface CustomFieldDef {
  key: string;
  type: CustomFieldType;
  options: string[];
}

/** `inexact`: a NUMBER refused because a number cannot hold it exactly (a TEXT field could). */
export type Converted = { ok: true; value: string | number | boolean | null } | { ok: false; error: string; inexact?: true };

const ok = (value: string | number | boolean | null): Converted => ({ ok: true, value });

/** Quote a raw value for a message, cut short: it may be a large response fragment. */
function show(raw: unknown): string {
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object' && raw !== null) return 'an object';
  const text = typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };
/** What a BOOLEAN field takes, as messages list it. */
export const BOOLEAN_ACCEPTED = 'true, false, 1, 0, yes, no';

/**
 * The value a BOOLEAN field holds for `raw`, or null when it holds none: a boolean, the
 * numbers 1 and 0, or one of BOOLEAN_ACCEPTED as text, in any case and with white space
 * around. The one reading of a BOOLEAN value: the field's conversion and rule conditions
 * on the field both use it.
 */
export function readBoolean(raw: unknown): boolean | null {
  if (typeof raw === 'boolean') return raw;
  if (raw === 1 || raw === 0) return raw === 1;
  if (typeof raw !== 'string') return null;
  const word = raw.trim().toLowerCase();
  // hasOwn: "constructor" or "toString" must not read Object.prototype
  return Object.hasOwn(BOOLEANS, word) ? BOOLEANS[word]! : null;
}
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
// A timestamp must carry its zone: without one, its instant depends on the server's zone.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * What a NUMBER field holds exactly. Its value is a JavaScript number, an IEEE double:
 * stored in the tickets' jsonb column, read back by node-postgres through JSON.parse,
 * served by the JSONObject scalar and compared by rule conditions as a number. So a value
 * is taken only when that double is the number written: its magnitude at most
 * Number.MAX_SAFE_INTEGER (2^53 - 1; beyond it doubles skip integers, so 9007199254740993
 * and 12345678901234567890 would become neighbours) and its digits read back the same from
 * the double's shortest form ("1.50", "1e3" and "0.1" do; "0.1000000000000000055" does
 * not). Anything else is refused, never rounded: a TEXT field keeps it exactly.
 */
const NUMBER_LIMIT = Number.MAX_SAFE_INTEGER;

function holdsExactly(text: string, n: number): boolean {
  return Math.abs(n) <= NUMBER_LIMIT && readsExactly(text);
}

function realDate(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

export function convertCustomFieldValue(def: CustomFieldDef, raw: unknown): Converted {
  if (raw === null || raw === undefined) return ok(null); // clears the field
  const fail = (why: string): Converted => ({ ok: false, error: `custom field "${def.key}" is ${def.type}: ${why}` });
  const scalar = typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean';

  switch (def.type) {
    case 'TEXT': {
      if (typeof raw === 'number' && !Number.isFinite(raw)) return fail(`${show(raw)} is not a finite number`);
      if (!scalar) return fail(`${show(raw)} cannot be stored as text`);
      const text = String(raw);
      const problem = textProblem(text, TEXT_LIMITS.text);
      return problem ? fail(`the text ${problem}`) : ok(text);
    }

    case 'NUMBER': {
      const inexact = (): Converted => ({
        ok: false,
        error: `custom field "${def.key}" is NUMBER: ${show(raw)} cannot be stored exactly as a number (it holds integers within ±${NUMBER_LIMIT} and decimals of about 15 significant digits)`,
        inexact: true,
      });
      if (typeof raw === 'number') {
        if (!Number.isFinite(raw)) return fail(`${show(raw)} is not a finite number`);
        return Math.abs(raw) <= NUMBER_LIMIT ? ok(raw) : inexact();
      }
      // a plain decimal only: Number() alone would also take "0x1f", "Infinity" and "" (→ 0)
      if (typeof raw === 'string' && DECIMAL_TEXT.test(raw.trim())) {
        const n = Number(raw.trim());
        if (Number.isFinite(n)) return holdsExactly(raw.trim(), n) ? ok(n) : inexact();
      }
      return fail(`${show(raw)} is not a number`);
    }

    case 'BOOLEAN': {
      const value = readBoolean(raw);
      return value === null ? fail(`${show(raw)} is not true/false (accepted: ${BOOLEAN_ACCEPTED})`) : ok(value);
    }

    case 'DATE': {
      if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? fail('the date is invalid') : ok(raw.toISOString());
      const text = typeof raw === 'string' ? raw.trim() : '';
      const m = DATE_ONLY.exec(text) ?? TIMESTAMP.exec(text);
      if (m && realDate(m[1]!, m[2]!, m[3]!)) {
        if (m[0].length === 10) return ok(text);
        const t = Date.parse(text);
        if (!Number.isNaN(t)) return ok(new Date(t).toISOString()); // one stored form: UTC ISO
      }
      return fail(`${show(raw)} is not a date (use YYYY-MM-DD or an ISO timestamp with a zone, e.g. 2024-05-01T10:00:00Z)`);
    }

    case 'SELECT': {
      const text = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : null;
      if (text !== null) {
        if (def.options.includes(text)) return ok(text);
        if (def.options.includes(text.trim())) return ok(text.trim());
      }
      const allowed = def.options.length ? def.options.map((o) => JSON.stringify(o)).join(', ') : '(no options defined)';
      return fail(`${show(raw)} is not one of ${allowed}`);
    }

    default: {
      const never: never = def.type;
      return { ok: false, error: `custom field "${def.key}" has an unknown type ${String(never)}` };
    }
  }
}
