/**
 * Webhook definitions: validated on save (nothing is written when anything is wrong),
 * credentials (auth secrets, secret header values, signing secrets) sealed at rest and
 * never returned (a signing secret once, by rotateSigningSecret); the delivery policy
 * (signing, success rule, ordering, limits) kept by an update that omits it; deleted only
 * when no rule sends them; previewed for a ticket without being sent; switched back on
 * (breaker closed) by enableWebhook.
 */
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import type { Queryable } from '../queue/index.js';
import { CustomField, sqlOf, Webhook } from '../db/index.js';
import type { SecretBox } from '../crypto/index.js';
import { badInput, invalidInput, notFound } from '../errors.js';
import {
  FORBIDDEN_SEGMENTS, isId, MAX_CONCURRENCY_RANGE, PREVIOUS_SECRET_VALID_MS, RATE_LIMIT_RANGE,
  type AuthType, type BodyFormat, type DeliveryOrdering, type FieldProblem, type HttpMethod, type MappingTarget, type RenderedRequest, type StoredHeader,
} from '../domain/index.js';
import { newSigningSecret } from './signing.js';
import { cancelWebhookDeliveries, markDeliveryOrdering } from './store.js';
import { successRuleOf, successRuleProblems, type SuccessRuleInput } from './success-rule.js';
import { checkText, TEXT_LIMITS } from '../helpdesk/index.js';
import { buildTemplateContext, loadTicketForTemplates, unknownCustomFieldTag } from '../templates/index.js';
import { previewRequest, RequestRenderError, validateWebhookDefinition } from './request.js';
import type { WebhookDef } from './types.js';

export interface WebhookInput {
  name: string;
  method: HttpMethod;
  url: string;
  format: BodyFormat;
  body?: string | null;
  /** secret: the value is a credential, sealed and never returned; '' on update keeps the stored one */
  headers?: { name: string; value: string; secret?: boolean | null }[] | null;
  auth?: { type: AuthType; username?: string | null; secret?: string | null } | null;
  responseMappings?: { path: string; target: MappingTarget; field: string }[] | null;
  successComment?: string | null;
  enabled?: boolean | null;
  /** the delivery policy: omitted (or null, but rateLimitPerSecond) on update keeps the stored value */
  signing?: boolean | null;
  /** null resets it to the default rule */
  successRule?: SuccessRuleInput | null;
  ordering?: DeliveryOrdering | null;
  maxConcurrency?: number | null;
  /** null: no limit */
  rateLimitPerSecond?: number | null;
}

export async function findWebhook(em: EntityManager, id: string): Promise<Webhook | null> {
  return isId(id) ? em.findOne(Webhook, { id }) : null;
}

/**
 * The webhook, its row locked until the caller's transaction (`em`'s) ends and read as
 * it is after any change committed before the lock; NOT_FOUND naming `field` if there is none.
 */
async function lockWebhook(em: EntityManager, id: string, field: string): Promise<Webhook> {
  const webhook = isId(id) ? await em.findOne(Webhook, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true }) : null;
  if (!webhook) throw notFound('webhook', id, field);
  return webhook;
}

export async function getWebhook(em: EntityManager, id: string, field = 'id'): Promise<Webhook> {
  const webhook = await findWebhook(em, id);
  if (!webhook) throw notFound('webhook', id, field);
  return webhook;
}

async function listWebhooks(em: EntityManager): Promise<Webhook[]> {
  return em.find(Webhook, {}, { orderBy: { id: 'asc' } });
}

/** The stored secret header that an empty value on update keeps, matched by name. */
function storedSecretHeader(stored: readonly StoredHeader[], name: string): StoredHeader | undefined {
  const lower = name.trim().toLowerCase();
  return stored.find((h) => h.secret && h.sealed && h.name.toLowerCase() === lower);
}

/** Length limits and unstorable characters, every text field; nothing else is checked when one fails. */
function textProblems(input: WebhookInput): FieldProblem[] {
  const { name, line, text } = TEXT_LIMITS;
  const problems: FieldProblem[] = [];
  checkText(problems, 'name', input.name, name);
  checkText(problems, 'url', input.url, line);
  checkText(problems, 'body', input.body, text);
  (input.headers ?? []).forEach((h, i) => {
    checkText(problems, `headers[${i}].name`, h.name, name);
    checkText(problems, `headers[${i}].value`, h.value, line);
  });
  checkText(problems, 'auth.username', input.auth?.username, name);
  checkText(problems, 'auth.secret', input.auth?.secret, line);
  (input.responseMappings ?? []).forEach((m, i) => {
    checkText(problems, `responseMappings[${i}].path`, m.path, line);
    checkText(problems, `responseMappings[${i}].field`, m.field, name);
  });
  checkText(problems, 'successComment', input.successComment, text);
  const rule = input.successRule;
  checkText(problems, 'successRule.statuses', rule?.statuses, line);
  checkText(problems, 'successRule.path', rule?.path, line);
  checkText(problems, 'successRule.value', rule?.value, line);
  return problems;
}

