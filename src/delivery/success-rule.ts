/**
 * A webhook's success rule, pure: when an answer counts as success. The status must be
 * in `statuses` (codes 100–599 and ranges `low-high`, comma-separated) and, when `path`
 * is set, the parsed answer's value there (response.ts: JSON, XML, form) must satisfy
 * `operator`/`value`, compared as text (JSON `true` is "true", numbers in their shortest
 * form), GREATER_THAN and LESS_THAN as numbers (exactly, as the decimals written: a 64-bit
 * id is not rounded to a double). Checked at save (successRuleProblems) and
 * applied to each answer (judgeAnswer), whose failure names what was expected and found.
 */
import { statusText } from './status-text.js';
import { CONDITION_OPERATORS, DEFAULT_SUCCESS_RULE, compareDecimals, DECIMAL_TEXT, SUCCESS_FAILURE_ACTIONS, type ConditionOperator, type FieldProblem, type SuccessFailureAction, type SuccessRuleDef } from '../domain/index.js';
import { parseMappingPath, parseResponseBody, resolvePath } from './response.js';
import type { AttemptResult } from './types.js';

/** The operators a success rule's path check may use, and whether each needs a value. */
const CHECK_OPERATORS: Readonly<Partial<Record<ConditionOperator, boolean>>> = Object.freeze({
  EQUALS: true,
  NOT_EQUALS: true,
  CONTAINS: true,
  NOT_CONTAINS: true,
  IS_EMPTY: false,
  IS_NOT_EMPTY: false,
  GREATER_THAN: true,
  LESS_THAN: true,
});

const MAX_STATUSES_LENGTH = 500;

/** "200-299,304" → [[200, 299], [304, 304]]; throws an Error saying what is wrong. */
export function parseStatuses(text: string): [number, number][] {
  if (text.length > MAX_STATUSES_LENGTH) throw new Error(`longer than ${MAX_STATUSES_LENGTH} characters`);
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 1 && parts[0] === '') throw new Error('at least one status code or range is needed, e.g. "200-299"');
  const code = (s: string, whole: string): number => {
    if (!/^\d{3}$/.test(s)) throw new Error(`"${whole}" is not a status code (100-599) or a range like 200-299`);
    const n = Number(s);
    if (n < 100 || n > 599) throw new Error(`${n} is not a status code (100-599)`);
    return n;
  };
  return parts.map((part) => {
    if (part === '') throw new Error('an empty entry (write codes and ranges separated by commas, e.g. "200,201,204")');
    const m = /^(\S+?)\s*-\s*(\S+)$/.exec(part);
    if (!m) return [code(part, part), code(part, part)] as [number, number];
    const low = code(m[1]!, part);
    const high = code(m[2]!, part);
    if (low > high) throw new Error(`the range ${part} has its low end above its high end`);
    return [low, high] as [number, number];
  });
}

/** The success rule as the input gives it (every part optional). */
export interface SuccessRuleInput {
  statuses?: string | null;
  path?: string | null;
  operator?: ConditionOperator | null;
  value?: string | null;
  onFailure?: SuccessFailureAction | null;
}

/** The rule to store: omitted parts take the defaults (statuses 200-399, RETRY), blank path none. */
export function successRuleOf(input: SuccessRuleInput): SuccessRuleDef {
  const path = input.path?.trim() ? input.path.trim() : null;
  return {
    statuses: input.statuses?.trim() || DEFAULT_SUCCESS_RULE.statuses,
    path,
    operator: path ? input.operator ?? null : null,
    value: path && input.operator && CHECK_OPERATORS[input.operator] ? input.value ?? null : null,
    onFailure: input.onFailure ?? DEFAULT_SUCCESS_RULE.onFailure,
  };
}

/** Every problem of a success rule, each naming its field (`successRule.statuses`). */
export function successRuleProblems(input: SuccessRuleInput, prefix = 'successRule'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string) => problems.push({ field: `${prefix}.${field}`, message });
  if (input.statuses !== undefined && input.statuses !== null && input.statuses.trim() !== '') {
    try {
      parseStatuses(input.statuses);
    } catch (e) {
      add('statuses', (e as Error).message);
    }
  }
  if (input.onFailure && !SUCCESS_FAILURE_ACTIONS.includes(input.onFailure)) add('onFailure', `must be one of ${SUCCESS_FAILURE_ACTIONS.join(', ')}`);
  const path = input.path?.trim() ?? '';
  const op = input.operator ?? null;
  // a stray value would be silently dropped (successRuleOf): saying so beats a rule that checks less than it reads
  const strayValue = input.value !== undefined && input.value !== null && input.value.trim() !== '';
  if (path === '') {
    if (op) add('path', `operator ${op} needs a path to check`);
    else if (strayValue) add('value', 'a value needs a path and an operator to compare it with');
    return problems;
  }
  try {
    parseMappingPath(path);
  } catch (e) {
    add('path', (e as Error).message);
  }
  if (!op) {
    add('operator', `a path needs an operator (${Object.keys(CHECK_OPERATORS).join(', ')})`);
  } else if (!CONDITION_OPERATORS.includes(op) || CHECK_OPERATORS[op] === undefined) {
    add('operator', `${op} cannot check an answer; use one of ${Object.keys(CHECK_OPERATORS).join(', ')}`);
  } else if (!CHECK_OPERATORS[op] && strayValue) {
    add('value', `operator ${op} takes no value (it checks that the path holds nothing, or something)`);
  } else if (CHECK_OPERATORS[op] && (input.value === undefined || input.value === null)) {
    add('value', `operator ${op} needs a value`);
  } else if ((op === 'GREATER_THAN' || op === 'LESS_THAN') && toNumber(input.value ?? '') === null) {
    add('value', `operator ${op} compares numbers: "${input.value}" is not a number`);
  }
  return problems;
}

