/**
 * Text that callers send: the length limits, and the characters PostgreSQL cannot store
 * (U+0000 in text and jsonb, lone surrogates in jsonb and in UTF-8). Pure.
 *
 * Two layers use it: the API edges (src/resolvers/text-input-guard.ts, src/rest/router.ts)
 * refuse unstorable characters in any string of a request before anything runs, and the
 * services check each field against its limit, naming the field.
 */
import { isUtf8 } from 'node:buffer';
import { badInput } from '../errors.js';
import type { FieldProblem } from '../domain/index.js';

/**
 * For a JSON body parser's `verify`: refuses a body declared (or taken) as UTF-8 whose bytes
 * are not UTF-8 (JSON text is UTF-8, RFC 8259). Read anyway, each bad byte would become
 * U+FFFD and be stored in place of what was sent. The error's status 400 makes it an
 * unreadable body (BAD_USER_INPUT) for the HTTP layer.
 */
export function requireUtf8Body(_req: unknown, _res: unknown, body: Buffer, encoding: string): void {
  if (/^utf-?8$/i.test(encoding) && !isUtf8(body)) {
    throw Object.assign(new Error('it is not valid UTF-8 (JSON is sent in UTF-8: check the client\'s encoding)'), { status: 400 });
  }
}

/** Characters at most (code points), per kind of field. */
export const TEXT_LIMITS = Object.freeze({
  /** ticket titles */
  title: 1_000,
  /** ticket descriptions, post texts, custom field TEXT values, webhook bodies, comment and action templates */
  text: 100_000,
  /** names (users, custom fields, webhooks, rules), keys, options, header names, usernames, chat ids */
  name: 200,
  email: 254,
  /** URL templates, header values, credentials, condition values, mapping paths */
  line: 8_000,
});

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot be stored as text, or null. */
export function unstorableProblem(value: string): string | null {
  const m = UNSTORABLE.exec(value);
  if (!m) return null;
  if (m[0] === '\u0000') return `must not contain U+0000 (NUL), found at character ${m.index + 1}`;
  const code = m[0].charCodeAt(0).toString(16).toUpperCase();
  return `is not valid Unicode text: a lone surrogate U+${code} at character ${m.index + 1}`;
}

/** Code points in `value`, counting no further than `max + 1`. */
function lengthUpTo(value: string, max: number): number {
  if (value.length <= max) return value.length; // code points ≤ UTF-16 units
  let n = 0;
  for (const _ of value) if (++n > max) break;
  return n;
}

/** Why `value` is not acceptable text of at most `max` characters, or null. */
export function textProblem(value: string, max: number): string | null {
  if (lengthUpTo(value, max) > max) return `is too long: at most ${max.toLocaleString('en-US')} characters are allowed (got ${[...value].length.toLocaleString('en-US')})`;
  return unstorableProblem(value);
}

/** Adds the problem of one text field (absent values pass) to `problems`; true when it was fine. */
export function checkText(problems: FieldProblem[], field: string, value: string | null | undefined, max: number): boolean {
  if (value == null) return true;
  const problem = textProblem(value, max);
  if (problem) problems.push({ field, message: problem });
  return problem === null;
}

/** Throws BAD_USER_INPUT naming `field` when `value` is not acceptable text. */
export function requireText(field: string, value: string | null | undefined, max: number): void {
  const problems: FieldProblem[] = [];
  if (!checkText(problems, field, value, max)) throw badInput(field, problems[0]!.message);
}

/**
 * The first string (value or object key) in a parsed JSON-like value that cannot be
 * stored, with its path (`headers[1].value`, `customFields`); null when every string is
 * fine. Iterative, so a deeply nested body cannot exhaust the stack; visits at most
 * `maxNodes` values.
 */
export function findUnstorable(value: unknown, path = '', maxNodes = 1_000_000): FieldProblem | null {
  const stack: [unknown, string][] = [[value, path]];
  let visited = 0;
  while (stack.length && visited++ < maxNodes) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = unstorableProblem(v);
      if (problem) return { field: at || 'input', message: problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, x] = entries[i]!;
        const keyProblem = unstorableProblem(key);
        if (keyProblem) return { field: at || 'input', message: `a key ${keyProblem}` };
        stack.push([x, at ? `${at}.${key}` : key]);
      }
    }
  }
  return null;
}
