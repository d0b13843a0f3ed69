/**
 * Creates or edits a webhook: its request templates with the tag catalogue, a preview for
 * a chosen ticket rendered by the server as the definition is typed, and save errors next
 * to the fields the server names.
 */
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../gql';
import type { AuthType, BodyFormat, ConsoleWebhookQuery, HttpMethod, MappingTarget, WebhookInput } from '../gql/graphql';
import { DeliveryStatusBadge } from '../components/ui';
import { Field, InputField, SelectField, describedBy } from '../components/Field';
import { EditorForm, EditorHeader, RemoveRowButton, addRowProps, patchRow, useDefinitionEditor, withoutRow } from '../components/editor';
import { TagCatalogue, tagSnippet, type Tag } from '../components/TagCatalogue';

const WebhookQuery = graphql(`
  query ConsoleWebhook($id: ID!) {
    webhook(id: $id) {
      id
      name
      method
      url
      format
      body
      headers {
        name
        value
        secret
      }
      auth {
        type
        username
        secretSet
      }
      responseMappings {
        path
        target
        field
      }
      successComment
      enabled
    }
  }
`);

const EditorSupportQuery = graphql(`
  query ConsoleWebhookEditorSupport {
    templateTags {
      name
      description
      example
    }
    tickets(first: 50) {
      id
      title
    }
  }
`);

const CreateWebhook = graphql(`
  mutation ConsoleCreateWebhook($input: WebhookInput!) {
    createWebhook(input: $input) {
      id
    }
  }
`);

const UpdateWebhook = graphql(`
  mutation ConsoleUpdateWebhook($id: ID!, $input: WebhookInput!) {
    updateWebhook(id: $id, input: $input) {
      id
      auth {
        type
        username
        secretSet
      }
      headers {
        name
        value
        secret
      }
    }
  }
`);

const TestWebhook = graphql(`
  mutation ConsoleTestWebhook($id: ID!, $ticketId: ID!) {
    testWebhook(id: $id, ticketId: $ticketId) {
      id
      status
    }
  }
`);

/**
 * The preview of the definition as it stands in the form (previewWebhook's `input`: the
 * unsaved definition, rendered with the stored secrets of webhook `id` when given).
 */
const PREVIEW_QUERY = `
  query ConsolePreviewWebhook($id: ID, $ticketId: ID!, $input: WebhookInput) {
    ticket(id: $ticketId) { id title }
    previewWebhook(id: $id, ticketId: $ticketId, input: $input) { method url headers body }
  }
`;

/** The status of the test delivery, read again until it is final (TEST_POLL_MS apart, for at most TEST_FOLLOW_MS). */
const TEST_DELIVERY_QUERY = `
  query ConsoleTestDelivery($id: ID!) {
    delivery(id: $id) { id status }
  }
`;
const TEST_POLL_MS = 1000;
const TEST_FOLLOW_MS = 120_000;
const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** A ticket number as typed: digits only (the preview and Send test read that ticket). */
const TICKET_NUMBER = /^[1-9][0-9]*$/;

interface Preview {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: string | null;
}

interface HeaderRow {
  name: string;
  value: string;
  secret: boolean;
  /** a secret header whose value the server keeps (write-only) */
  stored: boolean;
}

interface MappingRow {
  path: string;
  target: MappingTarget;
  field: string;
}

interface Form {
  name: string;
  method: HttpMethod;
  url: string;
  format: BodyFormat;
  body: string;
  headers: HeaderRow[];
  authType: AuthType;
  username: string;
  secret: string;
  /** whether the server keeps a secret, and for which auth type: it is kept only while that type stays selected */
  secretSet: boolean;
  storedAuthType: AuthType;
  responseMappings: MappingRow[];
  successComment: string;
  enabled: boolean;
}

const EMPTY: Form = {
  name: '',
  method: 'POST',
  url: 'https://',
  format: 'JSON',
  body: '',
  headers: [],
  authType: 'NONE',
  username: '',
  secret: '',
  secretSet: false,
  storedAuthType: 'NONE',
  responseMappings: [],
  successComment: '',
  enabled: true,
};