/** The custom field keys that exist: what a tag may name (ticket.custom.<key>). */
async function customFieldKeys(em: EntityManager): Promise<Set<string>> {
  return new Set((await em.find(CustomField, {}, { fields: ['key'] })).map((f) => f.key));
}

/**
 * A problem for each template of the definition with a tag naming a custom field that does
 * not exist, as rule conditions must name one; a field that has a problem in `problems`
 * already is passed over (it reports one).
 */
function unknownCustomFieldTags(input: WebhookInput, fieldKeys: ReadonlySet<string>, problems: readonly FieldProblem[]): FieldProblem[] {
  const templates: [string, string][] = [
    ['url', input.url],
    ['body', input.body ?? ''],
    ...(input.headers ?? []).flatMap((h, i): [string, string][] => (h.secret ? [] : [[`headers[${i}].value`, h.value]])),
    ['successComment', input.successComment ?? ''],
  ];
  return templates.flatMap(([field, source]) => {
    if (problems.some((p) => p.field === field)) return [];
    const unknown = unknownCustomFieldTag(source, fieldKeys);
    return unknown ? [{ field, message: unknown }] : [];
  });
}

async function validate(em: EntityManager, input: WebhookInput, storedSecret: boolean, storedHeaders: readonly StoredHeader[] = []): Promise<void> {
  const problems = textProblems(input);
  if (problems.length) throw invalidInput(problems);
  if (!input.name.trim()) problems.push({ field: 'name', message: 'must not be empty' });
  (input.headers ?? []).forEach((h, i) => {
    if (h.secret && h.value === '' && !storedSecretHeader(storedHeaders, h.name)) {
      problems.push({ field: `headers[${i}].value`, message: `the secret header "${h.name.trim()}" needs a value (an empty value keeps the stored one of that name on update)` });
    }
  });
  const auth = input.auth ?? { type: 'NONE' as const };
  const hasSecret = Boolean(auth.secret) || (auth.secret === undefined || auth.secret === null ? storedSecret : false);
  problems.push(
    ...validateWebhookDefinition({
      method: input.method,
      url: input.url,
      format: input.format,
      body: input.body ?? '',
      headers: input.headers ?? [],
      auth: { type: auth.type, username: auth.username ?? null, hasSecret },
      responseMappings: input.responseMappings ?? [],
      successComment: input.successComment ?? '',
    }),
  );
  // a token with a line break or another control character could never be sent (request.ts,
  // authorizationFor): refused at save; the message does not echo the token
  if (auth.type === 'BEARER' && auth.secret && /[\u0000-\u0008\u000A-\u001F\u007F]/.test(auth.secret)) {
    problems.push({ field: 'auth.secret', message: 'the token must not contain line breaks or control characters' });
  }
  if (input.successRule) problems.push(...successRuleProblems(input.successRule));
  const { maxConcurrency: mc, rateLimitPerSecond: rate } = input;
  if (mc !== undefined && mc !== null && !(Number.isInteger(mc) && mc >= MAX_CONCURRENCY_RANGE.min && mc <= MAX_CONCURRENCY_RANGE.max)) {
    problems.push({ field: 'maxConcurrency', message: `must be a whole number from ${MAX_CONCURRENCY_RANGE.min} to ${MAX_CONCURRENCY_RANGE.max}` });
  }
  if (rate !== undefined && rate !== null && !(Number.isFinite(rate) && rate >= RATE_LIMIT_RANGE.min && rate <= RATE_LIMIT_RANGE.max)) {
    problems.push({ field: 'rateLimitPerSecond', message: `must be from ${RATE_LIMIT_RANGE.min} to ${RATE_LIMIT_RANGE.max} attempts per second (null: no limit)` });
  }
  const mappings = input.responseMappings ?? [];
  const fieldKeys = await customFieldKeys(em);
  problems.push(...unknownCustomFieldTags(input, fieldKeys, problems));
  mappings.forEach((m, i) => {
    if (!m.field.trim()) problems.push({ field: `responseMappings[${i}].field`, message: 'must not be empty' });
    else if (m.target === 'CUSTOM_FIELD' && !fieldKeys.has(m.field)) {
      problems.push({ field: `responseMappings[${i}].field`, message: `unknown custom field "${m.field}"` });
    } else if (m.target === 'TEMPORARY' && !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(m.field)) {
      problems.push({ field: `responseMappings[${i}].field`, message: `"${m.field}" is not a valid temporary field name (letters, digits, _), used as {{ temp.${m.field} }}` });
    } else if (m.target === 'TEMPORARY' && FORBIDDEN_SEGMENTS.has(m.field)) {
      // as for a custom field's key: a name tags refuse could never be read, and __proto__ would not even be kept
      problems.push({ field: `responseMappings[${i}].field`, message: `"${m.field}" cannot be a temporary field name: tags refuse it (it names JavaScript internals), so {{ temp.${m.field} }} could never be used; choose another` });
    }
  });
  if (problems.length) throw invalidInput(problems);
}

