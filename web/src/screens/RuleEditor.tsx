/**
 * Creates or edits a rule: events, match, conditions whose field, operator and value pickers
 * come from ruleFields, and actions (SEND_WEBHOOK with its webhook and "Await response").
 * A saved rule can be deleted (confirmed), after which the list opens, saying so.
 */
import type { FormEvent } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../gql';
import type { ActionType, ConditionOperator, MatchType, TicketEvent } from '../gql/graphql';
import { Field, FieldError, Hint, InputField, describedBy, hintId } from '../components/Field';
import { EditorForm, EditorHeader, RemoveRowButton, SaveButton, addRowProps, focusNewRow, patchRow, useDefinitionEditor } from '../components/editor';
import {
  ACTION_TEXT,
  DURATION_HINT,
  NO_VALUE_OPERATORS,
  OPERATOR_TEXT,
  conditionFieldText,
  formOf,
  ruleInput,
  ruleProblemText,
  type RuleActionRow,
  type RuleForm,
} from '../rules';
import { RulesQuery, SaveRule, eventText } from './Rules';
import { ConfirmAction, useLastRead } from '../components/ui';
import { TICKET_PRIORITIES, TICKET_STATUSES, YES_NO_VALUES, conditionValueText, priorityText, statusText, yesNoText } from '../words';

const RuleQuery = graphql(`
  query ConsoleRule($id: ID!) {
    rule(id: $id) {
      ...ConsoleRuleDefinition
    }
  }
`);

/** The stored rule read again before a save (an operation of its own: its answer, even "none", does not replace the screen's). */
const RuleNowQuery = graphql(`
  query ConsoleRuleNow($id: ID!) {
    rule(id: $id) {
      ...ConsoleRuleDefinition
    }
  }
`);

const RuleSupportQuery = graphql(`
  query ConsoleRuleEditorSupport {
    webhooks {
      id
      name
    }
    users {
      id
      name
      email
      role
    }
    customFields {
      key
      name
      type
      options
    }
    events: __type(name: "TicketEvent") {
      enumValues {
        name
      }
    }
  }
`);

const RuleFieldsQuery = graphql(`
  query ConsoleRuleFields {
    ruleFields {
      name
      type
      description
      operators
      options
    }
  }
`);

const CreateRule = graphql(`
  mutation ConsoleCreateRule($input: RuleInput!) {
    createRule(input: $input) {
      id
    }
  }
`);

const DeleteRule = graphql(`
  mutation ConsoleDeleteRule($id: ID!) {
    deleteRule(id: $id)
  }
`);

/**
 * What deleting a rule does (src/dispatcher/rules.ts, the foreign keys of rule_timers and
 * deliveries): its timers go with it; its deliveries stay, without the link to it; one still
 * being sent is sent, but a CONTINUATION no longer finds the rule, so the actions after an
 * awaited response do not run.
 */
const DELETE_RULE_DETAIL =
  'It stops running at once and its waiting timers are dropped. Deliveries it already made stay in the delivery log, no longer linked to a rule; a delivery still being sent is still sent, but the actions of this rule waiting for its response will not run.';

const ALL_OPERATORS: ConditionOperator[] = [
  'EQUALS',
  'NOT_EQUALS',
  'CONTAINS',
  'NOT_CONTAINS',
  'IS_EMPTY',
  'IS_NOT_EMPTY',
  'GREATER_THAN',
  'LESS_THAN',
  'CHANGED',
  'CHANGED_TO',
  'CHANGED_FROM',
];
const BASE_EVENTS: TicketEvent[] = ['TICKET_CREATED', 'TICKET_UPDATED', 'REPLY_ADDED', 'COMMENT_ADDED'];

const NEW_ACTION: RuleActionRow = { type: 'SEND_WEBHOOK', webhookId: '', field: '', value: '', awaitResponse: false };
const EMPTY: RuleForm = {
  name: '',
  description: '',
  enabled: true,
  position: 0,
  continueAfterMatch: false,
  events: [],
  match: 'ALL',
  conditions: [],
  actions: [NEW_ACTION],
};

/**
 * The option of a value the form holds that its list does not offer (the list still loading
 * or unread, an operator the chosen field does not take): the select shows the value the
 * form keeps and a save sends, not its placeholder or another choice.
 */
function KeptOption({ value, listed, label }: { value: string; listed: boolean; label: string }) {
  return value && !listed ? <option value={value}>{label}</option> : null;
}


const isCustom = (field: string) => field.startsWith('custom.');