/** A value of the parsed answer as text: JSON true is "true", numbers in their shortest form, nothing is "". */
function asText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function toNumber(s: string): number | null {
  const t = s.trim();
  if (!DECIMAL_TEXT.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * Whether a value of the parsed answer holds nothing: absent, null, "", and an empty JSON
 * list or object (`{"errors": []}` has no errors, as `<errors/>` has none in XML).
 */
function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/** Whether `found` (undefined: the path is not in the answer) satisfies the check; `empty`: the value holds nothing (isEmptyValue). */
function holds(op: ConditionOperator, found: string | undefined, expected: string, empty: boolean): boolean {
  const text = found ?? '';
  switch (op) {
    case 'EQUALS':
      return found !== undefined && text === expected;
    case 'NOT_EQUALS':
      return text !== expected;
    case 'CONTAINS':
      return found !== undefined && text.includes(expected);
    case 'NOT_CONTAINS':
      return !text.includes(expected);
    case 'IS_EMPTY':
      return empty;
    case 'IS_NOT_EMPTY':
      return !empty;
    case 'GREATER_THAN':
    case 'LESS_THAN': {
      // Both sides must be numbers a double can read ("abc", "1e999" never hold),
      // but they are compared as the decimals written, digit by digit, never as doubles:
      // 12345678901234567890 is GREATER_THAN 12345678901234567889, though both are the
      // same double.
      if (toNumber(text) === null || toNumber(expected) === null) return false;
      return compareDecimals(text, expected) === (op === 'GREATER_THAN' ? 1 : -1);
    }
    default:
      return false;
  }
}

const quoted = (s: string, max = 200) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/**
 * The attempt's result judged by the rule (null: the default rule). An answer whose status
 * is outside `statuses`, or whose path check fails, is a failure whose error says what was
 * expected and found: class `http_status` (retried like a 5xx) with onFailure RETRY,
 * `rejected` (final) with FAIL. A status inside `statuses` whose check holds is a success
 * whatever its code. Only a whole answer is judged (the transport's class `none` or
 * `http_status`): any other result is unchanged, including one whose status arrived but
 * whose body was cut off by a timeout or a reset connection. A path check of an answer
 * whose body was not read (`bodyUnread`) is a failure of class `network`, retried.
 */
export function judgeAnswer(result: AttemptResult, rule: SuccessRuleDef | null): AttemptResult {
  if (result.statusCode === null || (result.errorClass !== 'none' && result.errorClass !== 'http_status')) return result;
  const r = rule ?? DEFAULT_SUCCESS_RULE;
  const status = result.statusCode;
  const failed = (error: string): AttemptResult => ({ ...result, errorClass: r.onFailure === 'FAIL' ? 'rejected' : 'http_status', error });
  let ranges: [number, number][];
  try {
    ranges = parseStatuses(r.statuses);
  } catch {
    ranges = parseStatuses(DEFAULT_SUCCESS_RULE.statuses);
  }
  if (!ranges.some(([low, high]) => status >= low && status <= high)) {
    const name = statusText(status);
    return failed(rule ? `${name} (expected status ${r.statuses})` : name);
  }
  if (r.path && r.operator) {
    // no answer to judge: retried as an attempt without one, whatever onFailure says
    if (result.bodyUnread) {
      return { ...result, errorClass: 'network', error: `HTTP ${status}: its body was not read (the HTTP client refused the answer, and not all of it had come), so response path ${r.path} could not be checked` };
    }
    const parsed = parseResponseBody(result.responseBody ?? '', result.responseContentType, result.responseTruncated);
    const got = parsed.kind === 'text' ? { found: false as const } : resolvePath(parsed, r.path);
    const found = got.found ? asText(got.value) : undefined;
    const expected = r.value ?? '';
    // an answer that is not JSON, XML or form data (an HTML error page) satisfies no check,
    // not even one that a missing path would (NOT_EQUALS, NOT_CONTAINS, IS_EMPTY)
    if (parsed.kind === 'text' || !holds(r.operator, found, expected, isEmptyValue(got.found ? got.value : undefined))) {
      const want = CHECK_OPERATORS[r.operator] ? `${r.operator} ${quoted(expected)}` : r.operator;
      // a path is read only from a body that parsed as what its Content-Type declares; when
      // it declared JSON, XML or form data but did not parse, the error says so (parsed.note)
      const notRead = parsed.note ?? 'it is not JSON, XML or form data';
      const what = found === undefined ? `not found in the ${parsed.kind === 'text' ? `answer (${notRead})` : 'answer'}` : `is ${quoted(found)}`;
      return { ...failed(`HTTP ${status}: response path ${r.path} ${what}, expected ${want}`), statusExpected: true };
    }
  }
  return { ...result, errorClass: 'none', error: null };
}
