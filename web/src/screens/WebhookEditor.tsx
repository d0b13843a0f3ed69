/**
 * Creates or edits a webhook: its request templates with the tag catalogue, a preview for
 * a chosen ticket rendered by the server as the definition is typed, and save errors next
 * to the fields the server names.
 */
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { errorText } from '../client';
import { graphql } from '../gql';
import type {
  AuthType,
  BodyFormat,
  ConditionOperator,
  ConsoleWebhookQuery,
  DeliveryOrdering,
  HttpMethod,
  MappingTarget,
  SuccessFailureAction,
  WebhookInput,
} from '../gql/graphql';
import { ActionOutcome, ConfirmAction, DateTime, DeliveryStatusBadge, useFocusAfterRender, useLastRead, useOneAtATime } from '../components/ui';
import { Field, Hint, InputField, SelectField, describedBy, hintId } from '../components/Field';
import { EditorForm, EditorHeader, RemoveRowButton, SaveButton, addRowProps, focusNewRow, patchRow, useDefinitionEditor } from '../components/editor';
import { TagCatalogue, tagSnippet, type Tag } from '../components/TagCatalogue';
import { WebhookHealthPanel } from '../components/health';

/** The delivery policy and the state shown with it, as the editor reads it and a save answers it. */
graphql(`
  fragment ConsoleWebhookPolicy on Webhook {
    enabled
    signing {
      enabled
      secretSet
      previousSecretValidUntil
    }
    successRule {
      statuses
      path
      operator
      value
      onFailure
    }
    ordering
    maxConcurrency
    rateLimitPerSecond
    health {
      disabledReason
      disabledAt
    }
  }
`);

/** The stored definition as the editor reads it, and as a save answers it (what the next save checks against). */
graphql(`
  fragment ConsoleWebhookDefinition on Webhook {
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
    ...ConsoleWebhookPolicy
  }
`);

const WebhookQuery = graphql(`
  query ConsoleWebhook($id: ID!) {
    webhook(id: $id) {
      ...ConsoleWebhookDefinition
    }
  }
`);

/** The stored definition read again before a save (an operation of its own: its answer, even "none", does not replace the screen's). */
const WebhookNowQuery = graphql(`
  query ConsoleWebhookNow($id: ID!) {
    webhook(id: $id) {
      ...ConsoleWebhookDefinition
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
      ...ConsoleWebhookDefinition
    }
  }
`);

const WebhookEnabledQuery = graphql(`
  query ConsoleWebhookEnabled($id: ID!) {
    webhook(id: $id) {
      id
      enabled
    }
  }
`);

const RotateSigningSecret = graphql(`
  mutation ConsoleRotateSigningSecret($webhookId: ID!) {
    rotateSigningSecret(webhookId: $webhookId) {
      secret
      previousSecretValidUntil
    }
  }
`);

const EnableWebhook = graphql(`
  mutation ConsoleEnableWebhook($id: ID!) {
    enableWebhook(id: $id) {
      id
      enabled
      health {
        disabledReason
        disabledAt
      }
    }
  }
`);