/** What kind of value a custom field holds (its ruleFields type), in words. */
const CUSTOM_TYPE_TEXT: Readonly<Record<string, string>> = {
  TEXT: 'text',
  NUMBER: 'a number',
  DATE: 'a date',
  BOOLEAN: 'yes or no',
  SELECT: 'one of its options',
};

/**
 * The hint under a condition's Field: ruleFields' description as a sentence, the values it names
 * in the words the Value picker offers them ("Client or Staff"); a custom field's said by its kind of value.
 */
function fieldHint(info: { name: string; type: string; description: string }): string {
  if (isCustom(info.name)) return `A custom field of the ticket; it holds ${CUSTOM_TYPE_TEXT[info.type] ?? 'a value'}.`;
  const text = info.description.trim().replace(/\b[A-Z][A-Z_]+\b/g, (value) => conditionValueText(info.name, value)).replace(/\.?$/, '.');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const saveSummary = (n: number) => `The rule was not saved: ${n} ${n === 1 ? 'problem' : 'problems'}.`;

export function RuleEditor({ id }: { id: string | null }) {
  const [stored, readStored] = useQuery({ query: RuleQuery, variables: { id: id ?? '' }, pause: !id, requestPolicy: 'network-only' });
  const [support] = useQuery({ query: RuleSupportQuery });
  const [fields] = useQuery({ query: RuleFieldsQuery });
  const [all] = useQuery({ query: RulesQuery, pause: id !== null });
  const [, create] = useMutation(CreateRule);
  const [, update] = useMutation(SaveRule);
  const [, remove] = useMutation(DeleteRule);

  const rule = useLastRead(stored.data?.rule);
  const client = useClient();
  const ruleFields = fields.data?.ruleFields ?? null;
  const fieldInfo = (name: string) => ruleFields?.find((f) => f.name === name);
  const events = support.data?.events?.enumValues?.map((v) => v.name as TicketEvent) ?? BASE_EVENTS;
  const webhooks = support.data?.webhooks ?? [];
  // a new admin's first rule: the webhook picker has nothing to offer until a webhook is made
  const noWebhooks = support.data?.webhooks?.length === 0;
  const staff = (support.data?.users ?? []).filter((u) => u.role !== 'CLIENT');
  const customFields = support.data?.customFields ?? [];
  const editor = useDefinitionEditor({
    noun: 'rule',
    id,
    stored: rule,
    empty: EMPTY,
    formOf,
    summary: saveSummary,
    current: async (id) => (await client.query(RuleNowQuery, { id }, { requestPolicy: 'network-only' }).toPromise()).data?.rule,
    problemText: (field, message, form) =>
      ruleProblemText(field, message, {
        form,
        customFields,
        operatorsOf: (name) => fieldInfo(name)?.operators,
        optionsOf: (name) => fieldInfo(name)?.options,
      }),
  });
  const { form, setForm, set, fid, err, formError, status, saving } = editor;

  // Delete rule: the lists and the rule read before are stale after it (the answer, a Boolean, names no type)
  const deleteRule = () => editor.remove(() => remove({ id: id! }, { additionalTypenames: ['Rule'] }), rule?.name ?? form.name);


  const setCondition = (i: number, patch: Partial<RuleForm['conditions'][number]>) => setForm((f) => ({ ...f, conditions: patchRow(f.conditions, i, patch) }));
  /** A condition whose field or operator changes is another condition: the problems shown at it (its value's too) were of the one before. */
  const changeCondition = (i: number, patch: Partial<RuleForm['conditions'][number]>) => {
    editor.clearErrors(`conditions[${i}]`);
    setCondition(i, patch);
  };
  const setAction = (i: number, patch: Partial<RuleActionRow>) => setForm((f) => ({ ...f, actions: patchRow(f.actions, i, patch) }));

  function addCondition() {
    const first = ruleFields?.[0];
    setForm((f) => ({ ...f, conditions: [...f.conditions, { field: first?.name ?? '', operator: first?.operators[0] ?? 'EQUALS', value: '' }] }));
    const n = form.conditions.length;
    focusNewRow(fid(`conditions[${n}].field`));
  }

  function addAction() {
    setForm((f) => ({ ...f, actions: [...f.actions, NEW_ACTION] }));
    const n = form.actions.length;
    focusNewRow(fid(`actions[${n}].type`));
  }

  async function save(e: FormEvent) {
    // a new rule goes to the end of the order
    const position = id ? form.position : Math.max(0, ...(all.data?.rules ?? []).map((r) => r.position)) + 1;
    const input = ruleInput({ ...form, position });
    await editor.save(e, {
      create: () => create({ input }),
      createdId: (data) => data.createRule.id,
      update: (id) => update({ id, input }),
      saved: (data) => data.updateRule,
    });
  }

  const unavailable = editor.unavailable(stored, readStored);
  if (unavailable) return unavailable;

  return (
    <>
      <EditorHeader noun="rule" id={id} name={rule?.name} error={stored.error ?? support.error} />
      <EditorForm noun="rule" error={formError} onSubmit={save}>
        <InputField id={fid('name')} label="Name" error={err('name')} value={form.name} onChange={(e) => set('name', e.target.value)} />
        <Field id={fid('description')} label="Description" error={err('description')}>
          <textarea
            {...describedBy(fid('description'), err('description'))}
            rows={2}
            value={form.description}
            onChange={(e) => set('description', e.target.value)}
          />
        </Field>
        <div className="row">
          <div className="field check">
            <input id={fid('enabled')} type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} />
            <label htmlFor={fid('enabled')}>Enabled</label>
          </div>
          <div className="field check">
            <input
              id={fid('continueAfterMatch')}
              type="checkbox"
              checked={form.continueAfterMatch}
              onChange={(e) => set('continueAfterMatch', e.target.checked)}
            />
            <label htmlFor={fid('continueAfterMatch')}>Continue with the next rules after a match</label>
          </div>
        </div>

        <fieldset {...describedBy(fid('events'), err('events'))}>
          <legend>Events</legend>
          <div className="row">
            {events.map((ev) => (
              <div className="field check" key={ev}>
                <input
                  id={fid(`event-${ev}`)}
                  type="checkbox"
                  checked={form.events.includes(ev)}
                  onChange={(e) => set('events', e.target.checked ? [...form.events, ev] : form.events.filter((x) => x !== ev))}
                />
                <label htmlFor={fid(`event-${ev}`)}>{eventText(ev)}</label>
              </div>
            ))}
          </div>
          <FieldError id={fid('events')} error={err('events')} />
        </fieldset>

        {/* the problems of the conditions as a whole (a TIMER rule without a time condition) are the group's */}
        <fieldset {...describedBy(fid('conditions'), err('conditions'))}>
          <legend>Conditions</legend>
          <div className="field">
            <label htmlFor={fid('match')}>Match</label>
            <select {...describedBy(fid('match'), err('match'))} value={form.match} onChange={(e) => set('match', e.target.value as MatchType)}>
              <option value="ALL">All conditions</option>
              <option value="ANY">Any condition</option>
            </select>
          </div>
          {fields.error && form.conditions.length ? (
            <p className="hint" id={fid('fields-unavailable')}>
              This server does not list the condition fields: type a field name such as priority, status, requester.email or custom.&lt;key&gt;.
            </p>
          ) : null}
          {form.conditions.length === 0 ? <p className="muted">No conditions: the rule matches its events.</p> : null}
          {form.conditions.map((c, i) => {
            const info = fieldInfo(c.field);
            const operators = info?.operators ?? ALL_OPERATORS;
            const fId = fid(`conditions[${i}].field`);
            const oId = fid(`conditions[${i}].operator`);
            const vId = fid(`conditions[${i}].value`);
            const needsValue = !NO_VALUE_OPERATORS.includes(c.operator);
            // the values a condition on this field can meet, offered as a choice: its options, a yes-or-no field's Yes and No
            const choices: readonly string[] | null = info?.options.length ? info.options : info?.type === 'BOOLEAN' ? YES_NO_VALUES : null;
            const choiceText = (o: string) => (info?.type === 'BOOLEAN' ? yesNoText(o) : conditionValueText(c.field, o));
            return (
              <fieldset key={i} className="row condition">
                <legend>Condition {i + 1}</legend>
                <Field
                  id={fId}
                  label="Field"
                  error={err(`conditions[${i}].field`)}
                  hint={info ? <Hint of={fId}>{fieldHint(info)}</Hint> : null}
                >
                  {ruleFields ? (
                    <select
                      {...describedBy(fId, err(`conditions[${i}].field`), info && hintId(fId))}
                      value={c.field}
                      onChange={(e) => {
                        const next = fieldInfo(e.target.value);
                        changeCondition(i, {
                          field: e.target.value,
                          operator: next?.operators.includes(c.operator) ? c.operator : (next?.operators[0] ?? 'EQUALS'),
                          value: '',
                        });
                      }}
                    >
                      {ruleFields.some((f) => f.name === c.field) ? null : (
                        <option value={c.field}>{c.field ? conditionFieldText(c.field, customFields) : 'Choose a field'}</option>
                      )}
                      {ruleFields
                        .filter((f) => !isCustom(f.name))
                        .map((f) => (
                          <option key={f.name} value={f.name}>
                            {conditionFieldText(f.name, customFields)}
                          </option>
                        ))}
                      {ruleFields.some((f) => isCustom(f.name)) ? (
                        <optgroup label="Custom fields">
                          {ruleFields
                            .filter((f) => isCustom(f.name))
                            .map((f) => (
                              <option key={f.name} value={f.name}>
                                {conditionFieldText(f.name, customFields)}
                              </option>
                            ))}
                        </optgroup>
                      ) : null}
                    </select>
                  ) : (
                    <input
                      {...describedBy(fId, err(`conditions[${i}].field`))}
                      value={c.field}
                      onChange={(e) => changeCondition(i, { field: e.target.value })}
                      spellCheck={false}
                    />
                  )}
                </Field>
                <Field id={oId} label="Operator" error={err(`conditions[${i}].operator`)}>
                  <select
                    {...describedBy(oId, err(`conditions[${i}].operator`))}
                    value={c.operator}
                    onChange={(e) => changeCondition(i, { operator: e.target.value as ConditionOperator })}
                  >
                    <KeptOption value={c.operator} listed={operators.includes(c.operator)} label={OPERATOR_TEXT[c.operator]} />
                    {operators.map((o) => (
                      <option key={o} value={o}>
                        {OPERATOR_TEXT[o]}
                      </option>
                    ))}
                  </select>
                </Field>
                {needsValue ? (
                  <Field
                    id={vId}
                    label="Value"
                    error={err(`conditions[${i}].value`)}
                    grow
                    hint={info?.type === 'DURATION' ? <Hint of={vId}>{DURATION_HINT}</Hint> : null}
                  >
                    {choices ? (
                      <select {...describedBy(vId, err(`conditions[${i}].value`))} value={c.value} onChange={(e) => setCondition(i, { value: e.target.value })}>
                        <option value="">Choose a value</option>
                        <KeptOption value={c.value} listed={choices.includes(c.value)} label={`${c.value} (as stored)`} />
                        {choices.map((o) => (
                          <option key={o} value={o}>
                            {choiceText(o)}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <input
                        {...describedBy(vId, err(`conditions[${i}].value`), info?.type === 'DURATION' && hintId(vId))}
                        value={c.value}
                        onChange={(e) => setCondition(i, { value: e.target.value })}
                      />
                    )}
                  </Field>
                ) : null}
                <RemoveRowButton label={`Remove condition ${i + 1}`} list="conditions" onRemove={() => editor.removeRow('conditions', i)} />
              </fieldset>
            );
          })}
          <button type="button" className="secondary" {...addRowProps('conditions')} onClick={addCondition}>
            Add condition
          </button>
          <FieldError id={fid('conditions')} error={err('conditions')} />
        </fieldset>

        <fieldset {...describedBy(fid('actions'), err('actions'))}>
          <legend>Actions</legend>
          {form.actions.map((a, i) => {
            const tId = fid(`actions[${i}].type`);
            const wId = fid(`actions[${i}].webhookId`);
            const fId = fid(`actions[${i}].field`);
            const vId = fid(`actions[${i}].value`);
            const aId = fid(`actions[${i}].awaitResponse`);
            const valueField = (label: string, control: 'text' | 'textarea' | readonly string[], optionText: (o: string) => string = (o) => o) => (
              <Field id={vId} label={label} error={err(`actions[${i}].value`)} grow>
                {control === 'textarea' ? (
                  <textarea
                    {...describedBy(vId, err(`actions[${i}].value`))}
                    rows={2}
                    value={a.value}
                    onChange={(e) => setAction(i, { value: e.target.value })}
                  />
                ) : control === 'text' ? (
                  <input {...describedBy(vId, err(`actions[${i}].value`))} value={a.value} onChange={(e) => setAction(i, { value: e.target.value })} />
                ) : (
                  <select {...describedBy(vId, err(`actions[${i}].value`))} value={a.value} onChange={(e) => setAction(i, { value: e.target.value })}>
                    <option value="">Choose</option>
                    {control.map((o) => (
                      <option key={o} value={o}>
                        {optionText(o)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            );
            return (
              <fieldset key={i} className="row action">
                <legend>Action {i + 1}</legend>
                <Field id={tId} label="Action" error={err(`actions[${i}].type`)}>
                  <select
                    {...describedBy(tId, err(`actions[${i}].type`))}
                    value={a.type}
                    onChange={(e) => setAction(i, { ...NEW_ACTION, type: e.target.value as ActionType })}
                  >
                    {(Object.keys(ACTION_TEXT) as ActionType[]).map((t) => (
                      <option key={t} value={t}>
                        {ACTION_TEXT[t]}
                      </option>
                    ))}
                  </select>
                </Field>
                {a.type === 'SEND_WEBHOOK' ? (
                  <>
                    <Field
                      id={wId}
                      label="Webhook"
                      error={err(`actions[${i}].webhookId`)}
                      hint={
                        noWebhooks ? (
                          <Hint of={wId}>
                            No webhooks yet: <Link href="/webhooks/new">create a webhook</Link> first, then choose it here.
                          </Hint>
                        ) : null
                      }
                    >
                      <select
                        {...describedBy(wId, err(`actions[${i}].webhookId`), noWebhooks && hintId(wId))}
                        value={a.webhookId}
                        onChange={(e) => setAction(i, { webhookId: e.target.value })}
                      >
                        <option value="">Choose a webhook</option>
                        <KeptOption value={a.webhookId} listed={webhooks.some((w) => w.id === a.webhookId)} label={`Webhook ${a.webhookId} (as stored)`} />
                        {webhooks.map((w) => (
                          <option key={w.id} value={w.id}>
                            {w.name}
                          </option>
                        ))}
                      </select>
                    </Field>
                    <div className="field check">
                      <input
                        id={aId}
                        type="checkbox"
                        checked={a.awaitResponse}
                        onChange={(e) => setAction(i, { awaitResponse: e.target.checked })}
                        aria-describedby={hintId(aId)}
                      />
                      <label htmlFor={aId}>Await response</label>
                      <Hint of={aId}>The next actions run once this delivery has succeeded and can use its temporary fields.</Hint>
                    </div>
                  </>
                ) : null}
                {a.type === 'ADD_COMMENT' || a.type === 'ADD_REPLY' ? valueField('Text', 'textarea') : null}
                {a.type === 'SET_STATUS' ? valueField('Status', TICKET_STATUSES, statusText) : null}
                {a.type === 'SET_PRIORITY' ? valueField('Priority', TICKET_PRIORITIES, priorityText) : null}
                {a.type === 'SET_ASSIGNEE' ? (
                  <Field id={vId} label="Assignee" error={err(`actions[${i}].value`)} grow>
                    <select {...describedBy(vId, err(`actions[${i}].value`))} value={a.value} onChange={(e) => setAction(i, { value: e.target.value })}>
                      <option value="">Choose a staff member</option>
                      <KeptOption value={a.value} listed={staff.some((u) => u.id === a.value)} label={`User ${a.value} (as stored)`} />
                      {staff.map((u) => (
                        <option key={u.id} value={u.id}>
                          {u.name} ({u.email ?? u.role.toLowerCase()})
                        </option>
                      ))}
                    </select>
                  </Field>
                ) : null}
                {a.type === 'SET_CUSTOM_FIELD' ? (
                  <>
                    <Field id={fId} label="Custom field key" error={err(`actions[${i}].field`)}>
                      <select {...describedBy(fId, err(`actions[${i}].field`))} value={a.field} onChange={(e) => setAction(i, { field: e.target.value })}>
                        <option value="">Choose a custom field</option>
                        <KeptOption value={a.field} listed={customFields.some((f) => f.key === a.field)} label={`${a.field} (as stored)`} />
                        {customFields.map((f) => (
                          <option key={f.key} value={f.key}>
                            {f.name} ({f.key})
                          </option>
                        ))}
                      </select>
                    </Field>
                    {valueField('Value', 'text')}
                  </>
                ) : null}
                {form.actions.length > 1 ? (
                  <RemoveRowButton label={`Remove action ${i + 1}`} list="actions" onRemove={() => editor.removeRow('actions', i)} />
                ) : null}
              </fieldset>
            );
          })}
          <button type="button" className="secondary" {...addRowProps('actions')} onClick={addAction}>
            Add action
          </button>
          <FieldError id={fid('actions')} error={err('actions')} />
        </fieldset>

        <div className="actions">
          <SaveButton saving={saving} />
          {id ? <ConfirmAction label="Delete rule" question="Delete this rule?" detail={DELETE_RULE_DETAIL} busyLabel="Deleting…" onConfirm={deleteRule} /> : null}
        </div>
        {editor.removeProblem ? (
          <p role="alert" className="error">
            {editor.removeProblem}
          </p>
        ) : null}
        <div role="status" className="status">
          {status}
        </div>
      </EditorForm>
    </>
  );
}