function apply(webhook: Webhook, input: WebhookInput, box: SecretBox): void {
  const auth = input.auth ?? { type: 'NONE' as const };
  webhook.name = input.name.trim();
  webhook.method = input.method;
  webhook.url = input.url.trim();
  webhook.format = input.format;
  webhook.body = input.body ?? '';
  const storedHeaders = webhook.headers;
  webhook.headers = (input.headers ?? []).map((h): StoredHeader => {
    const name = h.name.trim();
    if (!h.secret) return { name, value: h.value };
    const sealed = h.value !== '' ? box.seal(h.value) : storedSecretHeader(storedHeaders, name)!.sealed!;
    return { name, value: '', secret: true, sealed };
  });
  webhook.responseMappings = (input.responseMappings ?? []).map((m) => ({ path: m.path.trim(), target: m.target, field: m.field.trim() }));
  webhook.successComment = input.successComment ?? '';
  webhook.enabled = input.enabled ?? true;
  // switched back on by its definition: the system's reason no longer holds
  if (webhook.enabled) {
    webhook.disabledReason = null;
    webhook.disabledAt = null;
  }
  // the policy: an omitted field keeps the stored value (the entity's default on create)
  if (input.signing !== undefined && input.signing !== null) webhook.signingEnabled = input.signing;
  if (input.successRule !== undefined) webhook.successRule = input.successRule === null ? null : successRuleOf(input.successRule);
  if (input.ordering !== undefined && input.ordering !== null) webhook.ordering = input.ordering;
  if (input.maxConcurrency !== undefined && input.maxConcurrency !== null) webhook.maxConcurrency = input.maxConcurrency;
  if (input.rateLimitPerSecond !== undefined) webhook.rateLimitPerSecond = input.rateLimitPerSecond;
  if (auth.type === 'NONE') {
    webhook.authType = 'NONE';
    webhook.authUsername = null;
    webhook.authSecretSealed = null;
  } else {
    // a type change without a new secret would pair an old password with a new scheme
    if (auth.type !== webhook.authType && !auth.secret && webhook.authSecretSealed) {
      throw badInput('auth.secret', `changing auth from ${webhook.authType} to ${auth.type} needs the new secret`);
    }
    webhook.authType = auth.type;
    webhook.authUsername = auth.type === 'BASIC' ? auth.username?.trim() ?? null : null;
    if (auth.secret) webhook.authSecretSealed = box.seal(auth.secret);
  }
  webhook.updatedAt = new Date();
}

async function createWebhook(em: EntityManager, box: SecretBox, input: WebhookInput): Promise<Webhook> {
  await validate(em, input, false);
  const webhook = em.create(Webhook, { name: input.name, method: input.method, url: input.url, format: input.format, createdAt: new Date(), updatedAt: new Date() });
  apply(webhook, input, box);
  await em.flush();
  return webhook;
}

