/**
 * A new ticket (createTicket): title, description, priority, status, requester, assignee and
 * the custom fields. A refused create puts each problem next to the control of the field the
 * API names (extensions.field), focus on the first; a created ticket's page opens, saying so.
 * Staff only (the console refuses CLIENT keys at sign-in), so every field is offered.
 */
import { useRef, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { CreateTicketInput, TicketPriority, TicketStatus } from '../gql/graphql';
import { Field, FieldError, InputField, SelectField, describedBy, fieldId } from '../components/Field';
import { useLeaveGuard } from '../components/leave';
import { PageHeader, QueryError, useOneAtATime } from '../components/ui';
import { errorText, fieldProblems, type GraphQLErrorShape } from '../client';
import { setFlash } from '../flash';
import { TICKET_PRIORITIES, TICKET_STATUSES, YES_NO_VALUES, priorityText, statusText, yesNoText } from '../words';

const NewTicketSupportQuery = graphql(`
  query ConsoleNewTicketSupport {
    me {
      id
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
  }
`);

const CreateTicket = graphql(`
  mutation ConsoleCreateTicket($input: CreateTicketInput!) {
    createTicket(input: $input) {
      id
    }
  }
`);


interface TicketForm {
  title: string;
  description: string;
  priority: TicketPriority;
  status: TicketStatus;
  /** '' the signed-in user */
  requesterId: string;
  /** '' unassigned */
  assigneeId: string;
  /** by key, as typed or chosen; '' leaves the field unset */
  custom: Record<string, string>;
}

const EMPTY: TicketForm = { title: '', description: '', priority: 'NORMAL', status: 'OPEN', requesterId: '', assigneeId: '', custom: {} };

/** The fields in the order the form shows them: the first one named by a refused create takes the focus. */
const FIELD_ORDER = ['title', 'description', 'priority', 'status', 'requesterId', 'assigneeId'];

const LABELS: Readonly<Record<string, string>> = {
  title: 'Title',
  description: 'Description',
  priority: 'Priority',
  status: 'Status',
  requesterId: 'Requester',
  assigneeId: 'Assignee',
};

const fid = (field: string) => fieldId('new-ticket', field);

/**
 * A problem the API names a field for, as a sentence about the control it is shown at: "must not
 * be empty" at Title is "Title must not be empty."; a custom field's starts with its key and type,
 * which the control's label already says.
 */
function problemText(field: string, message: string): string {
  const text = message.replace(/^custom field "[^"]*" is [A-Z]+: /, '').replace(/\.?$/, '.');
  if (!/^[a-z]/.test(text)) return text;
  const label = LABELS[field];
  return label ? `${label} ${text}` : text.charAt(0).toUpperCase() + text.slice(1);
}

export function NewTicket() {
  const [, navigate] = useLocation();
  const [support] = useQuery({ query: NewTicketSupportQuery });
  const [, create] = useMutation(CreateTicket);
  const [form, setForm] = useState<TicketForm>(EMPTY);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [formError, setFormError] = useState<string | null>(null);
  const saving = useOneAtATime<'create'>();
  const created = useRef(false);
  const set = <K extends keyof TicketForm>(key: K, value: TicketForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const err = (field: string) => errors.get(field);
  const dirty = JSON.stringify(form) !== JSON.stringify(EMPTY) && !created.current;
  useLeaveGuard(dirty, 'Leave this page? The new ticket is not created.');

  const me = support.data?.me.id;
  const users = support.data?.users ?? [];
  const staff = users.filter((u) => u.role !== 'CLIENT');
  const customFields = support.data?.customFields ?? [];
  const userLabel = (u: { name: string; email?: string | null; role: string }) => `${u.name} (${u.email ?? u.role.toLowerCase()})`;

  function input(): CreateTicketInput {
    const custom = Object.fromEntries(Object.entries(form.custom).filter(([, v]) => v.trim() !== ''));
    return {
      title: form.title,
      description: form.description,
      priority: form.priority,
      status: form.status,
      requesterId: form.requesterId || null,
      assigneeId: form.assigneeId || null,
      customFields: Object.keys(custom).length ? custom : null,
    };
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!saving.start('create')) return;
    setFormError(null);
    let result;
    try {
      result = await create({ input: input() }, { additionalTypenames: ['Ticket'] });
    } finally {
      saving.done();
    }
    if (!result.error) {
      const id = result.data!.createTicket.id;
      created.current = true;
      setFlash(`Ticket #${id} created.`);
      navigate(`/tickets/${id}`);
      return;
    }
    const found = fieldProblems(result.error.graphQLErrors as readonly GraphQLErrorShape[]);
    const problems = new Map([...found].map(([field, message]) => [field, problemText(field, message)]));
    setErrors(problems);
    const order = [...FIELD_ORDER, ...customFields.map((f) => `customFields.${f.key}`)];
    const shown = order.filter((f) => problems.has(f));
    const others = [...problems.keys()].filter((f) => !order.includes(f)).map((f) => problems.get(f));
    const count = shown.length ? `The ticket was not created: ${shown.length} ${shown.length === 1 ? 'problem' : 'problems'}.` : 'The ticket was not created:';
    setFormError([count, ...others, problems.size ? null : errorText(result.error)].filter(Boolean).join(' '));
    // the first control named takes the focus, its message read with it; else the alert says it all
    setTimeout(() => (shown.length ? document.getElementById(fid(shown[0]!)) : document.getElementById(fid('alert')))?.focus(), 0);
  }

  return (
    <>
      <PageHeader title="New ticket">
        <Link href="/tickets">All tickets</Link>
      </PageHeader>
      <QueryError error={support.error} />
      <form className="editor" onSubmit={submit} noValidate aria-label="New ticket">
        <div role="alert" className="error" id={fid('alert')} tabIndex={-1}>
          {formError}
        </div>
        <InputField id={fid('title')} label="Title" error={err('title')} value={form.title} onChange={(e) => set('title', e.target.value)} required />
        <Field id={fid('description')} label="Description" error={err('description')}>
          <textarea {...describedBy(fid('description'), err('description'))} rows={5} value={form.description} onChange={(e) => set('description', e.target.value)} />
        </Field>
        <div className="row">
          <SelectField id={fid('priority')} label="Priority" error={err('priority')} value={form.priority} options={TICKET_PRIORITIES} optionText={priorityText} onChange={(p) => set('priority', p)} />
          <SelectField id={fid('status')} label="Status" error={err('status')} value={form.status} options={TICKET_STATUSES} optionText={statusText} onChange={(st) => set('status', st)} />
        </div>
        <div className="row">
          <Field id={fid('requesterId')} label="Requester" error={err('requesterId')}>
            <select {...describedBy(fid('requesterId'), err('requesterId'))} value={form.requesterId} onChange={(e) => set('requesterId', e.target.value)}>
              <option value="">Me</option>
              {users
                .filter((u) => u.id !== me)
                .map((u) => (
                  <option key={u.id} value={u.id}>
                    {userLabel(u)}
                  </option>
                ))}
            </select>
          </Field>
          <Field id={fid('assigneeId')} label="Assignee" error={err('assigneeId')}>
            <select {...describedBy(fid('assigneeId'), err('assigneeId'))} value={form.assigneeId} onChange={(e) => set('assigneeId', e.target.value)}>
              <option value="">Unassigned</option>
              {staff.map((u) => (
                <option key={u.id} value={u.id}>
                  {userLabel(u)}
                </option>
              ))}
            </select>
          </Field>
        </div>
        {customFields.length ? (
          <fieldset>
            <legend>Custom fields</legend>
            {customFields.map((f) => {
              const field = `customFields.${f.key}`;
              const id = fid(field);
              const value = form.custom[f.key] ?? '';
              const change = (v: string) => setForm((s) => ({ ...s, custom: { ...s.custom, [f.key]: v } }));
              const choices = f.type === 'SELECT' ? f.options : f.type === 'BOOLEAN' ? YES_NO_VALUES : null;
              return choices ? (
                <Field key={f.key} id={id} label={f.name || f.key} error={err(field)}>
                  <select {...describedBy(id, err(field))} value={value} onChange={(e) => change(e.target.value)}>
                    <option value="">Not set</option>
                    {choices.map((o) => (
                      <option key={o} value={o}>
                        {f.type === 'BOOLEAN' ? yesNoText(o) : o}
                      </option>
                    ))}
                  </select>
                </Field>
              ) : (
                <InputField
                  key={f.key}
                  id={id}
                  label={f.name || f.key}
                  error={err(field)}
                  type={f.type === 'DATE' ? 'date' : 'text'}
                  inputMode={f.type === 'NUMBER' ? 'decimal' : undefined}
                  value={value}
                  onChange={(e) => change(e.target.value)}
                />
              );
            })}
            <FieldError id={fid('customFields')} error={err('customFields')} />
          </fieldset>
        ) : null}
        <div className="actions">
          <button type="submit" aria-disabled={saving.busy !== null || undefined}>
            {saving.busy ? 'Creating…' : 'Create ticket'}
          </button>
        </div>
      </form>
    </>
  );
}
