/**
 * What an error may say in a log line. Logs never hold SQL parameter values, request
 * bodies, credentials or ticket text, and database errors carry all of them: MikroORM
 * inlines the parameters into the statement it sends and prefixes the driver's message
 * with that statement, and PostgreSQL's `detail`, `where` and `hint` quote rows and keys.
 *
 * - A database error becomes its class, SQLSTATE (with the condition name), the table,
 *   column, constraint and type it names, PostgreSQL's message with quoted values
 *   replaced, and the statement's shape: every literal replaced by `?`. Never `detail`,
 *   `where`, `hint`, `internalQuery` or parameters.
 * - Any other text (other errors' messages, strings passed as errors) keeps its words:
 *   quoted values, `Key (col)=(value)` pairs, e-mail addresses and raw bytes are replaced,
 *   and a statement found in it is reduced to its shape.
 * - Stacks keep their frames (`at …`) only: their first lines repeat the message.
 */

const MAX_SHAPE = 1_000;
const MAX_TEXT = 2_000;
const MAX_FRAMES = 20;
const MAX_DEPTH = 3;

/** SQLSTATE → condition name (PostgreSQL Appendix A), for the codes an application meets */
const CONDITIONS: Record<string, string> = {
  '08P01': 'protocol_violation',
  '0A000': 'feature_not_supported',
  '21000': 'cardinality_violation',
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '22004': 'null_value_not_allowed',
  '22007': 'invalid_datetime_format',
  '22008': 'datetime_field_overflow',
  '22012': 'division_by_zero',
  '22021': 'character_not_in_repertoire',
  '22023': 'invalid_parameter_value',
  '22P02': 'invalid_text_representation',
  '22P05': 'untranslatable_character',
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23505': 'unique_violation',
  '23514': 'check_violation',
  '23P01': 'exclusion_violation',
  '25P02': 'in_failed_sql_transaction',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42501': 'insufficient_privilege',
  '42601': 'syntax_error',
  '42703': 'undefined_column',
  '42804': 'datatype_mismatch',
  '42883': 'undefined_function',
  '42P01': 'undefined_table',
  '53300': 'too_many_connections',
  '55P03': 'lock_not_available',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
  'P0001': 'raise_exception',
};

const STATEMENT_START = /(^|[:\n]\s*)(?=(select|insert|update|delete|with|merge|values|copy|begin|commit|rollback|savepoint|release|alter|create|drop|truncate|lock|set|show|call|do|explain|listen|notify|unlisten)\b)/i;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
/** words after which a quoted name is an identifier, not a value */
const NAMES_FOLLOW = /\b(relation|column|constraint|table|index|type|function|schema|database|sequence|view|trigger|encoding|role|operator|extension|collation|domain|enum|channel|savepoint|cursor|parameter|reading|setting|property|entity|module|package)\s*$/i;

interface Lexed {
  shape: string;
  /** top-level ` - ` positions (knex joins statement and message with it) */
  separators: number[];
}

/**
 * Reads `sql` as PostgreSQL's lexer would and writes its shape: string, escape-string,
 * bit-string and dollar-quoted literals and numbers become `?`, comments are dropped,
 * whitespace collapses; identifiers, keywords, operators and `$n` placeholders stay.
 * An unterminated literal swallows the rest of the text (the safe way to be wrong).
 */
