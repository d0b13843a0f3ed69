import { describe, expect, it } from 'vitest';
import { conditionHolds, evaluate } from '../../src/dispatcher/evaluate.js';
import { toTime } from '../../src/dispatcher/operators.js';
import type { ConditionDef, ConditionOperator, FieldChange, TicketEventType, TicketSnapshot } from '../../src/domain/index.js';
import type { CustomFieldInfo, DispatchEvent, RuleDef } from '../../src/dispatcher/types.js';

const customFields = new Map<string, CustomFieldInfo>([
  ['order_no', { type: 'TEXT', options: [] }],
  ['amount', { type: 'NUMBER', options: [] }],
  ['due', { type: 'DATE', options: [] }],
  ['vip', { type: 'BOOLEAN', options: [] }],
  ['channel', { type: 'SELECT', options: ['Email', 'Phone'] }],
  ['empty_num', { type: 'NUMBER', options: [] }],
]);

function ticket(over: Partial<TicketSnapshot> = {}): TicketSnapshot {
  return {
    id: '7',
    title: 'Printer on fire',
    description: 'The office printer is on FIRE again',
    status: 'OPEN',
    priority: 'HIGH',
    requester: { email: 'ann@client.example', role: 'CLIENT' },
    assignee: { email: 'bob@desk.example' },
    parentId: null,
    lastReplyAuthor: 'CLIENT',
    custom: { order_no: 'A-100', amount: 10, due: '2024-05-01', vip: true, channel: 'Email', empty_num: null },
    ...over,
  };
}

const created: DispatchEvent = { type: 'TICKET_CREATED', changes: [] };
const updated = (...changes: FieldChange[]): DispatchEvent => ({ type: 'TICKET_UPDATED', changes });

const holds = (field: string, operator: ConditionOperator, value: string | null, t = ticket(), e = created) =>
  conditionHolds({ field, operator, value }, e, t, customFields);

// ---------------------------------------------------------------- operators × fields

