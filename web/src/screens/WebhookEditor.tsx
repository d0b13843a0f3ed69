/**
 * Creates or edits a webhook: its request templates with the tag catalogue, a preview for
 * a chosen ticket rendered by the server as the definition is typed, and save errors next
 * to the fields the server names.
 */
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { Link, useLocation } from 'wouter';
import { graphql } from '../gql';
import type { AuthType, BodyFormat, HttpMethod, MappingTarget, WebhookInput } from '../gql/graphql';
import { fieldProblems, type GraphQLErrorShape } from '../client';
import { DeliveryStatusBadge, Loading, NotFound, PageHeader, QueryError } from '../components/ui';
import { FieldError, describedBy, fieldId } from '../components/Field';
import { TagCatalogue, tagSnippet, type Tag } from '../components/TagCatalogue';
import { takeFlash, setFlash } from '../flash';

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
    previewWebhook(id: $id, ticketId: $ticketId, input: $input) { method url headers body }
  }
`;

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
  secretSet: boolean;
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
  responseMappings: [],
  successComment: '',
  enabled: true,
};

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

const P = 'webhook';

export function WebhookEditor({ id }: { id: string | null }) {
  const [, navigate] = useLocation();
  const client = useClient();
  const [stored] = useQuery({ query: WebhookQuery, variables: { id: id ?? '' }, pause: !id, requestPolicy: 'network-only' });
  const [support] = useQuery({ query: EditorSupportQuery });
  const [, create] = useMutation(CreateWebhook);
  const [, update] = useMutation(UpdateWebhook);
  const [, test] = useMutation(TestWebhook);

  const [form, setForm] = useState<Form>(EMPTY);
  const [loaded, setLoaded] = useState(id === null);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [formError, setFormError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(() => takeFlash());
  const [testDelivery, setTestDelivery] = useState<{ id: string; status: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [ticketId, setTicketId] = useState('');
  const [preview, setPreview] = useState<{ request?: Preview; error?: string; loading: boolean }>({ loading: false });

  const lastTemplate = useRef<{ key: TemplateKey; el: HTMLInputElement | HTMLTextAreaElement } | null>(null);
  const [target, setTarget] = useState<TemplateKey>('body');
  const pendingCaret = useRef<{ el: HTMLInputElement | HTMLTextAreaElement; pos: number } | null>(null);

  // the stored definition fills the form once (secrets stay write-only: never shown)
  const webhook = stored.data?.webhook;
  useEffect(() => {
    if (!webhook || loaded) return;
    setForm({
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
      responseMappings: webhook.responseMappings.map((m) => ({ path: m.path, target: m.target, field: m.field })),
      successComment: webhook.successComment,
      enabled: webhook.enabled,
    });
    setLoaded(true);
  }, [webhook, loaded]);

  const tickets = support.data?.tickets ?? [];
  useEffect(() => {
    if (!ticketId && tickets.length) setTicketId(tickets[0]!.id);
  }, [tickets, ticketId]);

  // the preview follows the form, 300 ms after the last change; an older answer never replaces a newer one
  const previewSeq = useRef(0);
  useEffect(() => {
    if (!loaded || !ticketId) return;
    const seq = ++previewSeq.current;
    setPreview((p) => ({ ...p, loading: true }));
    const timer = setTimeout(() => {
      void client
        .query<{ previewWebhook: Preview }>(PREVIEW_QUERY, { id, ticketId, input: previewInput(form) }, { requestPolicy: 'network-only' })
        .toPromise()
        .then((r) => {
          if (seq !== previewSeq.current) return;
          if (r.data?.previewWebhook) setPreview({ request: r.data.previewWebhook, loading: false });
          else setPreview({ error: r.error?.graphQLErrors[0]?.message ?? r.error?.message ?? 'The preview failed.', loading: false });
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

  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));

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
      return { ...f, headers: f.headers.map((h, j) => (j === i ? { ...h, value } : h)) };
    }
    return { ...f, [key]: value };
  }

  function insertTag(tag: Tag) {
    const last = lastTemplate.current;
    const key = last?.key ?? 'body';
    const el = last?.el ?? (document.getElementById(fieldId(P, 'body')) as HTMLTextAreaElement | null);
    if (!el) return;
    const current = templateValue(form, key);
    const start = el.selectionStart ?? current.length;
    const end = el.selectionEnd ?? start;
    const snippet = tagSnippet(tag.name);
    setForm((f) => withTemplate(f, key, current.slice(0, start) + snippet + current.slice(end)));
    pendingCaret.current = { el, pos: start + snippet.length };
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setStatus(null);
    setFormError(null);
    const input = toInput(form);
    const result = id ? await update({ id, input }) : await create({ input });
    setSaving(false);
    if (result.error) {
      const problems = fieldProblems(result.error.graphQLErrors as readonly GraphQLErrorShape[]);
      setErrors(problems);
      const unplaced = [...problems.keys()].filter((f) => !document.getElementById(fieldId(P, f)));
      const general = result.error.graphQLErrors.length ? (problems.size ? null : result.error.graphQLErrors[0]!.message) : result.error.message;
      setFormError(
        [
          `The webhook was not saved: ${problems.size} ${problems.size === 1 ? 'field needs' : 'fields need'} attention.`,
          ...unplaced.map((f) => `${f}: ${problems.get(f)}`),
          general,
        ]
          .filter(Boolean)
          .join(' '),
      );
      // the first field named goes into focus, its message read with it
      const first = [...problems.keys()].map((f) => document.getElementById(fieldId(P, f))).find(Boolean);
      setTimeout(() => first?.focus(), 0);
      return;
    }
    setErrors(new Map());
    if (!id) {
      setFlash('Webhook created.');
      navigate(`/webhooks/${(result.data as { createWebhook: { id: string } }).createWebhook.id}`, { replace: true });
      return;
    }
    const saved = (result.data as { updateWebhook: { auth: { secretSet: boolean } } }).updateWebhook;
    setForm((f) => ({
      ...f,
      secret: '',
      secretSet: saved.auth.secretSet,
      headers: f.headers.map((h) => ({ ...h, value: h.secret ? '' : h.value, stored: h.secret })),
    }));
    setStatus('Webhook saved.');
  }

  async function sendTest() {
    if (!id || !ticketId) return;
    setStatus(null);
    const r = await test({ id, ticketId });
    if (r.error) {
      setFormError(`The test was not sent: ${r.error.graphQLErrors[0]?.message ?? r.error.message}`);
      return;
    }
    setTestDelivery(r.data!.testWebhook);
    setStatus('Test delivery queued.');
  }

  if (id && stored.fetching && !webhook) return <Loading what="the webhook" />;
  if (id && stored.data && !webhook) {
    return <NotFound kind="webhook" id={id} list="/webhooks" listName="webhooks" />;
  }

  const err = (field: string) => errors.get(field);
  const fid = (field: string) => fieldId(P, field);
  const secretLabel = form.authType === 'BASIC' ? 'Password' : 'Token';

  return (
    <>
      <PageHeader title={id ? `Webhook: ${webhook?.name ?? ''}` : 'New webhook'}>
        <Link href="/webhooks">All webhooks</Link>
      </PageHeader>
      <QueryError error={stored.error ?? support.error} />
      <div className="editor-layout">
        <form className="editor" onSubmit={save} noValidate aria-label="Webhook">
          <div role="alert" className="error">
            {formError}
          </div>
          <div className="field">
            <label htmlFor={fid('name')}>Name</label>
            <input {...describedBy(fid('name'), err('name'))} value={form.name} onChange={(e) => set('name', e.target.value)} required />
            <FieldError id={fid('name')} error={err('name')} />
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor={fid('method')}>Method</label>
              <select {...describedBy(fid('method'), err('method'))} value={form.method} onChange={(e) => set('method', e.target.value as HttpMethod)}>
                {METHODS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
              <FieldError id={fid('method')} error={err('method')} />
            </div>
            <div className="field grow">
              <label htmlFor={fid('url')}>URL</label>
              <input
                {...describedBy(fid('url'), err('url'))}
                {...templateProps('url')}
                value={form.url}
                onChange={(e) => set('url', e.target.value)}
                spellCheck={false}
                required
              />
              <FieldError id={fid('url')} error={err('url')} />
            </div>
          </div>
          <div className="field">
            <label htmlFor={fid('format')}>Format</label>
            <select {...describedBy(fid('format'), err('format'))} value={form.format} onChange={(e) => set('format', e.target.value as BodyFormat)}>
              {FORMATS.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
            <FieldError id={fid('format')} error={err('format')} />
          </div>
          <div className="field">
            <label htmlFor={fid('body')}>Body</label>
            <textarea
              {...describedBy(fid('body'), err('body'))}
              {...templateProps('body')}
              rows={8}
              spellCheck={false}
              value={form.body}
              onChange={(e) => set('body', e.target.value)}
            />
            <FieldError id={fid('body')} error={err('body')} />
          </div>

          <fieldset>
            <legend>Headers</legend>
            {form.headers.length === 0 ? <p className="muted">No extra headers.</p> : null}
            {form.headers.map((h, i) => {
              const n = i + 1;
              const nameId = fid(`headers[${i}].name`);
              const valueId = fid(`headers[${i}].value`);
              const storedId = `${valueId}-stored`;
              const setHeader = (patch: Partial<HeaderRow>) =>
                set(
                  'headers',
                  form.headers.map((x, j) => (j === i ? { ...x, ...patch } : x)),
                );
              return (
                <div className="row header-row" key={i}>
                  <div className="field">
                    <label htmlFor={nameId}>Header {n} name</label>
                    <input
                      {...describedBy(nameId, err(`headers[${i}].name`))}
                      value={h.name}
                      onChange={(e) => setHeader({ name: e.target.value })}
                      spellCheck={false}
                    />
                    <FieldError id={nameId} error={err(`headers[${i}].name`)} />
                  </div>
                  <div className="field grow">
                    <label htmlFor={valueId}>Header {n} value</label>
                    <input
                      {...describedBy(valueId, err(`headers[${i}].value`), h.secret && h.stored && storedId)}
                      {...(h.secret ? {} : templateProps(`headers.${i}`))}
                      type={h.secret ? 'password' : 'text'}
                      autoComplete="off"
                      value={h.value}
                      onChange={(e) => setHeader({ value: e.target.value })}
                      spellCheck={false}
                    />
                    {h.secret && h.stored ? (
                      <span id={storedId} className="hint">
                        stored — leave empty to keep it
                      </span>
                    ) : null}
                    <FieldError id={valueId} error={err(`headers[${i}].value`)} />
                  </div>
                  <div className="field check">
                    <input
                      id={`${valueId}-secret`}
                      type="checkbox"
                      checked={h.secret}
                      onChange={(e) => setHeader({ secret: e.target.checked, stored: false })}
                    />
                    <label htmlFor={`${valueId}-secret`}>Header {n} is secret</label>
                  </div>
                  <button
                    type="button"
                    className="secondary"
                    onClick={() =>
                      set(
                        'headers',
                        form.headers.filter((_, j) => j !== i),
                      )
                    }
                  >
                    Remove header {n}
                  </button>
                </div>
              );
            })}
            <button
              type="button"
              className="secondary"
              onClick={() => set('headers', [...form.headers, { name: '', value: '', secret: false, stored: false }])}
            >
              Add header
            </button>
          </fieldset>

          <fieldset>
            <legend>Authentication</legend>
            <div className="field">
              <label htmlFor={fid('auth.type')}>Auth type</label>
              <select {...describedBy(fid('auth.type'), err('auth.type'))} value={form.authType} onChange={(e) => set('authType', e.target.value as AuthType)}>
                <option value="NONE">None</option>
                <option value="BASIC">Basic</option>
                <option value="BEARER">Bearer token</option>
              </select>
              <FieldError id={fid('auth.type')} error={err('auth.type')} />
            </div>
            {form.authType === 'BASIC' ? (
              <div className="field">
                <label htmlFor={fid('auth.username')}>Username</label>
                <input
                  {...describedBy(fid('auth.username'), err('auth.username'))}
                  value={form.username}
                  onChange={(e) => set('username', e.target.value)}
                  autoComplete="off"
                />
                <FieldError id={fid('auth.username')} error={err('auth.username')} />
              </div>
            ) : null}
            {form.authType !== 'NONE' ? (
              <div className="field">
                <label htmlFor={fid('auth.secret')}>{secretLabel}</label>
                <input
                  {...describedBy(fid('auth.secret'), err('auth.secret'), form.secretSet && `${fid('auth.secret')}-stored`)}
                  type="password"
                  autoComplete="new-password"
                  value={form.secret}
                  onChange={(e) => set('secret', e.target.value)}
                />
                {form.secretSet ? (
                  <span id={`${fid('auth.secret')}-stored`} className="hint">
                    stored — write-only; leave empty to keep it
                  </span>
                ) : null}
                <FieldError id={fid('auth.secret')} error={err('auth.secret')} />
              </div>
            ) : null}
          </fieldset>

          <fieldset>
            <legend>Response mappings</legend>
            {form.responseMappings.length === 0 ? <p className="muted">No values taken from the response.</p> : null}
            {form.responseMappings.map((m, i) => {
              const n = i + 1;
              const setMapping = (patch: Partial<MappingRow>) =>
                set(
                  'responseMappings',
                  form.responseMappings.map((x, j) => (j === i ? { ...x, ...patch } : x)),
                );
              const pathId = fid(`responseMappings[${i}].path`);
              const targetId = fid(`responseMappings[${i}].target`);
              const fieldKey = fid(`responseMappings[${i}].field`);
              return (
                <div className="row" key={i}>
                  <div className="field grow">
                    <label htmlFor={pathId}>Mapping {n} response path</label>
                    <input
                      {...describedBy(pathId, err(`responseMappings[${i}].path`))}
                      value={m.path}
                      onChange={(e) => setMapping({ path: e.target.value })}
                      spellCheck={false}
                    />
                    <FieldError id={pathId} error={err(`responseMappings[${i}].path`)} />
                  </div>
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
                  <div className="field">
                    <label htmlFor={fieldKey}>Mapping {n} field</label>
                    <input
                      {...describedBy(fieldKey, err(`responseMappings[${i}].field`))}
                      value={m.field}
                      onChange={(e) => setMapping({ field: e.target.value })}
                      spellCheck={false}
                    />
                    <FieldError id={fieldKey} error={err(`responseMappings[${i}].field`)} />
                  </div>
                  <button
                    type="button"
                    className="secondary"
                    onClick={() =>
                      set(
                        'responseMappings',
                        form.responseMappings.filter((_, j) => j !== i),
                      )
                    }
                  >
                    Remove mapping {n}
                  </button>
                </div>
              );
            })}
            <button
              type="button"
              className="secondary"
              onClick={() => set('responseMappings', [...form.responseMappings, { path: '', target: 'CUSTOM_FIELD', field: '' }])}
            >
              Add mapping
            </button>
          </fieldset>

          <div className="field">
            <label htmlFor={fid('successComment')}>Success comment</label>
            <textarea
              {...describedBy(fid('successComment'), err('successComment'), `${fid('successComment')}-hint`)}
              {...templateProps('successComment')}
              rows={3}
              value={form.successComment}
              onChange={(e) => set('successComment', e.target.value)}
            />
            <span id={`${fid('successComment')}-hint`} className="hint">
              An internal comment written on the ticket after a successful delivery; empty for none.
            </span>
            <FieldError id={fid('successComment')} error={err('successComment')} />
          </div>
          <div className="field check">
            <input id={fid('enabled')} type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} />
            <label htmlFor={fid('enabled')}>Enabled</label>
          </div>

          <div className="actions">
            <button type="submit" disabled={saving}>
              Save
            </button>
            <button type="button" className="secondary" onClick={sendTest} disabled={!id || !ticketId} aria-describedby={id ? undefined : 'send-test-hint'}>
              Send test
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
        </form>

        <div className="editor-side">
          <TagCatalogue tags={support.data?.templateTags ?? []} target={templateLabel(target)} onInsert={insertTag} />
          <div className="field">
            <label htmlFor="preview-ticket">Ticket</label>
            <select id="preview-ticket" value={ticketId} onChange={(e) => setTicketId(e.target.value)}>
              {tickets.length === 0 ? <option value="">No tickets yet</option> : null}
              {tickets.map((t) => (
                <option key={t.id} value={t.id}>
                  #{t.id} {t.title}
                </option>
              ))}
            </select>
          </div>
          <section className="preview" aria-labelledby="preview-heading" aria-busy={preview.loading}>
            <h2 id="preview-heading">Preview</h2>
            {!ticketId ? <p className="muted">Create a ticket to preview the request for it.</p> : null}
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
        </div>
      </div>
    </>
  );
}
