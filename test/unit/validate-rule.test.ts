import { describe, expect, it } from 'vitest';
import {
  validateRuleInput, type ActionInputLike, type ConditionInputLike, type RuleInputLike, type ValidationContext,
} from '../../src/dispatcher/validate-rule.js';
import type { CustomFieldInfo } from '../../src/dispatcher/types.js';

const users: Record<string, string> = { '1': 'ADMIN', '2': 'AGENT', '3': 'CLIENT' };

const ctx: ValidationContext = {
  customFields: new Map<string, CustomFieldInfo>([
    ['order_no', { type: 'TEXT', options: [] }],
    ['amount', { type: 'NUMBER', options: [] }],
    ['due', { type: 'DATE', options: [] }],
    ['vip', { type: 'BOOLEAN', options: [] }],
    ['channel', { type: 'SELECT', options: ['Email', 'Phone'] }],
  ]),
  webhookExists: (id) => id === '1',
  assigneeRole: (id) => users[id] ?? null,
  // a stand-in for the template engine: only {{ ticket.* }} tags are known
  checkTemplate: (source) => {
    for (const tag of source.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!tag[1]!.startsWith('ticket.')) return `unknown tag "${tag[1]}" at ${tag.index}`;
    }
    return null;
  },
};

const comment: ActionInputLike = { type: 'ADD_COMMENT', value: 'hello' };
const valid: RuleInputLike = {
  name: 'Notify',
  events: ['TICKET_UPDATED'],
  match: 'ALL',
  conditions: [{ field: 'status', operator: 'CHANGED_TO', value: 'RESOLVED' }],
  actions: [{ type: 'SEND_WEBHOOK', webhookId: '1', awaitResponse: true }, comment],
};

const errorsOf = (over: Partial<RuleInputLike>) => validateRuleInput({ ...valid, ...over }, ctx);
const withCondition = (c: ConditionInputLike) => errorsOf({ conditions: [c] });
const withAction = (a: ActionInputLike) => errorsOf({ actions: [a] });

describe('validateRuleInput: the rule', () => {
  it('accepts a valid rule', () => {
    expect(validateRuleInput(valid, ctx)).toEqual([]);
  });

  it('accepts a rule without match and conditions', () => {
    expect(validateRuleInput({ name: 'x', events: ['REPLY_ADDED'], actions: [comment] }, ctx)).toEqual([]);
    expect(validateRuleInput({ name: 'x', events: ['REPLY_ADDED'], match: null, conditions: null, actions: [comment] }, ctx)).toEqual([]);
  });

  it.each<[string, Partial<RuleInputLike>, string, RegExp]>([
    // worded as every other field's refusal: "name: must not be empty", not "name: name must …"
    ['empty name', { name: '' }, 'name', /^must not be empty$/],
    ['blank name', { name: '   ' }, 'name', /^must not be empty$/],
    ['no events', { events: [] }, 'events', /at least one event/],
    ['unknown event', { events: ['TICKET_UPDATED', 'TICKET_DELETED'] }, 'events[1]', /unknown event "TICKET_DELETED"/],
    ['unknown match', { match: 'SOME' }, 'match', /ALL or ANY/],
    ['no actions', { actions: [] }, 'actions', /at least one action/],
  ])('%s → %s', (_label, over, field, message) => {
    const errors = errorsOf(over);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toEqual({ field, message: expect.stringMatching(message) });
  });

  it('reports every problem at once, each with its path', () => {
    const errors = validateRuleInput({
      name: '',
      events: [],
      conditions: [
        { field: 'foo', operator: 'EQUALS', value: 'x' },
        { field: 'status', operator: 'GREATER_THAN', value: 'OPEN' },
        { field: 'priority', operator: 'EQUALS', value: 'SUPER' },
      ],
      actions: [
        { type: 'SEND_WEBHOOK', webhookId: '9' },
        { type: 'SET_PRIORITY', value: 'SUPER' },
        { type: 'SET_CUSTOM_FIELD', field: 'nope', value: 'x' },
      ],
    }, ctx);
    expect(errors.map((e) => e.field)).toEqual([
      'name', 'events', 'conditions[0].field', 'conditions[1].operator', 'conditions[2].value',
      'actions[0].webhookId', 'actions[1].value', 'actions[2].field',
    ]);
  });
});