function lexSql(sql: string): Lexed {
  let out = '';
  const separators: number[] = [];
  let i = 0;
  const n = sql.length;
  const emit = (s: string) => {
    out += s;
  };
  while (i < n) {
    const c = sql[i]!;
    // string literals, with an optional prefix: E'…' (backslash escapes), B'…', X'…', U&'…', N'…'
    const prefix = /^(?:[eE]|[bB]|[xX]|[nN]|[uU]&)'/.exec(sql.slice(i, i + 3));
    const wordBefore = i > 0 && /[A-Za-z0-9_$]/.test(sql[i - 1]!);
    if (c === "'" || (prefix && !wordBefore)) {
      const backslashes = c === 'e' || c === 'E';
      let j = i + (c === "'" ? 1 : prefix![0].length);
      for (;;) {
        if (j >= n) break;
        const d = sql[j]!;
        if (backslashes && d === '\\') {
          j += 2;
          continue;
        }
        if (d === "'") {
          if (sql[j + 1] === "'") {
            j += 2;
            continue;
          }
          j += 1;
          break;
        }
        j += 1;
      }
      emit('?');
      i = Math.min(j, n);
      continue;
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        emit('?');
        i = end < 0 ? n : end + tag[0].length;
        continue;
      }
      const placeholder = /^\$\d+/.exec(sql.slice(i, i + 12));
      if (placeholder) {
        emit(placeholder[0]);
        i += placeholder[0].length;
        continue;
      }
    }
    if (c === '"') {
      let j = i + 1;
      let name = '';
      for (;;) {
        if (j >= n) break;
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') {
            name += '"';
            j += 2;
            continue;
          }
          j += 1;
          break;
        }
        name += sql[j];
        j += 1;
      }
      // MikroORM quotes every identifier; anything that is not a plain name may be a value
      emit(IDENTIFIER.test(name) ? `"${name}"` : '"?"');
      i = j;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const word = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(sql.slice(i, i + 200))![0];
      emit(word);
      i += word.length;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const num = /^(?:0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]+(?:[eE][+-]?[0-9]+)?)/.exec(sql.slice(i, i + 100))![0] || c;
      emit('?');
      i += num.length;
      continue;
    }
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i]!)) {
        if (sql.startsWith(' - ', i)) separators.push(i);
        i += 1;
      }
      if (!out.endsWith(' ')) emit(' ');
      continue;
    }
    emit(c);
    i += 1;
  }
  return { shape: clip(out.trim(), MAX_SHAPE), separators };
}

/** The statement's shape: literals and numbers replaced by `?`. */
export function sqlShape(sql: string): string {
  return lexSql(sql).shape;
}

/**
 * Text that is not SQL (a driver's message, an error's message): quoted values,
 * `Key (a)=(value)` pairs, e-mail addresses and byte dumps are replaced. A quoted name
 * right after a word such as `relation`, `column` or `constraint` stays.
 */
export function redactValues(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === '`') {
      // an apostrophe inside a word (O'Brien, don't) is not a quote
      if (c === "'" && i > 0 && /[A-Za-z]/.test(text[i - 1]!) && /[A-Za-z]/.test(text[i + 1] ?? '')) {
        out += c;
        i += 1;
        continue;
      }
      const end = text.indexOf(c, i + 1);
      const inner = end < 0 ? text.slice(i + 1) : text.slice(i + 1, end);
      const named = end >= 0 && IDENTIFIER.test(inner) && NAMES_FOLLOW.test(text.slice(Math.max(0, i - 40), i));
      out += named || inner === '?' ? `${c}${inner}${c}` : `${c}?${c}`;
      i = end < 0 ? n : end + 1;
      continue;
    }
    out += c;
    i += 1;
  }
  return clip(
    out
      .replace(/\)=\((?:[^()]|\([^()]*\))*\)/g, ')=(?)')
      .replace(/(row contains )\((?:[^()]|\([^()]*\))*\)/gi, '$1(?)')
      .replace(/(?<![\w./%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g, '?@?')
      .replace(/0x[0-9a-fA-F]{2}(?:\s+0x[0-9a-fA-F]{2})*/g, '0x?'),
    MAX_TEXT,
  );
}

/**
 * Splits `<statement> - <message>` (how knex, under MikroORM, reports a failed query;
 * the statement has its parameters inlined) at the last separator outside literals.
 */
function splitStatement(text: string): { statement: string | null; message: string } {
  const start = STATEMENT_START.exec(text);
  if (!start) return { statement: null, message: text };
  const at = start.index + start[1]!.length;
  const sqlAndMessage = text.slice(at);
  const { separators } = lexSql(sqlAndMessage);
  const sep = separators.at(-1);
  if (sep === undefined) return { statement: null, message: text };
  return { statement: sqlAndMessage.slice(0, sep), message: `${text.slice(0, at)}${sqlAndMessage.slice(sep + 3)}` };
}

/** MikroORM appends PostgreSQL's detail and hint to the message: cut them off */
function withoutDetail(message: string, err?: { detail?: unknown; hint?: unknown }): string {
  let rest = message;
  const suffix = `${err?.detail ? `\n - detail: ${String(err.detail)}` : ''}${err?.hint ? `\n - hint: ${String(err.hint)}` : ''}`;
  if (suffix && rest.endsWith(suffix)) return rest.slice(0, -suffix.length);
  // not knowing where the detail starts, cut at the first marker (inside a value at worst:
  // the statement then cannot be told apart and all of it is treated as values)
  for (const marker of ['\n - detail: ', '\n - hint: ']) {
    const cut = rest.indexOf(marker);
    if (cut >= 0) rest = rest.slice(0, cut);
  }
  return rest;
}