describe('conditionHolds: value operators', () => {
  const cases: [string, ConditionOperator, string | null, boolean][] = [
    // EQUALS / NOT_EQUALS: enums are case-sensitive, text is exact
    ['status', 'EQUALS', 'OPEN', true],
    ['status', 'EQUALS', 'open', false],
    ['status', 'NOT_EQUALS', 'CLOSED', true],
    ['status', 'NOT_EQUALS', 'OPEN', false],
    ['priority', 'EQUALS', 'HIGH', true],
    ['priority', 'NOT_EQUALS', 'HIGH', false],
    ['requester.role', 'EQUALS', 'CLIENT', true],
    ['requester.role', 'EQUALS', 'AGENT', false],
    ['lastReplyAuthor', 'EQUALS', 'CLIENT', true],
    ['lastReplyAuthor', 'NOT_EQUALS', 'STAFF', true],
    ['title', 'EQUALS', 'Printer on fire', true],
    ['title', 'EQUALS', 'printer on fire', false],
    ['title', 'NOT_EQUALS', 'printer on fire', true],
    ['requester.email', 'EQUALS', 'ann@client.example', true],
    ['assignee.email', 'EQUALS', 'bob@desk.example', true],
    // e-mail addresses are stored lower-cased: a condition names one in any case
    ['requester.email', 'EQUALS', 'Ann@Client.Example', true],
    ['requester.email', 'NOT_EQUALS', 'ANN@CLIENT.EXAMPLE', false],
    ['assignee.email', 'EQUALS', 'Bob@Desk.example', true],
    ['assignee.email', 'EQUALS', 'Bobby@Desk.example', false],
    // and trimmed: an address pasted with white space around it names the same one
    ['requester.email', 'EQUALS', ' ann@client.example\t', true],
    ['assignee.email', 'NOT_EQUALS', 'bob@desk.example ', false],
    ['custom.order_no', 'EQUALS', 'A-100', true],
    ['custom.channel', 'EQUALS', 'Email', true],
    ['custom.channel', 'EQUALS', 'email', false],
    // NUMBER equality is numeric; BOOLEAN compares true/false
    ['custom.amount', 'EQUALS', '10', true],
    ['custom.amount', 'EQUALS', '10.0', true],
    ['custom.amount', 'EQUALS', '1e1', true],
    ['custom.amount', 'EQUALS', '11', false],
    ['custom.amount', 'NOT_EQUALS', '10.00', false],
    ['custom.vip', 'EQUALS', 'true', true],
    ['custom.vip', 'EQUALS', 'false', false],
    ['custom.vip', 'NOT_EQUALS', 'false', true],
    // ... with the words the field itself takes
    ['custom.vip', 'EQUALS', ' Yes ', true],
    ['custom.vip', 'EQUALS', '1', true],
    ['custom.vip', 'NOT_EQUALS', 'no', true],
    ['custom.vip', 'EQUALS', '0', false],
    // DATE equality: a date without a time is that day
    ['custom.due', 'EQUALS', '2024-05-01', true],
    ['custom.due', 'EQUALS', '2024-05-01T00:00:00Z', true],
    ['custom.due', 'EQUALS', '2024-05-02', false],
    // a missing value equals nothing, and so is NOT_EQUALS to anything
    ['custom.empty_num', 'EQUALS', '0', false],
    ['custom.empty_num', 'NOT_EQUALS', '0', true],

    // CONTAINS / NOT_CONTAINS: case-insensitive substring
    ['title', 'CONTAINS', 'FIRE', true],
    ['title', 'CONTAINS', 'water', false],
    ['description', 'CONTAINS', 'office printer', true],
    ['description', 'NOT_CONTAINS', 'fire', false],
    ['description', 'NOT_CONTAINS', 'water', true],
    ['requester.email', 'CONTAINS', '@CLIENT.example', true],
    ['assignee.email', 'NOT_CONTAINS', 'client', true],
    ['custom.order_no', 'CONTAINS', 'a-1', true],
    ['custom.channel', 'CONTAINS', 'mai', true],

    // IS_EMPTY / IS_NOT_EMPTY
    ['assignee.email', 'IS_EMPTY', null, false],
    ['assignee.email', 'IS_NOT_EMPTY', null, true],
    ['parent', 'IS_EMPTY', null, true],
    ['parent', 'IS_NOT_EMPTY', null, false],
    ['lastReplyAuthor', 'IS_NOT_EMPTY', null, true],
    ['custom.empty_num', 'IS_EMPTY', null, true],
    ['custom.missing_key_is_not_a_field', 'IS_EMPTY', null, false],
    ['custom.amount', 'IS_NOT_EMPTY', null, true],
    ['description', 'IS_EMPTY', null, false],

    // GREATER_THAN / LESS_THAN: NUMBER numeric, DATE chronological, missing never matches
    ['custom.amount', 'GREATER_THAN', '9.5', true],
    ['custom.amount', 'GREATER_THAN', '10', false],
    ['custom.amount', 'GREATER_THAN', '100', false],
    ['custom.amount', 'LESS_THAN', '100', true], // numeric, not text ("10" > "100" as text)
    ['custom.amount', 'LESS_THAN', '10', false],
    ['custom.amount', 'LESS_THAN', '-1', false],
    ['custom.due', 'GREATER_THAN', '2024-04-30', true],
    ['custom.due', 'GREATER_THAN', '2024-05-01', false],
    ['custom.due', 'LESS_THAN', '2024-05-01T00:00:01Z', true],
    ['custom.due', 'LESS_THAN', '2024-05-01T00:30:00+01:00', false], // = 2024-04-30T23:30Z
    ['custom.due', 'GREATER_THAN', '2024-05-01T00:30:00+01:00', true],
    ['custom.empty_num', 'GREATER_THAN', '-1000', false],
    ['custom.empty_num', 'LESS_THAN', '1000', false],

    // an operator that does not fit the field never holds (a stale rule goes quiet)
    ['status', 'GREATER_THAN', 'OPEN', false],
    ['status', 'CONTAINS', 'OP', false],
    ['parent', 'EQUALS', '1', false],
    ['title', 'GREATER_THAN', 'A', false],
    ['custom.order_no', 'GREATER_THAN', 'A', false],
    // unknown field never holds
    ['nope', 'IS_NOT_EMPTY', null, false],
  ];

  it.each(cases)('%s %s %j → %s', (field, op, value, expected) => {
    expect(holds(field, op, value)).toBe(expected);
  });
});