const DeleteWebhook = graphql(`
  mutation ConsoleDeleteWebhook($id: ID!) {
    deleteWebhook(id: $id)
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
}

/**
 * The names (lower case) of the secret headers whose values the server keeps (write-only):
 * on a save, a secret header of such a name with an empty value keeps the stored one, as the
 * server matches them (by name, case aside); a header of that name that is no longer secret
 * does not.
 */
const secretNames = (headers: readonly { name: string; secret: boolean }[]) => headers.filter((h) => h.secret).map((h) => h.name.trim().toLowerCase());

/** What a header's value field says of the stored secret of its name, if the server keeps one. */
function storedSecretHint(h: HeaderRow, stored: readonly string[]): string | null {
  if (!stored.includes(h.name.trim().toLowerCase())) return null;
  if (h.secret) return 'stored — leave empty to keep it';
  return h.value === '' ? 'no longer secret: the stored value is not kept, and this empty value is sent; type the value, or tick "secret" again to keep the stored one' : null;
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
  /** secretNames of the headers as stored */
  storedSecretHeaders: string[];
  authType: AuthType;
  username: string;
  secret: string;
  /** whether the server keeps a secret, and for which auth type: it is kept only while that type stays selected */
  secretSet: boolean;
  storedAuthType: AuthType;
  responseMappings: MappingRow[];
  successComment: string;
  enabled: boolean;
  /** the delivery policy; the numbers as typed (checked before sending) */
  signing: boolean;
  statuses: string;
  successPath: string;
  successOperator: ConditionOperator | '';
  successValue: string;
  /** the check compares with empty text (""), which an empty Value does not say: that is no value at all */
  successValueEmpty: boolean;
  onFailure: SuccessFailureAction;
  ordering: DeliveryOrdering;
  maxConcurrency: string;
  rateLimit: string;
  /** stored state shown with the form, not sent: a signing secret exists; why the system switched the webhook off */
  signingSecretSet: boolean;
  /** `enabled` as last read from the server: a save that leaves the switch alone sends the server's value then, not this */
  storedEnabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
}

const EMPTY: Form = {
  name: '',
  method: 'POST',
  url: 'https://',
  format: 'JSON',
  body: '',
  headers: [],
  storedSecretHeaders: [],
  authType: 'NONE',
  username: '',
  secret: '',
  secretSet: false,
  storedAuthType: 'NONE',
  responseMappings: [],
  successComment: '',
  enabled: true,
  signing: false,
  statuses: '200-399',
  successPath: '',
  successOperator: '',
  successValue: '',
  successValueEmpty: false,
  onFailure: 'RETRY',
  ordering: 'NONE',
  maxConcurrency: '10',
  rateLimit: '',
  signingSecretSet: false,
  storedEnabled: true,
  disabledReason: null,
  disabledAt: null,
};

/** The operators a success rule's response check may use (the server's CHECK_OPERATORS), and whether each compares with a value. */
const CHECK_OPERATORS: readonly [ConditionOperator, string, boolean][] = [
  ['EQUALS', 'equals', true],
  ['NOT_EQUALS', 'does not equal', true],
  ['CONTAINS', 'contains', true],
  ['NOT_CONTAINS', 'does not contain', true],
  ['IS_EMPTY', 'is empty', false],
  ['IS_NOT_EMPTY', 'is not empty', false],
  ['GREATER_THAN', 'is greater than', true],
  ['LESS_THAN', 'is less than', true],
];
/** The check operator compares the response's value with a value given (EQUALS, CONTAINS, …; not IS_EMPTY). */
const comparesWithValue = (op: ConditionOperator | '') => CHECK_OPERATORS.find(([o]) => o === op)?.[2] === true;
/** The check operator compares text, so empty text ("") is a value it can compare with (GREATER_THAN and LESS_THAN need a number). */
const comparesText = (op: ConditionOperator | '') => comparesWithValue(op) && op !== 'GREATER_THAN' && op !== 'LESS_THAN';
/** The value a success rule's check compares with: "" when "Empty text" is ticked, none (null) for an empty Value, which the API refuses naming successRule.value. */
function checkValue(f: Pick<Form, 'successOperator' | 'successValue' | 'successValueEmpty'>): string | null {
  if (!comparesWithValue(f.successOperator)) return null;
  if (f.successValueEmpty && comparesText(f.successOperator)) return '';
  return f.successValue !== '' ? f.successValue : null;
}
const ORDERING_TEXT: Record<DeliveryOrdering, string> = { NONE: 'Independent', PER_TICKET: 'One at a time per ticket' };
const ON_FAILURE_TEXT: Record<SuccessFailureAction, string> = { RETRY: 'Retry', FAIL: 'Fail' };
const WHOLE = /^[0-9]+$/;
/** the API's bounds (src/domain/webhooks.ts: MAX_CONCURRENCY_RANGE, RATE_LIMIT_RANGE), checked before sending */
const MAX_CONCURRENCY = { min: 1, max: 1000 };
const RATE_LIMIT = { min: 0.01, max: 10_000 };
const DECIMAL = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/;

/** The policy fields as the form shows them, from the stored webhook (or a save's answer). */
type PolicySource = Pick<NonNullable<ConsoleWebhookQuery['webhook']>, 'signing' | 'successRule' | 'ordering' | 'maxConcurrency' | 'rateLimitPerSecond' | 'health'>;
function policyOf(w: PolicySource) {
  return {
    signing: w.signing.enabled,
    statuses: w.successRule.statuses,
    successPath: w.successRule.path ?? '',
    successOperator: w.successRule.operator ?? '',
    successValue: w.successRule.value ?? '',
    successValueEmpty: w.successRule.value === '',
    onFailure: w.successRule.onFailure,
    ordering: w.ordering,
    maxConcurrency: String(w.maxConcurrency),
    rateLimit: w.rateLimitPerSecond === null || w.rateLimitPerSecond === undefined ? '' : String(w.rateLimitPerSecond),
    signingSecretSet: w.signing.secretSet,
    disabledReason: w.health.disabledReason ?? null,
    disabledAt: w.health.disabledAt ?? null,
  } satisfies Partial<Form>;
}

/** What the API's types cannot carry, found before sending: the numbers typed. */
function policyProblems(f: Form): Map<string, string> {
  const problems = new Map<string, string>();
  const concurrency = f.maxConcurrency.trim();
  // a number beyond GraphQL's Int (or a float's range) could not even be sent as typed
  if (!WHOLE.test(concurrency) || Number(concurrency) < MAX_CONCURRENCY.min || Number(concurrency) > MAX_CONCURRENCY.max) {
    problems.set('maxConcurrency', `must be a whole number from ${MAX_CONCURRENCY.min} to ${MAX_CONCURRENCY.max}`);
  }
  const rate = f.rateLimit.trim();
  if (rate && (!DECIMAL.test(rate) || Number(rate) < RATE_LIMIT.min || Number(rate) > RATE_LIMIT.max)) {
    problems.set('rateLimitPerSecond', `must be from ${RATE_LIMIT.min} to ${RATE_LIMIT.max.toLocaleString('en')} attempts per second (empty: no limit)`);
  }
  return problems;
}

const AUTH_TEXT: Record<AuthType, string> = { NONE: 'None', BASIC: 'Basic', BEARER: 'Bearer token' };
const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const FORMATS: BodyFormat[] = ['JSON', 'XML', 'FORM'];
/** A body format as users know it; the API's value (FORM) is what is sent. */
const FORMAT_TEXT: Record<BodyFormat, string> = { JSON: 'JSON', XML: 'XML', FORM: 'Form (x-www-form-urlencoded)' };

/** Template fields: the tag catalogue inserts into the one focused last. */
type TemplateKey = 'url' | 'body' | 'successComment' | `headers.${number}`;
const TEMPLATE_LABELS: Record<string, string> = { url: 'URL', body: 'Body', successComment: 'Success comment' };
const templateLabel = (key: TemplateKey) => TEMPLATE_LABELS[key] ?? `Header ${Number(key.split('.')[1]) + 1} value`;

/** What of the form a save writes: its input, "Enabled" only as a change from the stored state (Enable webhook stores it at once). */
const unsavedOf = (f: Form) => ({ ...toInput(f), enabled: f.enabled !== f.storedEnabled });

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
    signing: f.signing,
    successRule: {
      statuses: f.statuses,
      path: f.successPath.trim() ? f.successPath : null,
      operator: f.successOperator || null,
      value: checkValue(f),
      onFailure: f.onFailure,
    },
    ordering: f.ordering,
    // checked by policyProblems before a save; the preview sends what parses
    maxConcurrency: WHOLE.test(f.maxConcurrency.trim()) ? Number(f.maxConcurrency.trim()) : null,
    rateLimitPerSecond: f.rateLimit.trim() && DECIMAL.test(f.rateLimit.trim()) ? Number(f.rateLimit.trim()) : null,
  };
}

/** The definition for the preview: without its secrets (a preview redacts them; they are sent only by Save). */
function previewInput(f: Form): WebhookInput {
  // the delivery policy does not change the request: left out (a half-typed one is no preview error)
  const { signing: _signing, successRule: _rule, ordering: _ordering, maxConcurrency: _mc, rateLimitPerSecond: _rate, ...input } = toInput(f);
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
    headers: webhook.headers.map((h) => ({ name: h.name, value: h.value, secret: h.secret })),
    storedSecretHeaders: secretNames(webhook.headers),
    authType: webhook.auth.type,
    username: webhook.auth.username ?? '',
    secret: '',
    secretSet: webhook.auth.secretSet,
    storedAuthType: webhook.auth.type,
    responseMappings: webhook.responseMappings.map((m) => ({ path: m.path, target: m.target, field: m.field })),
    successComment: webhook.successComment,
    enabled: webhook.enabled,
    storedEnabled: webhook.enabled,
    ...policyOf(webhook),
  };
}

const fieldsNeedAttention = (n: number) => `${n} ${n === 1 ? 'field needs' : 'fields need'} attention.`;
const saveSummary = (n: number) => `The webhook was not saved: ${fieldsNeedAttention(n)}`;
/** Send test's arguments that the server may name in a refusal, by the element that takes them: the ticket picker beside the form. */
const TEST_FIELDS = { ticketId: 'preview-ticket' };

export function WebhookEditor({ id }: { id: string | null }) {
  const client = useClient();
  const [stored, readStored] = useQuery({ query: WebhookQuery, variables: { id: id ?? '' }, pause: !id, requestPolicy: 'network-only' });
  const [support] = useQuery({ query: EditorSupportQuery });
  const [, create] = useMutation(CreateWebhook);
  const [, update] = useMutation(UpdateWebhook);
  const [, test] = useMutation(TestWebhook);
  const [, rotate] = useMutation(RotateSigningSecret);
  const [, enable] = useMutation(EnableWebhook);
  const [, remove] = useMutation(DeleteWebhook);

  const webhook = useLastRead(stored.data?.webhook);
  const editor = useDefinitionEditor({
    noun: 'webhook',
    id,
    stored: webhook,
    empty: EMPTY,
    formOf,
    summary: saveSummary,
    elementIds: TEST_FIELDS,
    unsavedOf,
    current: async (id) => (await client.query(WebhookNowQuery, { id }, { requestPolicy: 'network-only' }).toPromise()).data?.webhook,
  });
  const { form, setForm, set, loaded, fid, err, formError, setFormError, status, setStatus, saving } = editor;
  const valueIsEmptyText = form.successValueEmpty && comparesText(form.successOperator);
  const [testDelivery, setTestDelivery] = useState<{ id: string; status: string } | null>(null);
  const testing = useOneAtATime<'test'>();
  // the ticket the preview and Send test use, by its number: any ticket, the newest suggested
  const [ticketText, setTicketText] = useState('');
  const ticketTouched = useRef(false);
  const ticketId = TICKET_NUMBER.test(ticketText.trim()) ? ticketText.trim() : '';
  const [preview, setPreview] = useState<{ request?: Preview; ticket?: { id: string; title: string } | null; error?: string; loading: boolean }>({
    loading: false,
  });

  // the signing secret of a rotation on this page: shown this once, gone with the page
  const [newSecret, setNewSecret] = useState<{ secret: string; previousSecretValidUntil: string | null } | null>(null);
  const [signingStatus, setSigningStatus] = useState<string | null>(null);
  const [signingProblem, setSigningProblem] = useState<string | null>(null);
  const secretField = useRef<HTMLInputElement>(null);
  const focusAfterRender = useFocusAfterRender();
  const enabling = useOneAtATime<'enable'>();
  // the health panel reads again after what may change it (a test sent, the webhook enabled)
  const [healthVersion, setHealthVersion] = useState(0);

  const lastTemplate = useRef<{ key: TemplateKey; el: HTMLInputElement | HTMLTextAreaElement } | null>(null);
  const [target, setTarget] = useState<TemplateKey>('body');
  const pendingCaret = useRef<{ el: HTMLInputElement | HTMLTextAreaElement; pos: number } | null>(null);

  const tickets = support.data?.tickets ?? [];
  useEffect(() => {
    if (!ticketTouched.current && !ticketText && tickets.length) setTicketText(tickets[0]!.id);
  }, [tickets, ticketText]);
  // Send test's refusal naming the ticket (cleared when another number is typed)
  const ticketError =
    ticketText.trim() && !ticketId
      ? 'Enter a ticket number (digits only), for example 12.'
      : (err('ticketId') ??
        (ticketId && preview.ticket === null && !preview.loading ? `There is no ticket ${ticketId}.` : undefined));

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
          else setPreview({ ticket, error: r.error?.graphQLErrors[0]?.message ?? (r.error ? `The preview failed: ${errorText(r.error)}` : 'The preview failed.'), loading: false });
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

  /**
   * Whether the template field `key` is on the form now: a header's value is while its row is
   * there and not secret (a removed row's field is gone; a secret value takes no tags). A tag
   * for a field that is not goes into Body.
   */
  function templateShown(key: TemplateKey): boolean {
    if (!key.startsWith('headers.')) return true;
    const h = form.headers[Number(key.split('.')[1])];
    return h !== undefined && !h.secret;
  }

  function insertTag(tag: Tag) {
    const last = lastTemplate.current && templateShown(lastTemplate.current.key) && lastTemplate.current.el.isConnected ? lastTemplate.current : null;
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

  /**
   * Whether the webhook is enabled now, as the server has it (read here when the save's check
   * could not read the webhook): the system may have switched it off (410 Gone, a breaker open
   * for a whole retry window) since the form was read, and a save that did not touch the switch
   * must not switch it back on.
   */
  async function enabledNow(id: string): Promise<boolean> {
    const r = await client.query(WebhookEnabledQuery, { id }, { requestPolicy: 'network-only' }).toPromise();
    return r.data?.webhook?.enabled ?? form.enabled;
  }

  async function save(e: FormEvent) {
    const input = toInput(form);
    const saved = await editor.save(e, {
      create: () => create({ input }),
      createdId: (data) => data.createWebhook.id,
      update: async (id, now) => update({ id, input: { ...input, enabled: form.enabled === form.storedEnabled ? (now?.enabled ?? (await enabledNow(id))) : form.enabled } }),
      saved: (data) => data.updateWebhook,
      check: () => policyProblems(form),
    });
    if (!saved) return;
    // the secrets are stored now: their fields empty again, "stored" where the server keeps one;
    // the policy as stored (an empty status list is the default's)
    setForm((f) => ({
      ...f,
      ...policyOf(saved.updateWebhook),
      enabled: saved.updateWebhook.enabled,
      storedEnabled: saved.updateWebhook.enabled,
      secret: '',
      secretSet: saved.updateWebhook.auth.secretSet,
      storedAuthType: saved.updateWebhook.auth.type,
      headers: f.headers.map((h) => ({ ...h, value: h.secret ? '' : h.value })),
      storedSecretHeaders: secretNames(saved.updateWebhook.headers),
    }));
  }

  // why Send test cannot run: the API sends nothing for a webhook not saved yet, nor for one stored disabled
  const testBlocked = !id
    ? 'Save the webhook first to send a test.'
    : form.storedEnabled
      ? null
      : form.disabledReason
        ? 'deskhooks switched the webhook off, and a disabled webhook sends nothing: Enable webhook (above) to send a test.'
        : 'The webhook is disabled, and a disabled webhook sends nothing: enable it and save to send a test.';
  // why Send test is off, said beside it: the webhook (above), else no ticket to send it with (once the tickets are read)
  const testHint =
    testBlocked ??
    (ticketId || !support.data ? null : tickets.length ? 'Enter a ticket number under Ticket to send a test with that ticket.' : 'Create a ticket to send a test with it.');

  /**
   * One test delivery per press: the button is busy ("Sending…", aria-disabled: it keeps the
   * focus) until the server has answered, and says so in the status region; a refusal naming a
   * field (the ticket) is shown and focused there, as a refused save's.
   */
  async function sendTest() {
    if (!id || testBlocked || !ticketId || !testing.start('test')) return;
    setStatus(null);
    setFormError(null);
    setTestDelivery(null);
    const r = await test({ id, ticketId });
    testing.done();
    if (r.error) {
      editor.refused(r.error, { lead: 'The test was not sent:', count: fieldsNeedAttention });
      return;
    }
    setTestDelivery(r.data!.testWebhook);
    setStatus('Test delivery queued.');
    setHealthVersion((v) => v + 1);
  }

  /** Rotate signing secret, confirmed: the new secret shown once, in focus to be copied. */
  async function rotateSecret(): Promise<'trigger' | 'done'> {
    if (!id) return 'trigger';
    setSigningProblem(null);
    setSigningStatus(null);
    const r = await rotate({ webhookId: id });
    if (r.error) {
      setSigningProblem(`The secret was not rotated: ${errorText(r.error)}`);
      return 'trigger';
    }
    setNewSecret(r.data!.rotateSigningSecret);
    setForm((f) => ({ ...f, signingSecretSet: true }));
    setSigningStatus('A new signing secret was created. Copy it now: it will not be shown again.');
    focusAfterRender(() => secretField.current, { select: true });
    return 'done';
  }

  async function copySecret() {
    if (!newSecret) return;
    try {
      await navigator.clipboard.writeText(newSecret.secret);
      setSigningStatus('The signing secret was copied.');
    } catch {
      // no clipboard access: the secret is selected, for the keyboard's copy
      secretField.current?.focus();
      secretField.current?.select();
      setSigningStatus('The secret could not be copied: it is selected, copy it with the keyboard.');
    }
  }

  /** Enable webhook: switched back on, its breaker closed; focus goes to "Enabled", now checked. */
  async function enableHook() {
    if (!id || !enabling.start('enable')) return;
    setFormError(null);
    setStatus(null);
    const r = await enable({ id });
    enabling.done();
    if (r.error) {
      setFormError(`The webhook was not enabled: ${errorText(r.error)}`);
      return;
    }
    const w = r.data!.enableWebhook;
    setForm((f) => ({ ...f, enabled: w.enabled, storedEnabled: w.enabled, disabledReason: w.health.disabledReason ?? null, disabledAt: w.health.disabledAt ?? null }));
    setStatus('Webhook enabled: it gets deliveries again.');
    setHealthVersion((v) => v + 1);
    focusAfterRender(() => document.getElementById(fid('enabled')));
  }

  /** Delete webhook, confirmed; a refusal (rules send it) names the rules. */
  const deleteHook = () => editor.remove(() => remove({ id: id! }, { additionalTypenames: ['Webhook'] }), webhook?.name ?? form.name);

  const unavailable = editor.unavailable(stored, readStored);
  if (unavailable) return unavailable;

  const secretLabel = form.authType === 'BASIC' ? 'Password' : 'Token';
  // a stored secret belongs to the stored auth type: after a switch a new one is needed
  const secretKept = form.secretSet && form.authType === form.storedAuthType;

  return (
    <>
      <EditorHeader noun="webhook" id={id} name={webhook?.name} error={stored.error ?? support.error} />
      {id ? <WebhookHealthPanel id={id} version={healthVersion} /> : null}
      <div className="editor-layout">
        <EditorForm noun="webhook" error={formError} onSubmit={save}>
          {form.disabledReason ? (
            <div className="switched-off">
              <p id="webhook-switched-off">
                <strong>Switched off by deskhooks</strong>
                {form.disabledAt ? (
                  <>
                    {' '}
                    on <DateTime value={form.disabledAt} />
                  </>
                ) : null}
                : <bdi>{form.disabledReason}</bdi>. It gets no deliveries until it is enabled.
              </p>
              <button type="button" onClick={enableHook} aria-describedby="webhook-switched-off" aria-disabled={enabling.busy !== null || undefined}>
                {enabling.busy ? 'Enabling…' : 'Enable webhook'}
              </button>
            </div>
          ) : null}
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
          <SelectField id={fid('format')} label="Format" error={err('format')} value={form.format} options={FORMATS} optionText={(f) => FORMAT_TEXT[f]} onChange={(f) => set('format', f)} />
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
                    hint={storedSecretHint(h, form.storedSecretHeaders)}
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
                      onChange={(e) => setHeader({ secret: e.target.checked })}
                    />
                    <label htmlFor={`${valueId}-secret`}>Header {n} is secret</label>
                  </div>
                  <RemoveRowButton label={`Remove header ${n}`} list="headers" onRemove={() => editor.removeRow('headers', i)} />
                </div>
              );
            })}
            <button
              type="button"
              className="secondary"
              {...addRowProps('headers')}
              onClick={() => {
                set('headers', [...form.headers, { name: '', value: '', secret: false }]);
                focusNewRow(fid(`headers[${form.headers.length}].name`));
              }}
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
                  secretKept
                    ? 'stored — write-only; leave empty to keep it'
                    : form.secretSet
                      ? `required: the stored secret belongs to ${AUTH_TEXT[form.storedAuthType]} and is not kept for another auth type`
                      : null
                }
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
                  <RemoveRowButton label={`Remove mapping ${n}`} list="responseMappings" onRemove={() => editor.removeRow('responseMappings', i)} />
                </div>
              );
            })}
            <button
              type="button"
              className="secondary"
              {...addRowProps('responseMappings')}
              onClick={() => {
                set('responseMappings', [...form.responseMappings, { path: '', target: 'CUSTOM_FIELD', field: '' }]);
                focusNewRow(fid(`responseMappings[${form.responseMappings.length}].path`));
              }}
            >
              Add mapping
            </button>
          </fieldset>

          <fieldset>
            <legend>Delivery policy</legend>
            <div className="row">
              <InputField
                id={fid('maxConcurrency')}
                label="Max concurrency"
                error={err('maxConcurrency')}
                hint="Attempts in flight at once, 1–1000 (default 10)."
                type="text"
                inputMode="numeric"
                autoComplete="off"
                value={form.maxConcurrency}
                onChange={(e) => set('maxConcurrency', e.target.value)}
              />
              <InputField
                id={fid('rateLimitPerSecond')}
                label="Rate limit per second"
                error={err('rateLimitPerSecond')}
                hint="Attempts started per second at most; empty for no limit."
                type="text"
                inputMode="decimal"
                autoComplete="off"
                value={form.rateLimit}
                onChange={(e) => set('rateLimit', e.target.value)}
              />
              <Field id={fid('ordering')} label="Ordering" error={err('ordering')}>
                <select {...describedBy(fid('ordering'), err('ordering'))} value={form.ordering} onChange={(e) => set('ordering', e.target.value as DeliveryOrdering)}>
                  {(Object.keys(ORDERING_TEXT) as DeliveryOrdering[]).map((o) => (
                    <option key={o} value={o}>
                      {ORDERING_TEXT[o]}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
            <fieldset>
              <legend>Success rule</legend>
              <InputField
                id={fid('successRule.statuses')}
                label="Success statuses"
                error={err('successRule.statuses')}
                hint="Status codes and ranges, comma-separated, e.g. 200-299,304."
                autoComplete="off"
                spellCheck={false}
                value={form.statuses}
                onChange={(e) => set('statuses', e.target.value)}
              />
              <div className="row">
                <InputField
                  id={fid('successRule.path')}
                  label="Response path"
                  error={err('successRule.path')}
                  grow
                  hint="Optional: a value of the response to check, e.g. data.status."
                  autoComplete="off"
                  spellCheck={false}
                  value={form.successPath}
                  onChange={(e) => set('successPath', e.target.value)}
                />
                <Field id={fid('successRule.operator')} label="Operator" error={err('successRule.operator')}>
                  <select
                    {...describedBy(fid('successRule.operator'), err('successRule.operator'))}
                    value={form.successOperator}
                    onChange={(e) => set('successOperator', e.target.value as ConditionOperator | '')}
                  >
                    <option value="">No check</option>
                    {CHECK_OPERATORS.map(([op, text]) => (
                      <option key={op} value={op}>
                        {text}
                      </option>
                    ))}
                  </select>
                </Field>
                {comparesWithValue(form.successOperator) ? (
                  <InputField
                    id={fid('successRule.value')}
                    label="Value"
                    error={err('successRule.value')}
                    autoComplete="off"
                    // empty text ticked: the value is "", not what the field held before (kept for when it is unticked)
                    disabled={valueIsEmptyText}
                    value={valueIsEmptyText ? '' : form.successValue}
                    onChange={(e) => set('successValue', e.target.value)}
                  />
                ) : null}
              </div>
              {comparesText(form.successOperator) ? (
                <div className="field check">
                  <input
                    id={fid('successRule.valueEmpty')}
                    type="checkbox"
                    checked={form.successValueEmpty}
                    onChange={(e) => set('successValueEmpty', e.target.checked)}
                    aria-describedby={hintId(fid('successRule.valueEmpty'))}
                  />
                  <label htmlFor={fid('successRule.valueEmpty')}>Empty text (“”)</label>
                  <Hint of={fid('successRule.valueEmpty')}>
                    Compares with "", the value at the path being empty text. Unticked, an empty Value is no value at all, which a save refuses.
                  </Hint>
                </div>
              ) : null}
              <Field id={fid('successRule.onFailure')} label="On failure" error={err('successRule.onFailure')}>
                <select
                  {...describedBy(fid('successRule.onFailure'), err('successRule.onFailure'), hintId(fid('successRule.onFailure')))}
                  value={form.onFailure}
                  onChange={(e) => set('onFailure', e.target.value as SuccessFailureAction)}
                >
                  {(Object.keys(ON_FAILURE_TEXT) as SuccessFailureAction[]).map((a) => (
                    <option key={a} value={a}>
                      {ON_FAILURE_TEXT[a]}
                    </option>
                  ))}
                </select>
                <Hint of={fid('successRule.onFailure')}>What an answer outside the rule does: retry it like a 5xx, or fail the delivery at once.</Hint>
              </Field>
            </fieldset>
            <fieldset>
              <legend>Signing</legend>
              <div className="field check">
                <input
                  id={fid('signing')}
                  type="checkbox"
                  checked={form.signing}
                  onChange={(e) => set('signing', e.target.checked)}
                  aria-describedby="signing-secret-state"
                />
                <label htmlFor={fid('signing')}>Sign requests</label>
              </div>
              <p id="signing-secret-state" className="hint">
                {form.signingSecretSet
                  ? 'Secret set: requests are signed (Standard Webhooks) while “Sign requests” is on.'
                  : id
                    ? 'No secret yet: requests are signed once “Rotate signing secret” has created one.'
                    : 'No secret yet: save the webhook, then create one with “Rotate signing secret”.'}
              </p>
              {id ? (
                <ConfirmAction
                  label="Rotate signing secret"
                  question={form.signingSecretSet ? 'Create a new signing secret?' : 'Create a signing secret?'}
                  detail={form.signingSecretSet ? 'The current one keeps signing, as a second signature, for 24 hours.' : undefined}
                  busyLabel="Rotating…"
                  onConfirm={rotateSecret}
                  danger={false}
                />
              ) : null}
              <ActionOutcome problem={signingProblem} status={signingStatus} />
              {newSecret ? (
                <div className="secret-once">
                  <div className="row">
                    <Field
                      id="signing-secret-new"
                      label="New signing secret"
                      grow
                      hint={
                        <Hint of="signing-secret-new">
                          Shown this once: it will not be shown again.{' '}
                          {newSecret.previousSecretValidUntil ? (
                            <>
                              The previous secret keeps signing too until <DateTime value={newSecret.previousSecretValidUntil} />.
                            </>
                          ) : (
                            'There was no previous secret.'
                          )}
                        </Hint>
                      }
                    >
                      <input
                        id="signing-secret-new"
                        ref={secretField}
                        type="text"
                        readOnly
                        spellCheck={false}
                        autoComplete="off"
                        value={newSecret.secret}
                        aria-describedby={hintId('signing-secret-new')}
                      />
                    </Field>
                    <button type="button" className="secondary" onClick={copySecret}>
                      Copy
                    </button>
                  </div>
                </div>
              ) : null}
            </fieldset>
          </fieldset>

          <Field
            id={fid('successComment')}
            label="Success comment"
            error={err('successComment')}
            hint={<Hint of={fid('successComment')}>An internal comment written on the ticket after a successful delivery; empty for none.</Hint>}
          >
            <textarea
              {...describedBy(fid('successComment'), err('successComment'), hintId(fid('successComment')))}
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
            <SaveButton saving={saving} />
            <button
              type="button"
              className="secondary"
              onClick={sendTest}
              disabled={!!testBlocked || !ticketId}
              aria-disabled={testing.busy !== null || undefined}
              aria-describedby={testHint ? 'send-test-hint' : undefined}
            >
              {testing.busy ? 'Sending…' : 'Send test'}
            </button>
            {testHint ? (
              <span id="send-test-hint" className="hint">
                {testHint}
              </span>
            ) : null}
            {id ? (
              <ConfirmAction
                label="Delete webhook"
                question="Delete this webhook?"
                detail="Its open deliveries are cancelled; the deliveries already made stay in the log."
                busyLabel="Deleting…"
                onConfirm={deleteHook}
              />
            ) : null}
          </div>
          {editor.removeProblem ? (
            <p role="alert" className="error">
              {editor.removeProblem}
            </p>
          ) : null}
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
              <Hint of="preview-ticket">
                {preview.ticket && preview.ticket.id === ticketId ? <bdi>{`#${preview.ticket.id} ${preview.ticket.title}`}</bdi> : 'The number of the ticket to preview and test with.'}
              </Hint>
            }
          >
            <input
              {...describedBy('preview-ticket', ticketError, hintId('preview-ticket'))}
              type="text"
              inputMode="numeric"
              autoComplete="off"
              list="preview-ticket-suggestions"
              value={ticketText}
              onChange={(e) => {
                ticketTouched.current = true;
                editor.clearErrors('ticketId');
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
              // a box of its own that scrolls (a long body): focusable and named, so that the keyboard scrolls it
              <pre className="request" data-testid="preview-request" tabIndex={0} aria-label="Request preview">
                {`${preview.request.method} ${preview.request.url}\n`}
                {Object.entries(preview.request.headers)
                  .map(([k, v]) => `${k}: ${String(v)}`)
                  .join('\n')}
                {preview.request.body ? `\n\n${preview.request.body}` : ''}
              </pre>
            ) : null}
          </section>
          <TagCatalogue tags={support.data?.templateTags ?? []} target={templateLabel(templateShown(target) ? target : 'body')} onInsert={insertTag} />
        </div>
      </div>
    </>
  );
}