const AUTH_TEXT: Record<AuthType, string> = { NONE: 'None', BASIC: 'Basic', BEARER: 'Bearer token' };
const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const FORMATS: BodyFormat[] = ['JSON', 'XML', 'FORM'];

/** Template fields: the tag catalogue inserts into the one focused last. */
type TemplateKey = 'url' | 'body' | 'successComment' | `headers.${number}`;
const TEMPLATE_LABELS: Record<string, string> = { url: 'URL', body: 'Body', successComment: 'Success comment' };
const templateLabel = (key: TemplateKey) => TEMPLATE_LABELS[key] ?? `Header ${Number(key.split('.')[1]) + 1} value`;

function toInput(f: Form): WebhookInput {
  return {
    name: f.name,
    method: f.method,
    url: f.url,
    format: f.format,
    body: f.body,
    headers: f.headers.map((h) => ({ name: h.name, value: h.value, secret: h.secret })),
    auth:
      f.authType === 'NONE'
        ? { type: 'NONE' }
        : { type: f.authType, username: f.authType === 'BASIC' ? f.username : null, ...(f.secret ? { secret: f.secret } : {}) },
    responseMappings: f.responseMappings.map((m) => ({ path: m.path, target: m.target, field: m.field })),
    successComment: f.successComment,
    enabled: f.enabled,
  };
}

/** The definition for the preview: without its secrets (a preview redacts them; they are sent only by Save). */
function previewInput(f: Form): WebhookInput {
  const input = toInput(f);
  return {
    ...input,
    headers: input.headers?.map((h) => (h.secret ? { ...h, value: '' } : h)),
    auth: input.auth ? { type: input.auth.type, username: input.auth.username } : input.auth,
  };
}

/** The stored definition as the form shows it (secrets stay write-only: never shown). */
function formOf(webhook: NonNullable<ConsoleWebhookQuery['webhook']>): Form {
  return {
    name: webhook.name,
    method: webhook.method,
    url: webhook.url,
    format: webhook.format,
    body: webhook.body,
    headers: webhook.headers.map((h) => ({ name: h.name, value: h.value, secret: h.secret, stored: h.secret })),
    authType: webhook.auth.type,
    username: webhook.auth.username ?? '',
    secret: '',
    secretSet: webhook.auth.secretSet,
    storedAuthType: webhook.auth.type,
    responseMappings: webhook.responseMappings.map((m) => ({ path: m.path, target: m.target, field: m.field })),
    successComment: webhook.successComment,
    enabled: webhook.enabled,
  };
}

const saveSummary = (n: number) => `The webhook was not saved: ${n} ${n === 1 ? 'field needs' : 'fields need'} attention.`;

