import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/dispatcher/evaluate.js';
import { toDuration } from '../../src/dispatcher/operators.js';
import { ruleFields } from '../../src/dispatcher/fields.js';
import { timerSpec } from '../../src/dispatcher/timers.js';
import { validateRuleInput, type RuleInputLike, type ValidationContext } from '../../src/dispatcher/validate-rule.js';
import type { ConditionDef, TicketClocks, TicketSnapshot } from '../../src/domain/index.js';
import type { CustomFieldInfo, DispatchEvent, RuleDef } from '../../src/dispatcher/types.js';

const S = 1_000, M = 60 * S, H = 60 * M, D = 24 * H;

describe('toDuration', () => {
  const cases: [unknown, number | null][] = [
    ['45s', 45 * S], ['30m', 30 * M], ['2h', 2 * H], ['3d', 3 * D], ['15', 15 * M], ['1', M], ['999999999s', 999_999_999 * S],
    [3_500, 3_500], // a clock's elapsed ms
    ['0', null], ['0s', null], ['-3m', null], ['1.5h', null], ['3 h', null], [' 3h', null], ['3H', null], ['03m', null],
    ['3w', null], ['h', null], ['', null], ['1e3', null], ['1000000000s', 1_000_000_000 * S],
    // at most 100 years (36500d) in any unit: a timer's due time must fit PostgreSQL's ranges
    ['36500d', 36_500 * D], ['36501d', null], ['999999999d', null], ['999999999h', null],
    ['876000h', 36_500 * D], ['876001h', null], ['52560000', 36_500 * D], ['52560001m', null],
    ['3153600000s', 36_500 * D], ['3153600001s', null], ['99999999999s', null],
    [null, null], [undefined, null], [Infinity, null],
  ];
  it.each(cases)('%j → %j', (value, ms) => expect(toDuration(value)).toBe(ms));
});

const ctx: ValidationContext = {
  customFields: new Map(),
  webhookExists: () => true,
  assigneeRole: () => null,
  checkTemplate: () => null,
};
const timerRule = (conditions: RuleInputLike['conditions'], events = ['TIMER'], match: 'ALL' | 'ANY' = 'ALL'): RuleInputLike => ({
  name: 'No reply', events, match, conditions, actions: [{ type: 'ADD_COMMENT', value: 'ping' }],
});