/** Free text: detail cut off, a statement reduced to its shape, values replaced. */
export function redactText(text: string): string {
  const { statement, message } = splitStatement(withoutDetail(text));
  if (statement === null) return redactValues(message);
  const shape = sqlShape(statement);
  return message ? `${redactValues(message)}; statement: ${shape}` : `statement: ${shape}`;
}

interface DatabaseErrorLike {
  code: string;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
  schema?: unknown;
  table?: unknown;
  column?: unknown;
  dataType?: unknown;
  constraint?: unknown;
  /** the statement's text with `$n` parameters, where the query path attached it */
  statement?: unknown;
}

/** A PostgreSQL error as pg reports it, or as MikroORM wraps it (DriverException). */
export function isDatabaseError(err: unknown): err is DatabaseErrorLike {
  if (!err || typeof err !== 'object') return false;
  const e = err as Record<string, unknown>;
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && ('severity' in e || 'routine' in e || 'sqlState' in e);
}

function name(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  return IDENTIFIER.test(value) ? value : '?';
}

function describeDatabaseError(err: DatabaseErrorLike, className: string): string {
  const split = splitStatement(withoutDetail(typeof err.message === 'string' ? err.message : '', err));
  const { message } = split;
  // knex puts the statement in the message; plain pg queries get it attached (src/db/sql.ts)
  const statement = split.statement ?? (typeof err.statement === 'string' ? err.statement : null);
  const condition = CONDITIONS[err.code];
  const about = [
    ['table', [name(err.schema), name(err.table)].filter(Boolean).join('.')],
    ['column', name(err.column)],
    ['constraint', name(err.constraint)],
    ['type', name(err.dataType)],
  ]
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`);
  return [
    `${className}: SQLSTATE ${err.code}${condition ? ` ${condition}` : ''}`,
    ...about,
    ...(message ? [redactValues(message)] : []),
    ...(statement !== null ? [`statement: ${sqlShape(statement)}`] : []),
  ].join('; ');
}

function framesOf(stack: unknown): string[] {
  if (typeof stack !== 'string') return [];
  return stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, MAX_FRAMES)
    .map((l) => `    ${l.trim()}`);
}

/**
 * One error as a log may show it: a headline without values, then its stack frames
 * (when `stack` is true), then its cause and, for an AggregateError, its errors.
 */
export function describeError(err: unknown, opts: { stack?: boolean } = {}, depth = 0): string {
  const withStack = opts.stack ?? true;
  if (err === null || err === undefined) return String(err);
  if (typeof err !== 'object') return redactText(String(err));
  const e = err as { name?: unknown; message?: unknown; stack?: unknown; cause?: unknown; errors?: unknown };
  const className = typeof e.name === 'string' && e.name ? e.name : (err.constructor?.name ?? 'Error');
  const headline = isDatabaseError(err)
    ? describeDatabaseError(err, className)
    : typeof e.message === 'string'
      ? `${className}${e.message ? `: ${redactText(e.message)}` : ''}`
      : `a ${className} value`;
  const lines = [headline, ...(withStack ? framesOf(e.stack) : [])];
  if (depth < MAX_DEPTH) {
    if (e.cause !== undefined) lines.push(`  caused by ${describeError(e.cause, opts, depth + 1)}`);
    if (Array.isArray(e.errors)) for (const inner of e.errors.slice(0, 5)) lines.push(`  including ${describeError(inner, opts, depth + 1)}`);
  }
  return lines.join('\n');
}

/**
 * A line of PostgreSQL's own server log: DETAIL, CONTEXT, QUERY and WHERE lines are
 * dropped, a STATEMENT line is reduced to its shape, anything else has its values replaced.
 */
export function redactPostgresLog(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const tag = /^(.*?\b)(DETAIL|CONTEXT|QUERY|WHERE|HINT|STATEMENT):(\s*)(.*)$/.exec(line);
      if (!tag) return redactValues(line);
      const [, head, kind, space, rest] = tag;
      return kind === 'STATEMENT' ? `${redactValues(head!)}${kind}:${space}${sqlShape(rest!)}` : `${redactValues(head!)}${kind}: (omitted)`;
    })
    .join('\n');
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