async function updateWebhook(em: EntityManager, box: SecretBox, id: string, input: WebhookInput, now: Date): Promise<Webhook> {
  const webhook = await getWebhook(em, id);
  const keepsSecret = Boolean(webhook.authSecretSealed) && input.auth?.type === webhook.authType;
  await validate(em, input, keepsSecret, webhook.headers);
  const wasOff = !webhook.enabled;
  const orderingBefore = webhook.ordering;
  apply(webhook, input, box);
  // switched back on by its definition: as enableWebhook, with its breaker closed
  const switchedOn = wasOff && webhook.enabled;
  const reordered = webhook.ordering !== orderingBefore;
  if (!switchedOn && !reordered) {
    await em.flush();
    return webhook;
  }
  await em.begin();
  try {
    if (switchedOn) await closeBreaker(sqlOf(em), webhook.id, now);
    if (reordered) await markDeliveryOrdering(sqlOf(em), webhook.id, webhook.ordering === 'PER_TICKET');
    await em.flush();
    await em.commit();
  } catch (err) {
    await em.rollback();
    throw err;
  }
  return webhook;
}

/**
 * Closes a webhook's breaker and starts its window anew (failures from before do not
 * count): the state of src/delivery/scheduling.ts as a closed one's; the rate limit's
 * bucket is kept. Locks the state row before the webhook's, in the claim's order.
 */
async function closeBreaker(db: Queryable, webhookId: string, now: Date): Promise<void> {
  await db.query(
    `insert into webhook_states (webhook_id, window_started_at) values ($1, $2)
     on conflict (webhook_id) do update set breaker = 'CLOSED', opened_at = null, window_started_at = $2, next_probe_at = null, probe_delivery_id = null`,
    [webhookId, now],
  );
}

/**
 * A new signing secret, returned once and sealed at rest; the one it replaces keeps
 * signing, as the second signature, for PREVIOUS_SECRET_VALID_MS.
 */
async function rotateSigningSecret(em: EntityManager, box: SecretBox, id: string, now: Date): Promise<{ secret: string; previousSecretValidUntil: Date | null }> {
  // the webhook's row is locked for the rotation: rotations at once (a double click) follow
  // one another, each making the secret it finds the previous one (the last two returned sign)
  return em.transactional(async (tem) => {
    const webhook = await lockWebhook(tem, id, 'webhookId');
    const secret = newSigningSecret();
    if (webhook.signingSecretSealed) {
      webhook.signingPreviousSecretSealed = webhook.signingSecretSealed;
      webhook.signingPreviousValidUntil = new Date(now.getTime() + PREVIOUS_SECRET_VALID_MS);
    } else {
      webhook.signingPreviousSecretSealed = null;
      webhook.signingPreviousValidUntil = null;
    }
    webhook.signingSecretSealed = box.seal(secret);
    webhook.updatedAt = now;
    await tem.flush();
    return { secret, previousSecretValidUntil: webhook.signingPreviousValidUntil };
  });
}

/** Switches a webhook on, clears the system's reason and closes its breaker, in one transaction. */
async function enableWebhook(em: EntityManager, id: string, now: Date): Promise<Webhook> {
  return em.transactional(async (tem) => {
    const webhook = await getWebhook(tem, id);
    await closeBreaker(sqlOf(tem), webhook.id, now);
    webhook.enabled = true;
    webhook.disabledReason = null;
    webhook.disabledAt = null;
    webhook.updatedAt = now;
    await tem.flush();
    return webhook;
  });
}

/** Why a webhook gets no new deliveries, for the comment a rule's SEND_WEBHOOK leaves and for refusals. */
export function webhookOffMessage(webhook: { name: string; disabledReason?: string | null }): string {
  return `webhook "${webhook.name}" is disabled${webhook.disabledReason ? ` (switched off by deskhooks: ${webhook.disabledReason}; enableWebhook switches it back on)` : ''}`;
}

/** The rules whose actions send a webhook (the dispatcher's rule service answers it). */
export type RulesUsingWebhook = (em: EntityManager, webhookId: string) => Promise<{ id: string; name: string }[]>;

/**
 * A webhook that a rule sends is not deleted: the rule would fail at its next match. A
 * deleted webhook calls no one again: its open deliveries (retries, held ones) are
 * cancelled with it, in one transaction, and its deliveries are not redelivered (service.ts,
 * bulk.ts) — deleting is how an admin stops a compromised endpoint or token.
 */