describe('validateRuleInput: time conditions', () => {
  it.each([
    ['timeSinceLastReply', 'GREATER_THAN', '3s'],
    ['timeSinceCreated', 'GREATER_THAN', '30m'],
    ['timeSinceUpdated', 'LESS_THAN', '2h'],
    ['timeSinceLastClientReply', 'GREATER_THAN', '3d'],
    ['timeSinceLastStaffReply', 'GREATER_THAN', '90'],
    ['timeSinceLastComment', 'GREATER_THAN', '1'],
  ])('accepts %s %s %s', (field, operator, value) => {
    expect(validateRuleInput(timerRule([{ field, operator, value }], ['TICKET_UPDATED']), ctx)).toEqual([]);
  });

  // conditions are judged as of the event: a clock the event starts itself has run 0 s
  it.each<[string, string[], 'ALL' | 'ANY']>([
    ['timeSinceCreated', ['TICKET_CREATED'], 'ALL'],
    ['timeSinceLastStaffReply', ['TICKET_CREATED'], 'ALL'],
    ['timeSinceUpdated', ['TICKET_UPDATED', 'REPLY_ADDED', 'COMMENT_ADDED'], 'ALL'],
    ['timeSinceLastReply', ['REPLY_ADDED'], 'ALL'],
    ['timeSinceLastComment', ['COMMENT_ADDED', 'TICKET_CREATED'], 'ANY'],
  ])('refuses %s GREATER_THAN on %j (%s): it never holds there, so the rule would never run', (field, events, match) => {
    const errors = validateRuleInput(timerRule([{ field, operator: 'GREATER_THAN', value: '1h' }], events, match), ctx);
    expect(errors).toEqual([{
      field: 'conditions[0].operator',
      message: `${field} GREATER_THAN never holds on ${events.join(', ')}: conditions are judged as of the event, which starts that clock itself, so the rule would never run; to act some time after it, listen to TIMER`,
    }]);
  });

  it.each<[string, string[], 'ALL' | 'ANY', RuleInputLike['conditions']]>([
    ['another event', ['TICKET_CREATED', 'REPLY_ADDED'], 'ALL', [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1h' }]],
    ['TIMER', ['TICKET_CREATED', 'TIMER'], 'ALL', [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1h' }]],
    ['a clock the event does not start', ['REPLY_ADDED'], 'ALL', [{ field: 'timeSinceLastComment', operator: 'GREATER_THAN', value: '1h' }]],
    ['another condition of ANY', ['TICKET_CREATED'], 'ANY', [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: '1h' }, { field: 'status', operator: 'EQUALS', value: 'OPEN' }]],
    ['LESS_THAN', ['TICKET_CREATED'], 'ALL', [{ field: 'timeSinceCreated', operator: 'LESS_THAN', value: '1h' }]],
  ])('accepts a time condition that can hold: on %s', (_label, events, match, conditions) => {
    expect(validateRuleInput(timerRule(conditions, events, match), ctx)).toEqual([]);
  });

  it('a TIMER rule for CLOSED tickets is refused (no TIMER comes for one); with another event it is accepted', () => {
    const conditions = [{ field: 'timeSinceUpdated', operator: 'GREATER_THAN', value: '7d' }, { field: 'status', operator: 'EQUALS', value: 'CLOSED' }];
    expect(validateRuleInput(timerRule(conditions), ctx)).toEqual([{
      field: 'conditions[1].operator',
      message: 'a TIMER never fires for a CLOSED ticket (closing stops its timers), and the rule listens to TIMER, so it would never run; to act some time after a ticket is closed, time it from RESOLVED, or listen to TICKET_UPDATED',
    }]);
    const closed = [{ field: 'timeSinceLastReply', operator: 'GREATER_THAN', value: '7d' }, conditions[1]!];
    expect(validateRuleInput(timerRule(closed, ['TIMER', 'TICKET_UPDATED']), ctx)).toEqual([]);
    expect(validateRuleInput(timerRule([conditions[0]!, { field: 'status', operator: 'EQUALS', value: 'RESOLVED' }]), ctx)).toEqual([]);
  });

  it('each event failing by another condition: refused, naming them', () => {
    const conditions = [{ field: 'timeSinceLastReply', operator: 'GREATER_THAN', value: '1h' }, { field: 'timeSinceLastComment', operator: 'GREATER_THAN', value: '1h' }];
    expect(validateRuleInput(timerRule(conditions, ['REPLY_ADDED', 'COMMENT_ADDED']), ctx)).toEqual([{
      field: 'conditions',
      message: 'no event of the rule lets all its conditions hold (on REPLY_ADDED conditions[0], on COMMENT_ADDED conditions[1] never holds), so it would never run',
    }]);
  });

  it.each(['0', '1.5h', '-3m', '3 h', 'soon', '3w', ''])('refuses the duration %j, naming the condition', (value) => {
    const errors = validateRuleInput(timerRule([{ field: 'status', operator: 'EQUALS', value: 'OPEN' }, { field: 'timeSinceLastReply', operator: 'GREATER_THAN', value }]), ctx);
    expect(errors.map((e) => e.field)).toContain('conditions[1].value');
  });

  it.each(['EQUALS', 'CONTAINS', 'IS_EMPTY', 'CHANGED'])('refuses the operator %s on a time field', (operator) => {
    const errors = validateRuleInput(timerRule([{ field: 'timeSinceCreated', operator, value: '3s' }], ['REPLY_ADDED']), ctx);
    expect(errors[0]).toMatchObject({ field: 'conditions[0].operator', message: expect.stringContaining('GREATER_THAN, LESS_THAN') });
  });

  it('a TIMER rule needs a GREATER_THAN time condition (ALL or ANY)', () => {
    for (const conditions of [[], [{ field: 'status', operator: 'EQUALS', value: 'OPEN' }], [{ field: 'timeSinceLastReply', operator: 'LESS_THAN', value: '3s' }]]) {
      expect(validateRuleInput(timerRule(conditions), ctx)).toEqual([{ field: 'conditions', message: expect.stringContaining('GREATER_THAN') }]);
    }
    expect(validateRuleInput(timerRule([{ field: 'status', operator: 'EQUALS', value: 'OPEN' }, { field: 'timeSinceLastReply', operator: 'GREATER_THAN', value: '3s' }], ['TIMER'], 'ANY'), ctx)).toEqual([]);
  });
});

// ---------------------------------------------------------------- evaluation

const T0 = Date.UTC(2030, 0, 1);
const clocks = (over: Partial<TicketClocks> = {}): TicketClocks => ({
  now: T0 + 10 * M, created: T0, updated: T0 + 5 * M, lastReply: T0 + 8 * M, lastClientReply: T0 + 8 * M, lastStaffReply: T0 + 2 * M, lastComment: T0, ...over,
});
const ticket = (over: Partial<TicketSnapshot> = {}): TicketSnapshot => ({
  id: '7', title: 't', description: '', status: 'OPEN', priority: 'NORMAL', requester: { email: 'a@x', role: 'CLIENT' },
  assignee: null, parentId: null, lastReplyAuthor: 'CLIENT', custom: {}, clocks: clocks(), ...over,
});
const rule = (id: string, conditions: ConditionDef[], over: Partial<RuleDef> = {}): RuleDef => ({
  id, name: `r${id}`, enabled: true, position: Number(id), continueAfterMatch: true, events: ['TIMER', 'REPLY_ADDED'], match: 'ALL', conditions, actions: [], ...over,
});
const gt = (field: string, value: string): ConditionDef => ({ field, operator: 'GREATER_THAN', value });
const lt = (field: string, value: string): ConditionDef => ({ field, operator: 'LESS_THAN', value });
const noFields = new Map<string, CustomFieldInfo>();
const ids = (rules: RuleDef[]) => rules.map((r) => r.id);
const reply: DispatchEvent = { type: 'REPLY_ADDED', changes: [] };

describe('evaluate: time conditions', () => {
  // now = T0+10m: created 10m ago, updated 5m, last reply 2m, last client reply 2m, last staff reply 8m, last comment 10m
  const cases: [ConditionDef, boolean][] = [
    [gt('timeSinceCreated', '9m'), true], [gt('timeSinceCreated', '10m'), false], [gt('timeSinceCreated', '599s'), true],
    [lt('timeSinceCreated', '11m'), true], [lt('timeSinceCreated', '10m'), false],
    [gt('timeSinceUpdated', '4'), true], [gt('timeSinceUpdated', '5'), false],
    [gt('timeSinceLastReply', '119s'), true], [gt('timeSinceLastReply', '2m'), false], [lt('timeSinceLastReply', '3m'), true],
    [gt('timeSinceLastClientReply', '1m'), true], [gt('timeSinceLastStaffReply', '7m'), true], [gt('timeSinceLastStaffReply', '1h'), false],
    [gt('timeSinceLastComment', '9m'), true], [gt('timeSinceLastComment', '1d'), false],
    [gt('timeSinceLastReply', 'bad'), false],
  ];
  it.each(cases)('%j → %s', (condition, expected) => {
    expect(ids(evaluate(reply, ticket(), [rule('1', [condition])], noFields))).toEqual(expected ? ['1'] : []);
  });

  it('without clocks, time conditions never hold', () => {
    expect(evaluate(reply, ticket({ clocks: undefined }), [rule('1', [gt('timeSinceCreated', '1s')])], noFields)).toEqual([]);
    expect(evaluate(reply, ticket({ clocks: undefined }), [rule('1', [lt('timeSinceCreated', '1d')])], noFields)).toEqual([]);
  });

  it('a TIMER is judged against its own rule only, again, and never for a CLOSED ticket', () => {
    const rules = [rule('1', [gt('timeSinceLastReply', '1m')]), rule('2', [gt('timeSinceLastReply', '1m')]), rule('3', [gt('timeSinceLastReply', '5m')])];
    expect(ids(evaluate(reply, ticket(), rules, noFields))).toEqual(['1', '2']);
    expect(ids(evaluate({ type: 'TIMER', changes: [], ruleId: '2' }, ticket(), rules, noFields))).toEqual(['2']);
    expect(ids(evaluate({ type: 'TIMER', changes: [], ruleId: '3' }, ticket(), rules, noFields))).toEqual([]); // no longer holds
    expect(ids(evaluate({ type: 'TIMER', changes: [], ruleId: '2' }, ticket({ status: 'CLOSED' }), rules, noFields))).toEqual([]);
    expect(ids(evaluate({ type: 'TIMER', changes: [], ruleId: '9' }, ticket(), rules, noFields))).toEqual([]); // disabled or deleted
    expect(ids(evaluate({ type: 'TIMER', changes: [], ruleId: '2' }, ticket(), [rule('2', [gt('timeSinceLastReply', '1m')], { events: ['REPLY_ADDED'] })], noFields))).toEqual([]);
  });
});

describe('timerSpec: what the plan measures', () => {
  it('takes the GREATER_THAN time conditions of an enabled TIMER rule', () => {
    expect(timerSpec(rule('1', [gt('timeSinceLastReply', '3s'), lt('timeSinceCreated', '1h'), gt('timeSinceLastComment', '2m'), { field: 'status', operator: 'EQUALS', value: 'OPEN' }], { match: 'ANY' })))
      .toEqual({ match: 'ANY', clocks: ['lastReply', 'lastComment'], millis: [3 * S, 2 * M] });
    expect(timerSpec(rule('1', [gt('timeSinceLastReply', '3s')], { enabled: false }))).toBeNull();
    expect(timerSpec(rule('1', [gt('timeSinceLastReply', '3s')], { events: ['REPLY_ADDED'] }))).toBeNull();
    expect(timerSpec(rule('1', [lt('timeSinceLastReply', '3s')]))).toBeNull();
  });
});

describe('ruleFields', () => {
  it('lists every field with its type, operators and options, custom fields included', () => {
    const fields = ruleFields(new Map([['channel', { type: 'SELECT' as const, options: ['Email', 'Phone'] }], ['amount', { type: 'NUMBER' as const, options: [] }]]));
    const by = new Map(fields.map((f) => [f.name, f]));
    expect(by.get('timeSinceLastReply')).toMatchObject({ type: 'DURATION', operators: ['GREATER_THAN', 'LESS_THAN'], options: [] });
    expect(by.get('status')).toMatchObject({ type: 'ENUM', options: ['OPEN', 'IN_PROGRESS', 'WAITING', 'RESOLVED', 'CLOSED'] });
    expect(by.get('requester.role')).toMatchObject({ type: 'ROLE', options: ['ADMIN', 'AGENT', 'CLIENT'] });
    expect(by.get('custom.channel')).toMatchObject({ type: 'SELECT', options: ['Email', 'Phone'], operators: expect.arrayContaining(['EQUALS', 'CONTAINS', 'CHANGED_TO']) });
    expect(by.get('custom.amount')).toMatchObject({ type: 'NUMBER', operators: expect.arrayContaining(['GREATER_THAN']) });
    expect(by.get('parent')!.operators).toEqual(['IS_EMPTY', 'IS_NOT_EMPTY']);
    expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['timeSinceCreated', 'timeSinceUpdated', 'timeSinceLastClientReply', 'timeSinceLastStaffReply', 'timeSinceLastComment', 'lastReplyAuthor']));
    for (const f of fields) expect(f.description).not.toBe('');
  });
});