describe('validateRuleInput: conditions', () => {
  it.each<[ConditionInputLike]>([
    [{ field: 'title', operator: 'CONTAINS', value: 'urgent' }],
    [{ field: 'description', operator: 'IS_EMPTY', value: null }],
    [{ field: 'description', operator: 'IS_EMPTY', value: '' }],
    [{ field: 'status', operator: 'EQUALS', value: 'IN_PROGRESS' }],
    [{ field: 'status', operator: 'CHANGED', value: null }],
    [{ field: 'status', operator: 'CHANGED_FROM', value: 'OPEN' }],
    [{ field: 'priority', operator: 'NOT_EQUALS', value: 'URGENT' }],
    [{ field: 'requester.email', operator: 'CONTAINS', value: '@vip.example' }],
    [{ field: 'requester.role', operator: 'EQUALS', value: 'AGENT' }],
    [{ field: 'assignee.email', operator: 'IS_EMPTY' }],
    [{ field: 'assignee.email', operator: 'CHANGED_FROM', value: '' }],
    [{ field: 'parent', operator: 'IS_NOT_EMPTY', value: null }],
    [{ field: 'lastReplyAuthor', operator: 'EQUALS', value: 'STAFF' }],
    [{ field: 'custom.order_no', operator: 'CONTAINS', value: 'A-' }],
    [{ field: 'custom.amount', operator: 'GREATER_THAN', value: '10.5' }],
    [{ field: 'custom.amount', operator: 'CHANGED_TO', value: '-3' }],
    [{ field: 'custom.due', operator: 'LESS_THAN', value: '2024-05-01' }],
    [{ field: 'custom.due', operator: 'EQUALS', value: '2024-05-01T10:00:00+02:00' }],
    [{ field: 'custom.vip', operator: 'EQUALS', value: 'true' }],
    [{ field: 'custom.vip', operator: 'EQUALS', value: ' Yes ' }],
    [{ field: 'custom.vip', operator: 'CHANGED_TO', value: '0' }],
    [{ field: 'custom.channel', operator: 'EQUALS', value: 'Phone' }],
    [{ field: 'custom.channel', operator: 'NOT_EQUALS', value: ' Phone\n' }],
    [{ field: 'custom.amount', operator: 'EQUALS', value: ' 1e3 ' }],
    [{ field: 'custom.channel', operator: 'CONTAINS', value: 'ph' }],
  ])('accepts %j', (c) => {
    expect(withCondition(c)).toEqual([]);
  });

  it.each<[ConditionInputLike, string, RegExp]>([
    // field
    [{ field: 'foo', operator: 'EQUALS', value: 'x' }, 'conditions[0].field', /unknown field "foo"/],
    [{ field: 'custom.nope', operator: 'EQUALS', value: 'x' }, 'conditions[0].field', /custom field "nope" does not exist/],
    [{ field: 'custom.', operator: 'IS_EMPTY' }, 'conditions[0].field', /custom field "" does not exist/],
    [{ field: 'requester', operator: 'IS_EMPTY' }, 'conditions[0].field', /unknown field "requester"/],
    // operator
    [{ field: 'status', operator: 'LIKE', value: 'x' }, 'conditions[0].operator', /unknown operator "LIKE"/],
    [{ field: 'status', operator: 'GREATER_THAN', value: 'OPEN' }, 'conditions[0].operator', /operator GREATER_THAN does not fit field status/],
    [{ field: 'status', operator: 'CONTAINS', value: 'OP' }, 'conditions[0].operator', /does not fit field status/],
    [{ field: 'status', operator: 'IS_EMPTY' }, 'conditions[0].operator', /does not fit field status/],
    [{ field: 'parent', operator: 'EQUALS', value: '1' }, 'conditions[0].operator', /use one of IS_EMPTY, IS_NOT_EMPTY/],
    [{ field: 'title', operator: 'LESS_THAN', value: 'a' }, 'conditions[0].operator', /does not fit field title/],
    [{ field: 'custom.order_no', operator: 'GREATER_THAN', value: '1' }, 'conditions[0].operator', /does not fit field custom.order_no/],
    [{ field: 'custom.vip', operator: 'CONTAINS', value: 'tr' }, 'conditions[0].operator', /does not fit/],
    [{ field: 'requester.email', operator: 'CHANGED', value: null }, 'conditions[0].operator', /does not fit/],
    [{ field: 'lastReplyAuthor', operator: 'CHANGED_TO', value: 'STAFF' }, 'conditions[0].operator', /does not fit/],
    // value
    [{ field: 'title', operator: 'EQUALS', value: null }, 'conditions[0].value', /needs a value/],
    [{ field: 'title', operator: 'CONTAINS' }, 'conditions[0].value', /needs a value/],
    [{ field: 'title', operator: 'CONTAINS', value: '' }, 'conditions[0].value', /needs a value/],
    [{ field: 'status', operator: 'CHANGED_TO', value: '' }, 'conditions[0].value', /needs a value/],
    [{ field: 'status', operator: 'EQUALS', value: 'open' }, 'conditions[0].value', /"open" is not one of OPEN, IN_PROGRESS, WAITING, RESOLVED, CLOSED/],
    [{ field: 'status', operator: 'CHANGED_TO', value: 'DONE' }, 'conditions[0].value', /not one of OPEN/],
    [{ field: 'priority', operator: 'EQUALS', value: 'SUPER' }, 'conditions[0].value', /not one of LOW, NORMAL, HIGH, URGENT/],
    [{ field: 'requester.role', operator: 'EQUALS', value: 'OWNER' }, 'conditions[0].value', /not one of ADMIN, AGENT, CLIENT/],
    [{ field: 'lastReplyAuthor', operator: 'EQUALS', value: 'AGENT' }, 'conditions[0].value', /not one of CLIENT, STAFF/],
    // a custom field's value is judged by the field's own conversion; one not of the kind at all is worded as for any field
    [{ field: 'custom.channel', operator: 'EQUALS', value: 'Fax' }, 'conditions[0].value', /not one of Email, Phone/],
    [{ field: 'custom.channel', operator: 'EQUALS', value: 'email' }, 'conditions[0].value', /"email" is not one of Email, Phone/],
    [{ field: 'custom.amount', operator: 'GREATER_THAN', value: 'ten' }, 'conditions[0].value', /needs a number/],
    [{ field: 'custom.amount', operator: 'EQUALS', value: '0x10' }, 'conditions[0].value', /needs a number/],
    [{ field: 'custom.amount', operator: 'EQUALS', value: '9007199254740993' }, 'conditions[0].value', /^custom field "amount" is NUMBER: "9007199254740993" cannot be stored exactly as a number/],
    [{ field: 'custom.due', operator: 'LESS_THAN', value: 'tomorrow' }, 'conditions[0].value', /needs a date/],
    [{ field: 'custom.due', operator: 'EQUALS', value: '2024-02-30' }, 'conditions[0].value', /needs a date/],
    [{ field: 'custom.due', operator: 'EQUALS', value: '2024-05-01T10:00' }, 'conditions[0].value', /^custom field "due" is DATE: "2024-05-01T10:00" is not a date \(use YYYY-MM-DD or an ISO timestamp with a zone/],
    [{ field: 'custom.vip', operator: 'EQUALS', value: 'maybe' }, 'conditions[0].value', /needs true or false \(accepted: true, false, 1, 0, yes, no, any case\), got "maybe"/],
    [{ field: 'title', operator: 'IS_EMPTY', value: 'x' }, 'conditions[0].operator', /does not fit/],
    [{ field: 'description', operator: 'IS_NOT_EMPTY', value: 'x' }, 'conditions[0].value', /takes no value/],
    [{ field: 'status', operator: 'CHANGED', value: 'OPEN' }, 'conditions[0].value', /takes no value/],
  ])('%j → %s', (c, field, message) => {
    const errors = withCondition(c);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toEqual({ field, message: expect.stringMatching(message) });
  });

  it.each<[Partial<RuleInputLike>, string, RegExp]>([
    // CHANGED* read the change set, which only TICKET_UPDATED has
    [{ events: ['TICKET_CREATED'], conditions: [{ field: 'status', operator: 'CHANGED_TO', value: 'RESOLVED' }] }, 'conditions[0].operator',
      /^CHANGED_TO holds only on TICKET_UPDATED .*listens to TICKET_CREATED, so it would never run; add TICKET_UPDATED to its events, or test the value with EQUALS$/],
    [{ events: ['REPLY_ADDED', 'COMMENT_ADDED'], conditions: [{ field: 'priority', operator: 'EQUALS', value: 'HIGH' }, { field: 'status', operator: 'CHANGED' }] }, 'conditions[1].operator', /CHANGED holds only on TICKET_UPDATED .*REPLY_ADDED, COMMENT_ADDED/],
    [{ events: ['TICKET_CREATED'], match: 'ANY', conditions: [{ field: 'status', operator: 'CHANGED' }, { field: 'priority', operator: 'CHANGED_FROM', value: 'LOW' }] }, 'conditions[0].operator', /CHANGED holds only on TICKET_UPDATED/],
  ])('a rule whose conditions can hold on none of its events: %j → %s', (over, field, message) => {
    expect(errorsOf(over)).toEqual([{ field, message: expect.stringMatching(message) }]);
  });

  it.each<[Partial<RuleInputLike>]>([
    [{ events: ['TICKET_CREATED', 'TICKET_UPDATED'], conditions: [{ field: 'status', operator: 'CHANGED_TO', value: 'RESOLVED' }] }],
    // with ANY another condition can still hold
    [{ events: ['TICKET_CREATED'], match: 'ANY', conditions: [{ field: 'status', operator: 'CHANGED' }, { field: 'priority', operator: 'EQUALS', value: 'HIGH' }] }],
  ])('a change condition beside a way for the rule to run is accepted: %j', (over) => {
    expect(errorsOf(over)).toEqual([]);
  });

  it('names the index of the condition', () => {
    const errors = errorsOf({
      conditions: [
        { field: 'status', operator: 'EQUALS', value: 'OPEN' },
        { field: 'status', operator: 'EQUALS', value: 'NOPE' },
      ],
    });
    expect(errors.map((e) => e.field)).toEqual(['conditions[1].value']);
  });
});

describe('validateRuleInput: actions', () => {
  it.each<[ActionInputLike]>([
    [{ type: 'SEND_WEBHOOK', webhookId: '1' }],
    [{ type: 'SEND_WEBHOOK', webhookId: '1', awaitResponse: true, value: null, field: null }],
    [{ type: 'ADD_COMMENT', value: 'Ticket {{ ticket.id }} escalated' }],
    [{ type: 'ADD_REPLY', value: 'We are on it', awaitResponse: false }],
    [{ type: 'SET_STATUS', value: 'WAITING' }],
    [{ type: 'SET_STATUS', value: '{{ ticket.custom.next_status }}' }],
    [{ type: 'SET_PRIORITY', value: 'URGENT' }],
    // trimmed, as the action trims it (a value pasted with a space or line break)
    [{ type: 'SET_STATUS', value: ' CLOSED\n' }],
    [{ type: 'SET_PRIORITY', value: 'LOW ' }],
    [{ type: 'SET_ASSIGNEE', value: '1' }],
    [{ type: 'SET_ASSIGNEE', value: '2' }],
    [{ type: 'SET_ASSIGNEE', value: ' 2 ' }], // trimmed, as the action trims it
    [{ type: 'SET_ASSIGNEE', value: '{{ ticket.custom.owner_id }}' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'order_no', value: 'A-{{ ticket.id }}' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: '12.5' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: '{{ ticket.custom.order_no }}' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'due', value: '2024-05-01' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'vip', value: 'false' }],
    // what the field takes from the API, it takes from a rule
    [{ type: 'SET_CUSTOM_FIELD', field: 'vip', value: 'yes' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'vip', value: '0' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'due', value: '2024-05-01T10:00:00+03:00' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'channel', value: 'Phone' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'channel', value: null }], // clears it
    // HelpDeskEddy tags are tags too: rendered when the action runs, not taken as the value
    [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: '{ticket_id}' }],
    [{ type: 'SET_CUSTOM_FIELD', field: 'due', value: '{last_post_date}' }],
    [{ type: 'SET_ASSIGNEE', value: '{last_post_user_id}' }],
    [{ type: 'SET_STATUS', value: '{answer_last}' }],
  ])('accepts %j', (a) => {
    expect(withAction(a)).toEqual([]);
  });

  it.each<[ActionInputLike, string, RegExp]>([
    [{ type: 'CALL_API' }, 'actions[0].type', /unknown action type "CALL_API"/],
    // SEND_WEBHOOK
    [{ type: 'SEND_WEBHOOK' }, 'actions[0].webhookId', /SEND_WEBHOOK needs a webhook/],
    [{ type: 'SEND_WEBHOOK', webhookId: '' }, 'actions[0].webhookId', /SEND_WEBHOOK needs a webhook/],
    [{ type: 'SEND_WEBHOOK', webhookId: '9' }, 'actions[0].webhookId', /unknown webhook "9"/],
    [{ type: 'SEND_WEBHOOK', webhookId: '1', value: 'x' }, 'actions[0].value', /does not use a value/],
    // awaitResponse elsewhere, stray inputs
    [{ type: 'ADD_COMMENT', value: 'x', awaitResponse: true }, 'actions[0].awaitResponse', /only to SEND_WEBHOOK, not ADD_COMMENT/],
    [{ type: 'SET_STATUS', value: 'OPEN', awaitResponse: true }, 'actions[0].awaitResponse', /only to SEND_WEBHOOK/],
    [{ type: 'ADD_REPLY', value: 'x', webhookId: '1' }, 'actions[0].webhookId', /does not use a webhook/],
    [{ type: 'SET_PRIORITY', value: 'LOW', field: 'amount' }, 'actions[0].field', /does not use a field/],
    // texts
    [{ type: 'ADD_COMMENT' }, 'actions[0].value', /ADD_COMMENT needs a non-empty text/],
    [{ type: 'ADD_COMMENT', value: '  ' }, 'actions[0].value', /non-empty text/],
    [{ type: 'ADD_REPLY', value: '' }, 'actions[0].value', /ADD_REPLY needs a non-empty text/],
    [{ type: 'ADD_REPLY', value: 'Hi {{ process.env }}' }, 'actions[0].value', /unknown tag "process.env" at 3/],
    // enums
    [{ type: 'SET_PRIORITY', value: 'SUPER' }, 'actions[0].value', /SET_PRIORITY "SUPER" is not one of LOW, NORMAL, HIGH, URGENT/],
    [{ type: 'SET_PRIORITY' }, 'actions[0].value', /SET_PRIORITY needs one of/],
    [{ type: 'SET_STATUS', value: 'DONE' }, 'actions[0].value', /SET_STATUS "DONE" is not one of OPEN, IN_PROGRESS, WAITING, RESOLVED, CLOSED/],
    [{ type: 'SET_STATUS', value: '{{ nope }}' }, 'actions[0].value', /unknown tag "nope"/],
    // assignee
    [{ type: 'SET_ASSIGNEE' }, 'actions[0].value', /needs a user id/],
    [{ type: 'SET_ASSIGNEE', value: '3' }, 'actions[0].value', /must name an AGENT or ADMIN user; user "3" is CLIENT/],
    [{ type: 'SET_ASSIGNEE', value: '99' }, 'actions[0].value', /unknown user "99"/],
    [{ type: 'SET_ASSIGNEE', value: '{{ requester.id }}' }, 'actions[0].value', /unknown tag "requester.id"/],
    // custom fields
    [{ type: 'SET_CUSTOM_FIELD', value: 'x' }, 'actions[0].field', /SET_CUSTOM_FIELD needs a custom field key/],
    [{ type: 'SET_CUSTOM_FIELD', field: 'nope', value: 'x' }, 'actions[0].field', /unknown custom field "nope"/],
    [{ type: 'SET_CUSTOM_FIELD', field: 'custom.amount', value: '1' }, 'actions[0].field', /unknown custom field "custom.amount"/],
    [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: 'lots' }, 'actions[0].value', /custom field "amount" is NUMBER: "lots" is not a number/],
    [{ type: 'SET_CUSTOM_FIELD', field: 'due', value: '01/05/2024' }, 'actions[0].value', /is not a date/],
    [{ type: 'SET_CUSTOM_FIELD', field: 'vip', value: 'maybe' }, 'actions[0].value', /is not true\/false/],
    [{ type: 'SET_CUSTOM_FIELD', field: 'channel', value: 'Fax' }, 'actions[0].value', /"Fax" is not one of "Email", "Phone"/],
    // a fixed value is refused at save when the field would refuse it at every run
    [{ type: 'SET_CUSTOM_FIELD', field: 'due', value: '2024-05-01T10:00' }, 'actions[0].value', /custom field "due" is DATE: "2024-05-01T10:00" is not a date \(use YYYY-MM-DD or an ISO timestamp with a zone/],
    [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: '12345678901234567890' }, 'actions[0].value', /cannot be stored exactly as a number/],
    [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: '{{ bad }}' }, 'actions[0].value', /unknown tag "bad"/],
    // braces that are no HelpDeskEddy tag are literal text: the value is fixed
    [{ type: 'SET_CUSTOM_FIELD', field: 'amount', value: '{ticket}' }, 'actions[0].value', /"\{ticket\}" is not a number/],
    [{ type: 'SET_ASSIGNEE', value: '{owner_id}' }, 'actions[0].value', /"\{owner_id\}" is no user id/],
    // an id, not the e-mail address or name an admin may type
    [{ type: 'SET_ASSIGNEE', value: 'agent@example.com' }, 'actions[0].value', /^SET_ASSIGNEE takes the id of an AGENT or ADMIN user \(a number such as 2\), or a template giving one; "agent@example.com" is no user id$/],
    [{ type: 'SET_ASSIGNEE', value: 'Agent Smith' }, 'actions[0].value', /"Agent Smith" is no user id/],
  ])('%j → %s', (a, field, message) => {
    const errors = withAction(a);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toEqual({ field, message: expect.stringMatching(message) });
  });

  it('does not ask for a user when SET_ASSIGNEE is a template', () => {
    const asked: string[] = [];
    const errors = validateRuleInput(
      { ...valid, actions: [{ type: 'SET_ASSIGNEE', value: '{{ ticket.custom.owner }}' }] },
      { ...ctx, assigneeRole: (id) => (asked.push(id), null) },
    );
    expect(errors).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('names the index of the action', () => {
    const errors = errorsOf({ actions: [comment, comment, { type: 'SET_CUSTOM_FIELD', field: 'nope', value: '1' }] });
    expect(errors).toEqual([{ field: 'actions[2].field', message: 'unknown custom field "nope"' }]);
  });
});