async function deleteWebhook(em: EntityManager, rulesUsing: RulesUsingWebhook, id: string, now: Date): Promise<boolean> {
  await em.transactional(async (tem) => {
    // the claims' lock order (scheduling.ts): the webhook's state row, then the webhook row,
    // whose lock makes a delivery being inserted for it wait (its foreign key check), so
    // that every delivery of the webhook is in the cancel below, none is left without it
    if (isId(id)) await sqlOf(tem).query(`select 1 from webhook_states where webhook_id = $1 for update`, [id]);
    const webhook = await lockWebhook(tem, id, 'id');
    const users = await rulesUsing(tem, id);
    if (users.length) {
      const many = users.length > 1;
      throw badInput('id', `webhook ${id} is used by rule${many ? 's' : ''} ${users.map((r) => `"${r.name}" (${r.id})`).join(', ')}; change or delete ${many ? 'them' : 'it'} first`);
    }
    await cancelWebhookDeliveries(sqlOf(tem), webhook.id, now, { note: `cancelled: its webhook "${webhook.name}" was deleted` });
    await tem.remove(webhook).flush();
  });
  return true;
}

/** The id a preview's request carries where a send carries its delivery's id. */
export const PREVIEW_DELIVERY_ID = '00000000-0000-0000-0000-000000000000';

/**
 * The request the webhook would send for the ticket, credentials redacted. A webhook that
 * cannot be rendered for it is BAD_USER_INPUT with the reason a send would record; the
 * field is the definition's at fault when it fails whatever the ticket (a tag next to
 * the URL's host), else ticketId.
 *
 * With `draft`, the definition as an editor holds it, unsaved, is rendered instead of the
 * stored one (`id` then optional: a new webhook has none); its templates are checked as a
 * save checks them, the rest of a save's checks (name, mappings, secrets) are left to the
 * save. Previews need no secret: they are redacted.
 */
async function previewWebhook(em: EntityManager, box: SecretBox, userAgent: string, publicUrl: string | null, id: string | null, ticketId: string, draft?: WebhookInput | null): Promise<RenderedRequest> {
  if (!id && !draft) throw badInput('id', 'give the id of the webhook, or its definition as input');
  const webhook = id ? await getWebhook(em, id, 'id') : null;
  const ticket = isId(ticketId) ? await loadTicketForTemplates(em, ticketId) : null;
  if (!ticket) throw badInput('ticketId', `ticket ${ticketId} not found`);
  // a new webhook has no id yet: {{ webhook.id }} previews as 0
  const def = draft ? draftDef(draft, webhook?.id ?? '0', await customFieldKeys(em)) : webhookDef(webhook!, box);
  const ctx = await buildTemplateContext(em, ticket, { webhook: { id: def.id, name: def.name }, publicUrl });
  ctx.delivery = { id: PREVIEW_DELIVERY_ID };
  const what = id ? `webhook ${id}` : 'the webhook';
  try {
    return previewRequest(def, ctx, { userAgent });
  } catch (err) {
    if (err instanceof RequestRenderError) throw badInput(err.field ?? 'ticketId', `${what} cannot be rendered for ticket ${ticketId}: ${err.message}`);
    throw err;
  }
}

/** An unsaved definition to preview, refused (naming the field) where a save would refuse its templates (a tag naming a custom field not in `fieldKeys` included). */
function draftDef(input: WebhookInput, id: string, fieldKeys: ReadonlySet<string>): WebhookDef {
  const auth = input.auth ?? { type: 'NONE' as const };
  const problems: FieldProblem[] = [
    ...textProblems(input),
    ...validateWebhookDefinition({
      method: input.method,
      url: input.url,
      format: input.format,
      body: input.body ?? '',
      headers: input.headers ?? [],
      auth: { type: auth.type, username: auth.username ?? null, hasSecret: true },
      responseMappings: [],
      successComment: input.successComment ?? '',
    }).filter((p) => !p.field.startsWith('auth.')),
  ];
  problems.push(...unknownCustomFieldTags(input, fieldKeys, problems));
  if (problems.length) throw invalidInput(problems);
  return {
    id,
    name: input.name.trim(),
    method: input.method,
    url: input.url.trim(),
    format: input.format,
    body: input.body ?? '',
    headers: (input.headers ?? []).map((h) => (h.secret ? { name: h.name.trim(), value: '', secret: true } : { name: h.name.trim(), value: h.value })),
    auth: { type: auth.type, username: auth.type === 'BASIC' ? (auth.username?.trim() ?? null) : null, secret: null },
    responseMappings: [],
    successComment: input.successComment ?? '',
  };
}

export interface WebhookServiceDeps {
  box: SecretBox;
  /** User-Agent of previews: the one sends carry */
  userAgent: string;
  rulesUsing: RulesUsingWebhook;
  clock?: () => Date;
  /** where tickets are linked in templates (config publicUrl) */
  publicUrl?: string | null;
}

