import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { findUnstorable, textProblem, TEXT_LIMITS, unstorableProblem } from '../../src/helpdesk/text-input.js';
import { unstorableInRequest } from '../../src/resolvers/text-input-guard.js';

describe('textProblem', () => {
  it.each<[string, number, RegExp | null]>([
    ['plain', 10, null],
    ['', 10, null],
    ['a'.repeat(10), 10, null],
    ['a'.repeat(11), 10, /at most 10 characters .*got 11/],
    ['😀'.repeat(10), 10, null], // 20 UTF-16 units, 10 characters
    ['😀'.repeat(11), 10, /got 11/],
    ['a\u0000b', 10, /U\+0000 \(NUL\), found at character 2/],
    ['a\uD800b', 10, /lone surrogate U\+D800 at character 2/],
    ['a\uDC00', 10, /lone surrogate U\+DC00/],
    ['\uDC00\uD800', 10, /lone surrogate U\+DC00 at character 1/],
    ['\uD83D\uDE00 pair', 10, null],
  ])('%j (max %d)', (value, max, expected) => {
    const problem = textProblem(value, max);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('has the contract limits', () => {
    expect(TEXT_LIMITS).toMatchObject({ title: 1_000, text: 100_000, name: 200 });
  });

  it('a 900 KB title is over its limit', () => {
    expect(textProblem('x'.repeat(900_000), TEXT_LIMITS.title)).toMatch(/at most 1,000 characters/);
  });
});

describe('findUnstorable', () => {
  it.each<[unknown, string | null]>([
    [{ title: 'ok', tags: ['a', 'b'] }, null],
    [{ title: 'a\u0000' }, 'title'],
    [{ headers: [{ name: 'X', value: 'ok' }, { name: 'Y', value: '\uD800' }] }, 'headers[1].value'],
    [{ customFields: { ['k\u0000']: 1 } }, 'customFields'],
    ['\u0000', 'input'],
    [[1, true, null, 2.5], null],
  ])('%j → %s', (value, field) => {
    expect(findUnstorable(value)?.field ?? null).toBe(field);
  });

  it('walks 200,000 levels of nesting without exhausting the stack', () => {
    let deep: unknown = 'bad\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findUnstorable({ x: deep })?.field).toMatch(/^x(\[0\]){200000}$/);
  });

  it('unstorableProblem is null for well-formed text', () => {
    expect(unstorableProblem('Привет 😀 \t\n')).toBeNull();
  });
});

describe('unstorableInRequest (the GraphQL edge guard)', () => {
  const doc = (q: string) => parse(q);
  it.each<[string, Record<string, unknown>, string | null]>([
    ['mutation { createTicket(input: { title: "a\\u0000", description: "d" }) { id } }', {}, 'title'],
    ['mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }', { i: { title: 't', description: 'x\u0000' } }, 'description'],
    ['mutation($t: String!) { createTicket(input: { title: $t, description: "d" }) { id } }', { t: '\uDBFF' }, 'title'],
    ['mutation($t: String!) { addReply(ticketId: "1", text: $t) { id } }', { t: 'a\u0000' }, 'text'],
    ['mutation { addComment(ticketId: "1\\u0000", text: "x") { id } }', {}, 'ticketId'],
    ['mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }', { i: { headers: [{ name: 'A', value: 'b' }, { name: 'X\u0000', value: '' }] } }, 'headers[1].name'],
    ['query($f: DeliveryFilter) { deliveries(filter: $f) { totalCount } }', { f: { ticketId: '1\u0000' } }, 'filter.ticketId'],
    ['query { deliveries(filter: { webhookId: "\\u0000" }) { totalCount } }', {}, 'filter.webhookId'],
    ['mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }', { i: { title: 't', description: 'd', customFields: { note: ['ok', { deep: '\u0000' }] } } }, 'customFields.note[1].deep'],
    ['query { me { id } }', { unused: 'x\u0000' }, '$unused'],
    ['query($t: String!) { me { id } }', { t: 'fine' }, null],
    ['fragment F on Ticket { customFieldValue(key: "a\\u0000") } query { tickets { ...F } }', {}, 'key'],
  ])('%s', (query, variables, field) => {
    expect(unstorableInRequest(doc(query), variables)?.field ?? null).toBe(field);
  });
});