describe('conditionHolds: reading the snapshot', () => {
  it.each<[string, ConditionOperator, string | null, Partial<TicketSnapshot>, boolean]>([
    ['assignee.email', 'IS_EMPTY', null, { assignee: null }, true],
    ['assignee.email', 'EQUALS', 'bob@desk.example', { assignee: null }, false],
    ['assignee.email', 'NOT_CONTAINS', 'bob', { assignee: null }, true],
    ['parent', 'IS_NOT_EMPTY', null, { parentId: '3' }, true],
    ['lastReplyAuthor', 'IS_EMPTY', null, { lastReplyAuthor: null }, true],
    ['lastReplyAuthor', 'EQUALS', 'STAFF', { lastReplyAuthor: 'STAFF' }, true],
    ['description', 'IS_EMPTY', null, { description: '' }, true],
    ['custom.order_no', 'IS_EMPTY', null, { custom: {} }, true],
    ['custom.amount', 'EQUALS', '10', { custom: { amount: '10.0' } }, true],
    ['custom.amount', 'GREATER_THAN', '9', { custom: { amount: ' 10 ' } }, true],
    ['custom.amount', 'GREATER_THAN', '9', { custom: { amount: 'ten' } }, false],
    ['custom.amount', 'LESS_THAN', '9', { custom: { amount: '' } }, false],
    ['custom.vip', 'EQUALS', 'false', { custom: { vip: 'false' } }, true],
    ['custom.vip', 'EQUALS', 'true', { custom: { vip: false } }, false],
    ['custom.due', 'GREATER_THAN', '2024-01-01', { custom: { due: new Date('2024-06-01T00:00:00Z') } }, true],
    ['custom.due', 'LESS_THAN', '2030-01-01', { custom: { due: '2024-02-30' } }, false], // not a date
    // a date without a time is its whole day (UTC); a value with a time compares instants
    ['custom.due', 'EQUALS', '2024-05-01', { custom: { due: '2024-05-01T18:30:00.000Z' } }, true],
    ['custom.due', 'NOT_EQUALS', ' 2024-05-01 ', { custom: { due: '2024-05-01T18:30:00.000Z' } }, false],
    ['custom.due', 'GREATER_THAN', '2024-05-01', { custom: { due: '2024-05-01T18:30:00.000Z' } }, false],
    ['custom.due', 'LESS_THAN', '2024-05-02', { custom: { due: '2024-05-01T18:30:00.000Z' } }, true],
    ['custom.due', 'EQUALS', '2024-05-01T00:00:00Z', { custom: { due: '2024-05-01T18:30:00.000Z' } }, false],
    ['custom.due', 'GREATER_THAN', '2024-05-01T12:00:00Z', { custom: { due: '2024-05-01T18:30:00.000Z' } }, true],
  ])('%s %s %j on %j → %s', (field, op, value, over, expected) => {
    expect(holds(field, op, value, ticket(over))).toBe(expected);
  });

  it('does not read inherited properties for custom keys', () => {
    const fields = new Map<string, CustomFieldInfo>([['constructor', { type: 'TEXT', options: [] }]]);
    const c: ConditionDef = { field: 'custom.constructor', operator: 'IS_EMPTY', value: null };
    expect(conditionHolds(c, created, ticket({ custom: {} }), fields)).toBe(true);
  });
});