/** Webhook definitions (ADMIN: the resolvers check the role). */
export interface WebhookService {
  list(em: EntityManager): Promise<Webhook[]>;
  find(em: EntityManager, id: string): Promise<Webhook | null>;
  create(em: EntityManager, input: WebhookInput): Promise<Webhook>;
  /** Replaces the definition; an omitted auth.secret, or an empty secret header value, keeps the stored one. */
  update(em: EntityManager, id: string, input: WebhookInput): Promise<Webhook>;
  /** Refused while a rule sends the webhook. */
  delete(em: EntityManager, id: string): Promise<boolean>;
  /** the stored webhook's request for the ticket, or with `draft` that unsaved definition's (previewWebhook) */
  preview(em: EntityManager, id: string | null, ticketId: string, draft?: WebhookInput | null): Promise<RenderedRequest>;
  /** a new signing secret, returned this once */
  rotateSigningSecret(em: EntityManager, id: string): Promise<{ secret: string; previousSecretValidUntil: Date | null }>;
  /** switched on, the system's reason cleared, the breaker closed */
  enable(em: EntityManager, id: string): Promise<Webhook>;
  /** the service's clock (whether a rotated-out secret still co-signs) */
  now(): Date;
}

export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const { box, userAgent, rulesUsing } = deps;
  const clock = deps.clock ?? (() => new Date());
  return {
    list: listWebhooks,
    find: findWebhook,
    create: (em, input) => createWebhook(em, box, input),
    update: (em, id, input) => updateWebhook(em, box, id, input, clock()),
    delete: (em, id) => deleteWebhook(em, rulesUsing, id, clock()),
    preview: (em, id, ticketId, draft) => previewWebhook(em, box, userAgent, deps.publicUrl ?? null, id, ticketId, draft),
    rotateSigningSecret: (em, id) => rotateSigningSecret(em, box, id, clock()),
    enable: (em, id) => enableWebhook(em, id, clock()),
    now: clock,
  };
}

/**
 * The webhooks whose stored secrets (auth secret, secret header values, signing secrets)
 * this process's key cannot open: `{ unopenable, withSecrets }` webhook counts. Read once at
 * start, so that a process given another DESKHOOKS_SECRET_KEY than the rest (or none, with a
 * DATA_DIR of its own) says so in its log before those webhooks' deliveries fail unsent.
 */
export async function unopenableSecrets(db: Queryable, box: SecretBox): Promise<{ unopenable: string[]; withSecrets: number }> {
  const { rows } = await db.query(
    `select id::text as id,
            array_remove(array[auth_secret_sealed, signing_secret_sealed, signing_previous_secret_sealed]
                         || coalesce((select array_agg(h->>'sealed') from jsonb_array_elements(headers) h where h->>'sealed' is not null), '{}'), null) as sealed
       from webhooks
      where auth_secret_sealed is not null or signing_secret_sealed is not null or signing_previous_secret_sealed is not null
         or exists (select 1 from jsonb_array_elements(headers) h where h->>'sealed' is not null)
      order by id`,
  );
  const opens = (sealed: string) => {
    try {
      box.open(sealed);
      return true;
    } catch {
      return false;
    }
  };
  return { unopenable: rows.filter((r) => !(r.sealed as string[]).every(opens)).map((r) => r.id as string), withSecrets: rows.length };
}

/** The definition the renderer needs, with the secrets opened. Only for sending and previews (which redact them). */
export function webhookDef(webhook: Webhook, box: SecretBox): WebhookDef {
  // a secret sealed under another DESKHOOKS_SECRET_KEY fails this webhook's deliveries (the
  // reason in credentialsError), not the rule or the batch of events that sends it
  let credentialsError: string | undefined;
  const open = (sealed: string): string => {
    try {
      return box.open(sealed);
    } catch (err) {
      credentialsError ??= `${(err as Error).message}; re-enter the webhook's secrets`;
      return '';
    }
  };
  return {
    id: webhook.id,
    name: webhook.name,
    method: webhook.method,
    url: webhook.url,
    format: webhook.format,
    body: webhook.body,
    headers: webhook.headers.map((h) => (h.secret ? { name: h.name, value: h.sealed ? open(h.sealed) : '', secret: true } : { name: h.name, value: h.value })),
    auth: {
      type: webhook.authType,
      username: webhook.authUsername,
      secret: webhook.authSecretSealed ? open(webhook.authSecretSealed) : null,
    },
    responseMappings: webhook.responseMappings,
    successComment: webhook.successComment,
    ...(credentialsError ? { credentialsError } : {}),
  };
}
