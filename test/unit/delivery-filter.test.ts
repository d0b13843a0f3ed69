import { describe, expect, it } from 'vitest';
import { filterCondition, filterSql, rarestWindow, substringPattern } from '../../src/delivery/index.js';

describe('the delivery log filter as SQL', () => {
  it('each field a condition with its value as a parameter; an empty filter is true', () => {
    const params: unknown[] = [];
    const since = new Date('2030-01-01T00:00:00Z');
    const until = new Date('2030-01-02T00:00:00Z');
    const { where, textWhere } = filterSql({ webhookId: '1', ticketId: '2', ruleId: '3', status: 'FAILED', since, until }, params);
    expect(where).toBe('d.webhook_id = $1::bigint and d.ticket_id = $2::bigint and d.rule_id = $3::bigint and d.status = $4 and d.created_at >= $5::timestamptz and d.created_at < $6::timestamptz');
    expect(params).toEqual(['1', '2', '3', 'FAILED', since, until]);
    expect(textWhere).toBeNull();
    expect(filterSql({}, [])).toEqual({ where: 'true', textWhere: null });
  });

  it('search: a literal, case-insensitive substring of URL, body or last answer; a part for the index when given', () => {
    expect(substringPattern('100%_done\\x')).toBe('%100\\%\\_done\\\\x%');
    const params: unknown[] = [];
    expect(filterSql({ search: 'Order 42' }, params).textWhere).toBe('(t.url ilike $1 or t.body ilike $1 or t.last_response ilike $1)');
    expect(params).toEqual(['%Order 42%']);
    const windowed: unknown[] = [];
    expect(filterSql({ search: 'customer12345@example.org' }, windowed, '2345@').textWhere).toMatch(/^\(t\.url ilike \$2 .*\)\s+and \(\(t\.url \|\| ''\) ilike \$1 /s);
    expect(windowed).toEqual(['%customer12345@example.org%', '%2345@%']);
    // a "part" that is not a substring of the search is ignored
    expect(filterSql({ search: 'customer12345' }, [], 'zzz99').textWhere).toBe('(t.url ilike $1 or t.body ilike $1 or t.last_response ilike $1)');
    expect(filterCondition({ search: 'abc' }, [])).toBe('true and d.id in (select t.delivery_id from delivery_texts t where (t.url ilike $1 or t.body ilike $1 or t.last_response ilike $1))');
  });

  it.each([
    [{ search: 'ab' }, 'filter.search'],
    [{ search: 'a-b-c' }, 'filter.search'],
    [{ search: 'x'.repeat(1001) }, 'filter.search'],
    [{ webhookId: 'abc' }, 'filter.webhookId'],
    [{ ruleId: '0' }, 'filter.ruleId'],
    [{ since: new Date('2030-01-02'), until: new Date('2030-01-01') }, 'filter.until'],
    [{ since: new Date('nonsense') }, 'filter.since'],
  ])('%j is refused naming %s', (filter, field) => {
    expect(() => filterSql(filter as never, [])).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', field }));
  });
});

describe('the part of a search the trigram index looks up', () => {
  const sample = Array.from({ length: 50 }, (_, i) => `https://crm.example.org/t/${i}\n{"email":"customer${i}@example.org"}\n{"ok":true}`);
  it.each([
    ['customer12345@example.org', '12345@ex'],
    ['Example.ORG/t/7777', 'G/t/7777'],
    ['short', 'short'],
    ['abcdefghijk', 'defghijk'], // equally rare: the later
    ['Order #1500001', '#1500001'],
    // common in the sample: whole, for PostgreSQL to estimate
    ['example.org/t/1', 'example.org/t/1'],
  ])('%s → %s', (search, window) => {
    expect(rarestWindow(search, sample)).toBe(window);
  });
  it('without a sample, the whole search', () => {
    expect(rarestWindow('customer12345@example.org', [])).toBe('customer12345@example.org');
  });
});