describe('conditionHolds: change operators', () => {
  const toResolved = updated({ field: 'status', old: 'OPEN', new: 'RESOLVED' });
  const titleOnly = updated({ field: 'title', old: 'Old', new: 'Printer on fire' });
  const resolvedTicket = ticket({ status: 'RESOLVED' });

  it.each<[string, ConditionOperator, string | null, DispatchEvent, boolean]>([
    // status CHANGED_TO RESOLVED fires on that change only
    ['status', 'CHANGED_TO', 'RESOLVED', toResolved, true],
    ['status', 'CHANGED_TO', 'RESOLVED', titleOnly, false],
    ['status', 'CHANGED_TO', 'RESOLVED', updated(), false],
    ['status', 'CHANGED_TO', 'RESOLVED', updated({ field: 'status', old: 'RESOLVED', new: 'RESOLVED' }), false],
    ['status', 'CHANGED_TO', 'CLOSED', toResolved, false],
    ['status', 'CHANGED_FROM', 'OPEN', toResolved, true],
    ['status', 'CHANGED_FROM', 'RESOLVED', toResolved, false],
    ['status', 'CHANGED', null, toResolved, true],
    ['status', 'CHANGED', null, titleOnly, false],
    ['title', 'CHANGED', null, titleOnly, true],
    ['title', 'CHANGED_FROM', 'Old', titleOnly, true],
    ['title', 'CHANGED_FROM', 'old', titleOnly, false],
    ['priority', 'CHANGED_TO', 'URGENT', updated({ field: 'priority', old: 'LOW', new: 'URGENT' }), true],
    // assignee: from nobody to someone, and back
    ['assignee.email', 'CHANGED', null, updated({ field: 'assignee.email', old: null, new: 'bob@desk.example' }), true],
    ['assignee.email', 'CHANGED_FROM', '', updated({ field: 'assignee.email', old: null, new: 'bob@desk.example' }), true],
    ['assignee.email', 'CHANGED_TO', '', updated({ field: 'assignee.email', old: 'bob@desk.example', new: null }), true],
    ['assignee.email', 'CHANGED', null, updated({ field: 'assignee.email', old: null, new: '' }), false],
    ['assignee.email', 'CHANGED_TO', 'Bob@Desk.Example', updated({ field: 'assignee.email', old: null, new: 'bob@desk.example' }), true],
    ['assignee.email', 'CHANGED_FROM', 'BOB@desk.example', updated({ field: 'assignee.email', old: 'bob@desk.example', new: null }), true],
    // custom fields compare by type: 10 → "10.0" is no change
    ['custom.amount', 'CHANGED', null, updated({ field: 'custom.amount', old: 10, new: '10.0' }), false],
    ['custom.amount', 'CHANGED_TO', '20', updated({ field: 'custom.amount', old: 10, new: 20 }), true],
    ['custom.amount', 'CHANGED_FROM', '10.0', updated({ field: 'custom.amount', old: 10, new: 20 }), true],
    ['custom.order_no', 'CHANGED_TO', 'A-200', updated({ field: 'custom.order_no', old: 'A-100', new: 'A-200' }), true],
    ['custom.due', 'CHANGED_TO', '2024-05-02', updated({ field: 'custom.due', old: '2024-05-01T10:00:00.000Z', new: '2024-05-02T09:00:00.000Z' }), true],
    ['custom.due', 'CHANGED_FROM', '2024-05-01', updated({ field: 'custom.due', old: '2024-05-01T10:00:00.000Z', new: '2024-05-02T09:00:00.000Z' }), true],
    ['custom.order_no', 'CHANGED', null, updated({ field: 'custom.amount', old: 1, new: 2 }), false],
    // change sets only exist for TICKET_UPDATED
    ['status', 'CHANGED', null, { type: 'TICKET_CREATED', changes: [{ field: 'status', old: null, new: 'RESOLVED' }] }, false],
    ['status', 'CHANGED_TO', 'RESOLVED', { type: 'REPLY_ADDED', changes: [{ field: 'status', old: 'OPEN', new: 'RESOLVED' }] }, false],
    ['status', 'CHANGED_FROM', 'OPEN', { type: 'COMMENT_ADDED', changes: [{ field: 'status', old: 'OPEN', new: 'RESOLVED' }] }, false],
    // fields that never change do not fit CHANGED*
    ['requester.email', 'CHANGED', null, updated({ field: 'requester.email', old: 'a@x', new: 'b@x' }), false],
  ])('%s %s %j on %j → %s', (field, op, value, event, expected) => {
    expect(holds(field, op, value, resolvedTicket, event)).toBe(expected);
  });
});