export function WebhookEditor({ id }: { id: string | null }) {
  const client = useClient();
  const [stored] = useQuery({ query: WebhookQuery, variables: { id: id ?? '' }, pause: !id, requestPolicy: 'network-only' });
  const [support] = useQuery({ query: EditorSupportQuery });
  const [, create] = useMutation(CreateWebhook);
  const [, update] = useMutation(UpdateWebhook);
  const [, test] = useMutation(TestWebhook);

  const webhook = stored.data?.webhook;
  const editor = useDefinitionEditor({ noun: 'webhook', id, stored: webhook, empty: EMPTY, formOf, summary: saveSummary });
  const { form, setForm, set, loaded, fid, err, formError, setFormError, status, setStatus, saving } = editor;
  const [testDelivery, setTestDelivery] = useState<{ id: string; status: string } | null>(null);
  const [testing, setTesting] = useState(false);
  const testingRef = useRef(false);
  // the ticket the preview and Send test use, by its number: any ticket, the newest suggested
  const [ticketText, setTicketText] = useState('');
  const ticketTouched = useRef(false);
  const ticketId = TICKET_NUMBER.test(ticketText.trim()) ? ticketText.trim() : '';
  const [preview, setPreview] = useState<{ request?: Preview; ticket?: { id: string; title: string } | null; error?: string; loading: boolean }>({
    loading: false,
  });

  const lastTemplate = useRef<{ key: TemplateKey; el: HTMLInputElement | HTMLTextAreaElement } | null>(null);
  const [target, setTarget] = useState<TemplateKey>('body');
  const pendingCaret = useRef<{ el: HTMLInputElement | HTMLTextAreaElement; pos: number } | null>(null);

  const tickets = support.data?.tickets ?? [];
  useEffect(() => {
    if (!ticketTouched.current && !ticketText && tickets.length) setTicketText(tickets[0]!.id);
  }, [tickets, ticketText]);
  const ticketError =
    ticketText.trim() && !ticketId
      ? 'Enter a ticket number (digits only), for example 12.'
      : ticketId && preview.ticket === null && !preview.loading
        ? `There is no ticket ${ticketId}.`
        : undefined;

  // the test delivery's status as it changes: read again until it is final, for a bounded time
  const followedId = testDelivery?.id;
  useEffect(() => {
    if (!followedId) return;
    const until = Date.now() + TEST_FOLLOW_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = () => {
      timer = setTimeout(() => {
        void client
          .query<{ delivery: { id: string; status: string } | null }>(TEST_DELIVERY_QUERY, { id: followedId }, { requestPolicy: 'network-only' })
          .toPromise()
          .then((r) => {
            if (stopped) return;
            const status = r.data?.delivery?.status;
            if (status) setTestDelivery((d) => (d && d.id === followedId ? { ...d, status } : d));
            if (!(status && FINAL_STATUSES.has(status)) && Date.now() < until) poll();
          });
      }, TEST_POLL_MS);
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client, followedId]);

  // the preview follows the form, 300 ms after the last change; an older answer never replaces a newer one
  const previewSeq = useRef(0);
  useEffect(() => {
    if (!loaded || !ticketId) {
      previewSeq.current++;
      setPreview({ loading: false });
      return;
    }
    const seq = ++previewSeq.current;
    setPreview((p) => ({ ...p, loading: true }));
    const timer = setTimeout(() => {
      void client
        .query<{ ticket: { id: string; title: string } | null; previewWebhook: Preview | null }>(PREVIEW_QUERY, { id, ticketId, input: previewInput(form) }, { requestPolicy: 'network-only' })
        .toPromise()
        .then((r) => {
          if (seq !== previewSeq.current) return;
          const ticket = r.data ? r.data.ticket : undefined;
          if (ticket === null) setPreview({ ticket, loading: false });
          else if (r.data?.previewWebhook) setPreview({ request: r.data.previewWebhook, ticket, loading: false });
          else setPreview({ ticket, error: r.error?.graphQLErrors[0]?.message ?? r.error?.message ?? 'The preview failed.', loading: false });
        });
    }, 300);
    return () => clearTimeout(timer);
  }, [client, form, id, ticketId, loaded]);

  useLayoutEffect(() => {
    const caret = pendingCaret.current;
    if (!caret) return;
    pendingCaret.current = null;
    caret.el.focus();
    caret.el.setSelectionRange(caret.pos, caret.pos);
  });

  function templateProps(key: TemplateKey) {
    return {
      onFocus: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => {
        lastTemplate.current = { key, el: e.currentTarget };
        setTarget(key);
      },
    };
  }

  function templateValue(f: Form, key: TemplateKey): string {
    if (key.startsWith('headers.')) return f.headers[Number(key.split('.')[1])]?.value ?? '';
    return f[key as 'url' | 'body' | 'successComment'];
  }

  function withTemplate(f: Form, key: TemplateKey, value: string): Form {
    if (key.startsWith('headers.')) {
      const i = Number(key.split('.')[1]);
      return { ...f, headers: patchRow(f.headers, i, { value }) };
    }
    return { ...f, [key]: value };
  }

  function insertTag(tag: Tag) {
    const last = lastTemplate.current;
    const key = last?.key ?? 'body';
    const el = last?.el ?? (document.getElementById(fid('body')) as HTMLTextAreaElement | null);
    if (!el) return;
    const current = templateValue(form, key);
    const start = el.selectionStart ?? current.length;
    const end = el.selectionEnd ?? start;
    const snippet = tagSnippet(tag.name);
    setForm((f) => withTemplate(f, key, current.slice(0, start) + snippet + current.slice(end)));
    pendingCaret.current = { el, pos: start + snippet.length };
  }

  async function save(e: FormEvent) {
    const input = toInput(form);
    const saved = await editor.save(e, {
      create: () => create({ input }),
      createdId: (data) => data.createWebhook.id,
      update: (id) => update({ id, input }),
    });
    if (!saved) return;
    // the secrets are stored now: their fields empty again, "stored" where the server keeps one
    setForm((f) => ({
      ...f,
      secret: '',
      secretSet: saved.updateWebhook.auth.secretSet,
      storedAuthType: saved.updateWebhook.auth.type,
      headers: f.headers.map((h) => ({ ...h, value: h.secret ? '' : h.value, stored: h.secret })),
    }));
  }

  /** One test delivery per press: the button is disabled ("Sending…") until the server has answered. */
  async function sendTest() {
    if (!id || !ticketId || testingRef.current) return;
    testingRef.current = true;
    setTesting(true);
    setStatus(null);
    setFormError(null);
    setTestDelivery(null);
    const r = await test({ id, ticketId });
    testingRef.current = false;
    setTesting(false);
    if (r.error) {
      setFormError(`The test was not sent: ${r.error.graphQLErrors[0]?.message ?? r.error.message}`);
      return;
    }
    setTestDelivery(r.data!.testWebhook);
    setStatus('Test delivery queued.');
  }

  const unavailable = editor.unavailable(stored);
  if (unavailable) return unavailable;

  const secretLabel = form.authType === 'BASIC' ? 'Password' : 'Token';
  // a stored secret belongs to the stored auth type: after a switch a new one is needed
  const secretKept = form.secretSet && form.authType === form.storedAuthType;

  return (
    <>
      <EditorHeader noun="webhook" id={id} name={webhook?.name} error={stored.error ?? support.error} />
      <div className="editor-layout">
        <EditorForm noun="webhook" error={formError} onSubmit={save}>
          <InputField id={fid('name')} label="Name" error={err('name')} value={form.name} onChange={(e) => set('name', e.target.value)} required />
          <div className="row">
            <SelectField id={fid('method')} label="Method" error={err('method')} value={form.method} options={METHODS} onChange={(m) => set('method', m)} />
            <InputField
              id={fid('url')}
              label="URL"
              error={err('url')}
              grow
              {...templateProps('url')}
              value={form.url}
              onChange={(e) => set('url', e.target.value)}
              spellCheck={false}
              required
            />
          </div>
          <SelectField id={fid('format')} label="Format" error={err('format')} value={form.format} options={FORMATS} onChange={(f) => set('format', f)} />
          <Field id={fid('body')} label="Body" error={err('body')}>
            <textarea
              {...describedBy(fid('body'), err('body'))}
              {...templateProps('body')}
              rows={8}
              spellCheck={false}
              value={form.body}
              onChange={(e) => set('body', e.target.value)}
            />
          </Field>

          <fieldset>
            <legend>Headers</legend>
            {form.headers.length === 0 ? <p className="muted">No extra headers.</p> : null}
            {form.headers.map((h, i) => {
              const n = i + 1;
              const nameId = fid(`headers[${i}].name`);
              const valueId = fid(`headers[${i}].value`);
              const storedId = `${valueId}-stored`;
              const setHeader = (patch: Partial<HeaderRow>) => set('headers', patchRow(form.headers, i, patch));
              return (
                <div className="row header-row" key={i}>
                  <InputField
                    id={nameId}
                    label={`Header ${n} name`}
                    error={err(`headers[${i}].name`)}
                    value={h.name}
                    onChange={(e) => setHeader({ name: e.target.value })}
                    spellCheck={false}
                  />
                  <InputField
                    id={valueId}
                    label={`Header ${n} value`}
                    error={err(`headers[${i}].value`)}
                    grow
                    hint={
                      h.secret && h.stored ? (
                        <span id={storedId} className="hint">
                          stored — leave empty to keep it
                        </span>
                      ) : null
                    }
                    alsoDescribedBy={h.secret && h.stored && storedId}
                    {...(h.secret ? {} : templateProps(`headers.${i}`))}
                    type={h.secret ? 'password' : 'text'}
                    autoComplete="off"
                    value={h.value}
                    onChange={(e) => setHeader({ value: e.target.value })}
                    spellCheck={false}
                  />
                  <div className="field check">
                    <input
                      id={`${valueId}-secret`}
                      type="checkbox"
                      checked={h.secret}
                      onChange={(e) => setHeader({ secret: e.target.checked, stored: false })}
                    />
                    <label htmlFor={`${valueId}-secret`}>Header {n} is secret</label>
                  </div>
                  <RemoveRowButton label={`Remove header ${n}`} list="headers" onRemove={() => set('headers', withoutRow(form.headers, i))} />
                </div>
              );
            })}
            <button
              type="button"
              className="secondary"
              {...addRowProps('headers')}
              onClick={() => set('headers', [...form.headers, { name: '', value: '', secret: false, stored: false }])}
            >
              Add header
            </button>
          </fieldset>

          <fieldset>
            <legend>Authentication</legend>
            <Field id={fid('auth.type')} label="Auth type" error={err('auth.type')}>
              <select {...describedBy(fid('auth.type'), err('auth.type'))} value={form.authType} onChange={(e) => set('authType', e.target.value as AuthType)}>
                {(Object.keys(AUTH_TEXT) as AuthType[]).map((t) => (
                  <option key={t} value={t}>
                    {AUTH_TEXT[t]}
                  </option>
                ))}
              </select>
            </Field>
            {form.authType === 'BASIC' ? (
              <InputField
                id={fid('auth.username')}
                label="Username"
                error={err('auth.username')}
                value={form.username}
                onChange={(e) => set('username', e.target.value)}
                autoComplete="off"
              />
            ) : null}
            {form.authType !== 'NONE' ? (
              <InputField
                id={fid('auth.secret')}
                label={secretLabel}
                error={err('auth.secret')}
                hint={
                  secretKept ? (
                    <span id={`${fid('auth.secret')}-stored`} className="hint">
                      stored — write-only; leave empty to keep it
                    </span>
                  ) : form.secretSet ? (
                    <span id={`${fid('auth.secret')}-stored`} className="hint">
                      required: the stored secret belongs to {AUTH_TEXT[form.storedAuthType]} and is not kept for another auth type
                    </span>
                  ) : null
                }
                alsoDescribedBy={form.secretSet && `${fid('auth.secret')}-stored`}
                type="password"
                autoComplete="new-password"
                value={form.secret}
                onChange={(e) => set('secret', e.target.value)}
              />
            ) : null}
          </fieldset>

          <fieldset>
            <legend>Response mappings</legend>
            {form.responseMappings.length === 0 ? <p className="muted">No values taken from the response.</p> : null}
            {form.responseMappings.map((m, i) => {
              const n = i + 1;
              const setMapping = (patch: Partial<MappingRow>) => set('responseMappings', patchRow(form.responseMappings, i, patch));
              const pathId = fid(`responseMappings[${i}].path`);
              const targetId = fid(`responseMappings[${i}].target`);
              const fieldKey = fid(`responseMappings[${i}].field`);
              return (
                <div className="row" key={i}>
                  <InputField
                    id={pathId}
                    label={`Mapping ${n} response path`}
                    error={err(`responseMappings[${i}].path`)}
                    grow
                    value={m.path}
                    onChange={(e) => setMapping({ path: e.target.value })}
                    spellCheck={false}
                  />
                  <div className="field">
                    <label htmlFor={targetId}>Mapping {n} target</label>
                    <select
                      {...describedBy(targetId, err(`responseMappings[${i}].target`))}
                      value={m.target}
                      onChange={(e) => setMapping({ target: e.target.value as MappingTarget })}
                    >
                      <option value="CUSTOM_FIELD">Custom field</option>
                      <option value="TEMPORARY">Temporary field</option>
                    </select>
                  </div>
                  <InputField
                    id={fieldKey}
                    label={`Mapping ${n} field`}
                    error={err(`responseMappings[${i}].field`)}
                    value={m.field}
                    onChange={(e) => setMapping({ field: e.target.value })}
                    spellCheck={false}
                  />
                  <RemoveRowButton label={`Remove mapping ${n}`} list="responseMappings" onRemove={() => set('responseMappings', withoutRow(form.responseMappings, i))} />
                </div>
              );
            })}
            <button
              type="button"
              className="secondary"
              {...addRowProps('responseMappings')}
              onClick={() => set('responseMappings', [...form.responseMappings, { path: '', target: 'CUSTOM_FIELD', field: '' }])}
            >
              Add mapping
            </button>
          </fieldset>

          <Field
            id={fid('successComment')}
            label="Success comment"
            error={err('successComment')}
            hint={
              <span id={`${fid('successComment')}-hint`} className="hint">
                An internal comment written on the ticket after a successful delivery; empty for none.
              </span>
            }
          >
            <textarea
              {...describedBy(fid('successComment'), err('successComment'), `${fid('successComment')}-hint`)}
              {...templateProps('successComment')}
              rows={3}
              value={form.successComment}
              onChange={(e) => set('successComment', e.target.value)}
            />
          </Field>
          <div className="field check">
            <input id={fid('enabled')} type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} />
            <label htmlFor={fid('enabled')}>Enabled</label>
          </div>

          <div className="actions">
            <button type="submit" disabled={saving}>
              Save
            </button>
            <button
              type="button"
              className="secondary"
              onClick={sendTest}
              disabled={!id || !ticketId || testing}
              aria-describedby={id ? undefined : 'send-test-hint'}
            >
              {testing ? 'Sending…' : 'Send test'}
            </button>
            {id ? null : (
              <span id="send-test-hint" className="hint">
                Save the webhook first to send a test.
              </span>
            )}
          </div>
          <div role="status" className="status">
            {status}
            {testDelivery ? (
              <>
                {' '}
                <Link href={`/deliveries/${testDelivery.id}`}>Open the test delivery</Link> <DeliveryStatusBadge status={testDelivery.status} />
              </>
            ) : null}
          </div>
        </EditorForm>

        <div className="editor-side">
          <Field
            id="preview-ticket"
            label="Ticket"
            error={ticketError}
            hint={
              <span id="preview-ticket-hint" className="hint">
                {preview.ticket && preview.ticket.id === ticketId ? <bdi>{`#${preview.ticket.id} ${preview.ticket.title}`}</bdi> : 'The number of the ticket to preview and test with.'}
              </span>
            }
          >
            <input
              {...describedBy('preview-ticket', ticketError, 'preview-ticket-hint')}
              type="text"
              inputMode="numeric"
              autoComplete="off"
              list="preview-ticket-suggestions"
              value={ticketText}
              onChange={(e) => {
                ticketTouched.current = true;
                setTicketText(e.target.value);
              }}
            />
            <datalist id="preview-ticket-suggestions">
              {tickets.map((t) => (
                <option key={t.id} value={t.id}>
                  {`#${t.id} ${t.title}`}
                </option>
              ))}
            </datalist>
          </Field>
          <section className="preview" aria-labelledby="preview-heading" aria-busy={preview.loading}>
            <h2 id="preview-heading">Preview</h2>
            {!ticketId ? <p className="muted">{tickets.length ? 'Enter a ticket number to preview the request for it.' : 'Create a ticket to preview the request for it.'}</p> : null}
            {preview.error ? <p className="field-error">{preview.error}</p> : null}
            {preview.request && !preview.error ? (
              <pre className="request" data-testid="preview-request">
                {`${preview.request.method} ${preview.request.url}\n`}
                {Object.entries(preview.request.headers)
                  .map(([k, v]) => `${k}: ${String(v)}`)
                  .join('\n')}
                {preview.request.body ? `\n\n${preview.request.body}` : ''}
              </pre>
            ) : null}
          </section>
          <TagCatalogue tags={support.data?.templateTags ?? []} target={templateLabel(target)} onInsert={insertTag} />
        </div>
      </div>
    </>
  );
}