describe('toTime', () => {
  it.each<[string, number | null]>([
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['2024-05-01T10:30', Date.UTC(2024, 4, 1, 10, 30)], // no offset: read as UTC
    ['2024-05-01 10:30:15.5Z', Date.UTC(2024, 4, 1, 10, 30, 15, 500)],
    ['2024-05-01T10:30:00+02:00', Date.UTC(2024, 4, 1, 8, 30)],
    ['2024-05-01T10:30:00-0130', Date.UTC(2024, 4, 1, 12, 0)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2023-02-29', null],
    ['2024-02-30', null],
    ['2024-13-01', null],
    ['1', null],
    ['May 1 2024', null],
    ['', null],
  ])('%j → %s', (text, expected) => {
    expect(toTime(text)).toBe(expected);
  });
});

// ---------------------------------------------------------------- rules

let nextId = 1;
function rule(over: Partial<RuleDef> = {}): RuleDef {
  const id = String(nextId++);
  return {
    id,
    name: `rule ${id}`,
    enabled: true,
    position: 0,
    continueAfterMatch: false,
    events: ['TICKET_CREATED', 'TICKET_UPDATED', 'REPLY_ADDED', 'COMMENT_ADDED'],
    match: 'ALL',
    conditions: [],
    actions: [{ type: 'ADD_COMMENT', webhookId: null, field: null, value: 'hi', awaitResponse: false }],
    ...over,
  };
}

const cond = (field: string, operator: ConditionOperator, value: string | null = null): ConditionDef => ({ field, operator, value });
const isOpen = cond('status', 'EQUALS', 'OPEN');
const isClosed = cond('status', 'EQUALS', 'CLOSED');
const isHigh = cond('priority', 'EQUALS', 'HIGH');
const run = (rules: RuleDef[], e: DispatchEvent = created, t = ticket()) => evaluate(e, t, rules, customFields).map((r) => r.name);

describe('evaluate: match', () => {
  it.each<[string, RuleDef['match'], ConditionDef[], boolean]>([
    ['ALL, all hold', 'ALL', [isOpen, isHigh], true],
    ['ALL, one fails', 'ALL', [isOpen, isClosed], false],
    ['ANY, one holds', 'ANY', [isClosed, isHigh], true],
    ['ANY, a single condition holds', 'ANY', [isOpen], true],
    ['ANY, none hold', 'ANY', [isClosed, cond('priority', 'EQUALS', 'LOW')], false],
    ['ALL, no conditions', 'ALL', [], true],
    ['ANY, no conditions', 'ANY', [], true],
  ])('%s', (_label, match, conditions, fires) => {
    expect(run([rule({ name: 'r', match, conditions })])).toEqual(fires ? ['r'] : []);
  });
});

describe('evaluate: events, enabled, order', () => {
  it.each<[string, TicketEventType[], TicketEventType, boolean]>([
    ['listens to the event', ['TICKET_CREATED'], 'TICKET_CREATED', true],
    ['does not listen to the event', ['TICKET_UPDATED'], 'TICKET_CREATED', false],
    ['one of several events', ['REPLY_ADDED', 'COMMENT_ADDED'], 'COMMENT_ADDED', true],
    ['no events', [], 'REPLY_ADDED', false],
  ])('events filter: %s', (_label, events, type, fires) => {
    expect(run([rule({ name: 'r', events })], { type, changes: [] })).toEqual(fires ? ['r'] : []);
  });

  it('never runs a disabled rule, and a disabled rule does not stop later ones', () => {
    expect(run([
      rule({ name: 'off', enabled: false, position: 1 }),
      rule({ name: 'on', position: 2 }),
    ])).toEqual(['on']);
  });

  it('first match wins, in position order (not array order)', () => {
    expect(run([
      rule({ name: 'third', position: 30 }),
      rule({ name: 'first', position: 10 }),
      rule({ name: 'second', position: 20 }),
    ])).toEqual(['first']);
  });

  it('skips rules that do not match before the first match', () => {
    expect(run([
      rule({ name: 'closed', position: 1, conditions: [isClosed] }),
      rule({ name: 'open', position: 2, conditions: [isOpen] }),
      rule({ name: 'high', position: 3, conditions: [isHigh] }),
    ])).toEqual(['open']);
  });

  it('continueAfterMatch runs the next matching rule too', () => {
    expect(run([
      rule({ name: 'a', position: 1, continueAfterMatch: true }),
      rule({ name: 'b', position: 2 }),
      rule({ name: 'c', position: 3 }),
    ])).toEqual(['a', 'b']);
  });

  it('keeps going while each matched rule continues; a non-matching rule with continueAfterMatch changes nothing', () => {
    expect(run([
      rule({ name: 'a', position: 1, continueAfterMatch: true }),
      rule({ name: 'x', position: 2, continueAfterMatch: false, conditions: [isClosed] }),
      rule({ name: 'b', position: 3, continueAfterMatch: true }),
      rule({ name: 'c', position: 4, continueAfterMatch: false }),
      rule({ name: 'd', position: 5 }),
    ])).toEqual(['a', 'b', 'c']);
  });

  it('ties on position are broken by id, numerically when numeric', () => {
    const tied = (id: string) => rule({ id, name: id, position: 5, continueAfterMatch: true });
    expect(run([tied('10'), tied('9'), tied('100'), tied('2')])).toEqual(['2', '9', '10', '100']);
    expect(run([tied('b'), tied('a')])).toEqual(['a', 'b']);
    expect(run([tied('12345678901234567891'), tied('12345678901234567890')]))
      .toEqual(['12345678901234567890', '12345678901234567891']);
  });

  it('does not reorder the caller’s array', () => {
    const rules = [rule({ name: 'b', position: 2 }), rule({ name: 'a', position: 1 })];
    run(rules);
    expect(rules.map((r) => r.name)).toEqual(['b', 'a']);
  });

  it('TICKET_UPDATED status CHANGED_TO RESOLVED: fires on that change only', () => {
    const rules = [rule({ name: 'resolved', events: ['TICKET_UPDATED'], conditions: [cond('status', 'CHANGED_TO', 'RESOLVED')] })];
    const t = ticket({ status: 'RESOLVED' });
    expect(run(rules, updated({ field: 'status', old: 'OPEN', new: 'RESOLVED' }), t)).toEqual(['resolved']);
    expect(run(rules, updated({ field: 'title', old: 'x', new: 'y' }), t)).toEqual([]);
    expect(run(rules, updated({ field: 'priority', old: 'LOW', new: 'HIGH' }), t)).toEqual([]);
    expect(run(rules, { type: 'REPLY_ADDED', changes: [] }, t)).toEqual([]);
  });

  it('a condition on a deleted custom field never holds', () => {
    const rules = [rule({ name: 'r', conditions: [cond('custom.gone', 'IS_EMPTY')] })];
    expect(run(rules)).toEqual([]);
  });
});
