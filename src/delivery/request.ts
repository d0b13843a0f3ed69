/**
 * Webhook definition + template context → the HTTP request to send. Pure: no database,
 * no network, no clock. Also the save-time checks of a webhook definition, which render
 * with sample values to prove the result will parse.
 */
import { Buffer } from 'node:buffer';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { AuthType, BodyFormat, FieldProblem, HttpMethod, MappingTarget, RenderedRequest } from '../domain/index.js';
import { parseMappingPath } from './response.js';
import { charsetParameter, xmlDeclaredEncoding } from './charset.js';
import {
  bodyXmlEscapers,
  bodyEscaper,
  checkTemplate,
  compileTemplate,
  escapeForm,
  escapeHeader,
  escapeUrl,
  lookupPath,
  positionOf,
  RenderedTooLongError,
  scanTemplate,
  TemplateError,
  textBeforeFirstTag,
  toText,
  sampleContext,
  type Part,
  type TagPart,
  type TemplateContext,
  type TemplateScope,
  type XmlEscapers,
} from '../templates/index.js';
import type { WebhookDef } from './types.js';

/** A webhook that cannot be turned into a request. Not retryable: the next attempt would fail the same way. */
export class RequestRenderError extends Error {
  override name = 'RequestRenderError';
  readonly retryable = false;
  /** the webhook field at fault when the definition itself is (`url`) */
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

/**
 * The most a rendered request may carry: 1 MiB of body (UTF-8 bytes), and as many characters
 * in its URL or in one header value, as deskhooks takes in a request and reads of an answer.
 * Templates are short, but a tag repeated in one (a 100,000-character description a
 * thousand times) would otherwise make a request of hundreds of megabytes, stored and sent.
 */
export const MAX_RENDERED_BYTES = 1024 * 1024;
const TOO_LONG_WHY = 'a tag repeated in the template, or a long value, makes it so';

/**
 * What render() cannot tell before building: a body's size in UTF-8 bytes, and a GET's URL
 * with its FORM body appended as the query string.
 */
function checkRenderedSize(field: string, noun: string, text: string, unit: 'bytes' | 'characters'): void {
  if (text.length * (unit === 'bytes' ? 3 : 1) <= MAX_RENDERED_BYTES) return; // a UTF-16 unit is at most 3 UTF-8 bytes
  const size = unit === 'bytes' ? Buffer.byteLength(text, 'utf8') : text.length;
  if (size <= MAX_RENDERED_BYTES) return;
  throw new RequestRenderError(`${field}: the rendered ${noun} is ${size.toLocaleString('en-US')} ${unit}, over the limit of ${MAX_RENDERED_BYTES.toLocaleString('en-US')} (1 MiB): ${TOO_LONG_WHY}`);
}

/** What a secret header's value shows in previews and delivery records. */
export const REDACTED = '***';

export interface RenderOptions {
  /** e.g. `deskhooks/0.1.0` */
  userAgent: string;
}

export const CONTENT_TYPES: Readonly<Record<BodyFormat, string>> = Object.freeze({
  JSON: 'application/json; charset=utf-8',
  XML: 'application/xml; charset=utf-8',
  FORM: 'application/x-www-form-urlencoded',
});

/** RFC 7230 token: what a header name may be. */
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Header names a webhook may not set: framing and connection headers the HTTP client
 * owns (undici refuses several), Authorization (set through `auth`, so it stays
 * encrypted and redacted), and the delivery headers the sender adds.
 */
const RESERVED_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-length': 'is computed from the body',
  host: 'is taken from the URL',
  authorization: 'is set through auth (BASIC or BEARER), which keeps the secret encrypted',
  'transfer-encoding': 'is managed by the HTTP client',
  connection: 'is managed by the HTTP client',
  'keep-alive': 'is managed by the HTTP client',
  upgrade: 'is not supported',
  expect: 'is not supported',
  te: 'is managed by the HTTP client',
  'x-deskhooks-delivery': 'is added to every request by deskhooks',
  'x-deskhooks-attempt': 'is added to every request by deskhooks',
  'webhook-id': 'is a signing header, added by deskhooks when signing is on',
  'webhook-timestamp': 'is a signing header, added by deskhooks when signing is on',
  'webhook-signature': 'is a signing header, added by deskhooks when signing is on',
});

/** Control characters other than TAB: never allowed in a header value's literal text. */
const HEADER_CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

function headerNameProblem(name: string): string | null {
  if (!TOKEN_RE.test(name)) return `header name "${name}" is not a valid HTTP token (letters, digits and !#$%&'*+-.^_\`|~)`;
  const reserved = RESERVED_HEADERS[name.toLowerCase()];
  return reserved ? `header "${name}" ${reserved}` : null;
}

/** Compiles and renders, turning a template error into a non-retryable render error. */
function render(
  source: string,
  scope: TemplateScope,
  ctx: TemplateContext,
  escape: (v: string) => string,
  what: string,
  xml?: XmlEscapers,
): string {
  try {
    // refused before it is built when it would be longer than a request may carry, in characters
    return compileTemplate(source, scope).render(ctx, escape, xml, MAX_RENDERED_BYTES);
  } catch (e) {
    if (e instanceof TemplateError) throw new RequestRenderError(`${what}: ${e.message}`);
    if (e instanceof RenderedTooLongError) throw new RequestRenderError(`${what}: ${e.message} (1 MiB): ${TOO_LONG_WHY}`);
    throw e;
  }
}

// ---------------------------------------------------------------- FORM bodies

/** The literal text of a FORM body that stays as written: the separators, `+` and valid percent-escapes. */
const FORM_KEPT = /[A-Za-z0-9*\-._&=+]|%[0-9A-Fa-f]{2}/y;

/**
 * Literal FORM text as application/x-www-form-urlencoded: `&`, `=`, `+`, valid
 * percent-escapes and the characters the encoding leaves alone stay; any other character
 * (a space, `:`, `#`, a stray `%`, non-ASCII) is form-encoded like a value, so
 * `message=Ticket {{ ticket.id }}` is sent as `message=Ticket+42`.
 */
function encodeFormLiteral(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    FORM_KEPT.lastIndex = i;
    const kept = FORM_KEPT.exec(text);
    if (kept) {
      out += kept[0];
      i += kept[0].length;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    out += escapeForm(ch);
    i += ch.length;
  }
  return out;
}

/** One literal character of a FORM body (`ch`, with its index in the source) or a tag (`ch` null, `raw` as written). */
interface FormItem {
  ch: string | null;
  index: number;
  raw?: string;
}

/** A run of white space holding a line break. */
const LINE_BREAK_RUN = /\s*[\r\n]\s*/g;

/**
 * A FORM body as its literal characters and tags, without the line breaks that only lay
 * it out over lines: a run of white space holding a line break at the body's start or
 * end, or next to an `&`, belongs to no name or value (a line break in a value is
 * written %0A). Any other character stays.
 */
function formItems(parts: readonly Part[]): FormItem[] {
  const items: FormItem[] = [];
  let offset = 0;
  parts.forEach((p, n) => {
    if (typeof p !== 'string') {
      items.push({ ch: null, index: p.index, raw: p.raw });
      offset = p.index + p.raw.length;
      return;
    }
    const layout = new Array<boolean>(p.length).fill(false);
    for (const m of p.matchAll(LINE_BREAK_RUN)) {
      const start = m.index, end = start + m[0].length;
      const edge = (n === 0 && start === 0) || (n === parts.length - 1 && end === p.length);
      if (edge || p[start - 1] === '&' || p[end] === '&') layout.fill(true, start, end);
    }
    for (let k = 0; k < p.length; k++) if (!layout[k]) items.push({ ch: p[k]!, index: offset + k });
    offset += p.length;
  });
  return items;
}

/**
 * A FORM body template with its layout line breaks dropped (formItems), its literal text
 * form-encoded (encodeFormLiteral) and its tags as written. Throws a TemplateError like
 * compileTemplate.
 */
function formTemplate(source: string): string {
  let out = '';
  let text = '';
  for (const item of formItems(scanTemplate(source, 'webhook'))) {
    if (item.ch !== null) {
      text += item.ch;
      continue;
    }
    out += encodeFormLiteral(text) + item.raw!;
    text = '';
  }
  return out + encodeFormLiteral(text);
}

/**
 * Why a FORM body template is not `name=value` pairs joined by `&`, with the 1-based
 * position, or null. Checked on the literal text without its layout line breaks
 * (formItems; a tag's value is form-encoded, so it adds neither `&` nor `=`): every pair
 * has an `=` and a name before it (literal text or a tag), and every `%` starts a
 * percent-escape of two hex digits. Other characters in the literal text are
 * form-encoded when sent (encodeFormLiteral).
 */
function formProblem(source: string, parts: readonly Part[]): string | null {
  const at = (index: number): string => {
    const { line, column } = positionOf(source, index);
    return `${line}:${column}`;
  };
  // the body as a sequence of literal characters (with their index) and tags
  const items = formItems(parts);
  const hint = '; a FORM body is name=value pairs joined by "&", e.g. phone={{ requester.phone }}&text={{ ticket.title }}';
  let start = 0;
  for (let end = 0; end <= items.length; end++) {
    if (end < items.length && items[end]!.ch !== '&') continue;
    const pair = items.slice(start, end);
    const where = pair[0]?.index ?? (end < items.length ? items[end]!.index : source.length);
    if (pair.length === 0) return `the FORM body has an empty pair at ${at(where)}${hint}`;
    const eq = pair.findIndex((x) => x.ch === '=');
    if (eq === -1) return `the FORM body has a pair without "=" at ${at(where)}${hint}`;
    if (eq === 0) return `the FORM body has a pair with an empty name at ${at(where)}${hint}`;
    for (let k = 0; k < pair.length; k++) {
      if (pair[k]!.ch !== '%') continue;
      const hex = pair.slice(k + 1, k + 3).map((x) => x.ch ?? '').join('');
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        return `the FORM body has "%" without two hex digits after it at ${at(pair[k]!.index)}; write a literal "%" as %25${hint}`;
      }
    }
    start = end + 1;
  }
  return null;
}

/** Appends a query string before any fragment, with `?` or `&` as needed. */
export function appendQuery(url: string, query: string): string {
  if (query === '') return url;
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return base + sep + query + fragment;
}

/**
 * The first "." or ".." path segment of `url` as written (also "%2e", "%2E%2e", ...), or null.
 *
 * The URL parser removes such a segment together with the one before it, and decodes
 * "%2e" there, so percent-encoding cannot protect it: a value ".." in
 * `/orders/{{ ticket.custom.x }}/cancel` would send the request to `/cancel`. Such a URL is
 * refused like any URL that is invalid after rendering (at save time for literal text, as
 * a non-retryable failure for values).
 */
function dotSegment(url: string): string | null {
  const path = /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]*[^/\\?#]*([^?#]*)/.exec(url)?.[1] ?? '';
  return path.split(/[/\\]/).find((s) => /^(?:\.|%2e){1,2}$/i.test(s)) ?? null;
}

/**
 * Why a URL template lets a value decide where the request goes, or null. Every tag must
 * come after the end of `scheme://host:port`, i.e. after the "/", "?" or "#" that ends
 * the authority: a value next to the host (`https://hooks.example.com{{ x }}/` with x =
 * `.attacker.example`), in the port, in userinfo, or a URL that is a tag, would move the
 * request, with its credentials, to another host. Percent-encoding does not prevent it:
 * letters, digits, "." and "-" stay as they are. A template that does not compile passes:
 * its TemplateError is reported where it is compiled.
 */
export function urlTagProblem(source: string): string | null {
  let first: ReturnType<typeof textBeforeFirstTag>;
  try {
    first = textBeforeFirstTag(source, 'webhook');
  } catch (e) {
    if (e instanceof TemplateError) return null;
    throw e;
  }
  if (first === null) return null;
  // as the URL parser reads it: leading C0 controls and spaces dropped, tabs and newlines removed
  const text = first.text.replace(/^[\u0000-\u0020]+/, '').replace(/[\t\n\r]/g, '');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:[/\\]{2}[^/\\?#]+[/\\?#]/.test(text)) return null;
  return (
    `a tag at ${first.line}:${first.column} comes before the end of scheme://host:port; the scheme, host and port must be literal text ` +
    'followed by "/", "?" or "#" before any tag, e.g. https://hooks.example.com/orders/{{ ticket.id }}'
  );
}

/** A path segment of a URL template written as tags alone, as a check needs it at each render. */
interface TagOnlySegment {
  /** its number in the path (1: the first after the host) */
  index: number;
  /** its tags: their paths, and how the message names them (`{{ ticket.parent_id }} (1:30)`) */
  tags: { segments: string[]; named: string }[];
  /** the segment with its neighbours as written, for the message */
  around: string;
}

/**
 * The path segments of a URL template that are written as tags alone (`/tickets/{{ ticket.parent_id }}/comments`,
 * a last `/{ticket_id}`). A `//` written as literal text is no such segment, nor is anything
 * in the query or the fragment; literal tabs and line breaks do not count, as the URL parser
 * removes them. The template's tags come after `scheme://host:port` (urlTagProblem is
 * checked before). Depends on the source alone: worked out once per template (tagOnlyCache).
 */
function tagOnlySegments(source: string): readonly TagOnlySegment[] {
  const parts = scanTemplate(source, 'webhook');
  if (parts.every((p) => typeof p === 'string')) return [];
  const head = typeof parts[0] === 'string' ? parts[0].replace(/[\t\n\r]/g, '') : '';
  const authority = /^[\u0000-\u0020]*[A-Za-z][A-Za-z0-9+.-]*:[/\\]*[^/\\?#]*/.exec(head);
  if (authority === null) return [];
  // the path's segments as written, each with its tags and whether it has literal text
  interface Segment { text: string; tags: TagPart[]; literal: boolean }
  const segments: Segment[] = [];
  let cur: Segment = { text: '', tags: [], literal: false };
  let ended = false;
  for (const [n, p] of parts.entries()) {
    if (typeof p !== 'string') {
      cur.tags.push(p);
      cur.text += p.raw;
      continue;
    }
    for (const ch of n === 0 ? head.slice(authority[0].length) : p) {
      if (ch === '\t' || ch === '\n' || ch === '\r') continue;
      if (ch === '?' || ch === '#') {
        ended = true;
        break;
      }
      if (ch === '/' || ch === '\\') {
        segments.push(cur);
        cur = { text: '', tags: [], literal: false };
        continue;
      }
      cur.text += ch;
      cur.literal = true;
    }
    if (ended) break;
  }
  segments.push(cur);
  // segments[0] is what stands between the host and the path's first "/": nothing
  return segments.flatMap((seg, k) =>
    seg.tags.length === 0 || seg.literal
      ? []
      : [
          {
            index: k,
            tags: seg.tags.map((t) => {
              const { line, column } = positionOf(source, t.index);
              return { segments: t.path.split('.'), named: `${t.raw} (${line}:${column})` };
            }),
            around: segments.slice(Math.max(0, k - 1), k + 2).map((s) => s.text).join('/'),
          },
        ],
  );
}

/** tagOnlySegments by URL template, for the renders of each delivery; emptied when it holds TAG_ONLY_CACHE_SIZE. */
const tagOnlyCache = new Map<string, readonly TagOnlySegment[]>();
const TAG_ONLY_CACHE_SIZE = 1_000;

/**
 * Why the URL template's path would get a segment that its tags left empty, or null: the
 * request would go to `/tickets//comments`, which names another resource or none. Such a
 * request is not sent (a RequestRenderError, not retryable: every attempt would go to the
 * same wrong place); empty values elsewhere in the URL are fine (tagOnlySegments).
 */
function emptyPathSegment(source: string, ctx: TemplateContext): string | null {
  let segments = tagOnlyCache.get(source);
  if (segments === undefined) {
    if (tagOnlyCache.size >= TAG_ONLY_CACHE_SIZE) tagOnlyCache.clear();
    segments = tagOnlySegments(source);
    tagOnlyCache.set(source, segments);
  }
  const empty = segments.find((seg) => seg.tags.every((t) => toText(lookupPath(ctx, t.segments)) === ''));
  if (!empty) return null;
  return (
    `${empty.tags.map((t) => t.named).join(' and ')} rendered empty, leaving path segment ${empty.index} ("${empty.around}") empty; ` +
    'the request would name another resource, so it is not sent'
  );
}

/** The URL as it will be requested, or why it cannot be. */
function parseHttpUrl(url: string): URL | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `the URL "${url}" is not an absolute URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `the URL "${url}" must use http or https, not ${parsed.protocol.replace(/:$/, '')}`;
  }
  const dot = dotSegment(url);
  if (dot !== null) return `the URL "${url}" has a "${dot}" path segment, which would change the path it names`;
  return parsed;
}

function hasBody(webhook: { body?: string | null }): boolean {
  return (webhook.body ?? '').trim() !== '';
}

/** Everything but Authorization; shared by renderRequest and previewRequest. */
function renderWithoutAuth(webhook: WebhookDef, ctx: TemplateContext, opts: RenderOptions): RenderedRequest {
  const { method, format } = webhook;
  const tagProblem = urlTagProblem(webhook.url);
  if (tagProblem) throw new RequestRenderError(`url: ${tagProblem}`, 'url');
  let url = render(webhook.url, 'webhook', ctx, escapeUrl, 'url');
  const emptySegment = emptyPathSegment(webhook.url, ctx);
  if (emptySegment) throw new RequestRenderError(`url: ${emptySegment}`);
  let body: string | null = null;
  if (hasBody(webhook)) {
    if (method === 'GET' && format !== 'FORM') {
      throw new RequestRenderError(`a GET request cannot carry a ${format} body; use FORM (sent as the query string) or another method`);
    }
    if (format === 'FORM') {
      let source: string;
      try {
        source = formTemplate(webhook.body);
      } catch (e) {
        if (e instanceof TemplateError) throw new RequestRenderError(`body: ${e.message}`);
        throw e;
      }
      body = render(source, 'webhook', ctx, bodyEscaper(format), 'body');
    } else {
      body = render(webhook.body, 'webhook', ctx, bodyEscaper(format), 'body', bodyXmlEscapers(format));
    }
    if (method === 'GET') {
      url = appendQuery(url, body);
      body = null;
    } else checkRenderedSize('body', 'body', body, 'bytes');
  }
  checkRenderedSize('url', 'URL', url, 'characters');
  const parsed = parseHttpUrl(url);
  if (typeof parsed === 'string') throw new RequestRenderError(parsed);

  const headers: Record<string, string> = {};
  if (body !== null) headers['Content-Type'] = CONTENT_TYPES[format];
  headers['User-Agent'] = opts.userAgent;
  for (const [i, h] of webhook.headers.entries()) {
    const problem = headerNameProblem(h.name);
    if (problem) throw new RequestRenderError(problem);
    // The webhook's own header wins over a default of the same name (e.g. text/xml).
    for (const k of Object.keys(headers)) if (k.toLowerCase() === h.name.toLowerCase()) delete headers[k];
    // A secret header's value is a credential: never in the request that is stored or shown.
    // Values are escaped one by one; the whole value is cleaned again so literal text
    // saved before validation existed cannot split the header either.
    // render() bounds the value's length; escaping only takes characters out
    headers[h.name] = h.secret ? REDACTED : escapeHeader(render(h.value, 'webhook', ctx, escapeHeader, `headers[${i}].value`));
  }
  return { method, url: parsed.href, headers, body };
}

/** The real Authorization header value, or null for NONE. Never log or store it. */
export function authorizationFor(auth: WebhookDef['auth']): string | null {
  switch (auth.type) {
    case 'NONE':
      return null;
    case 'BASIC':
      if (!auth.username || auth.secret === null || auth.secret === '') {
        throw new RequestRenderError('BASIC auth needs a username and a password');
      }
      return 'Basic ' + Buffer.from(`${auth.username}:${auth.secret}`, 'utf8').toString('base64');
    case 'BEARER':
      if (auth.secret === null || auth.secret === '') throw new RequestRenderError('BEARER auth needs a token');
      if (HEADER_CONTROL.test(auth.secret)) throw new RequestRenderError('the BEARER token contains control characters');
      return 'Bearer ' + auth.secret;
  }
}

/**
 * The request exactly as it will be sent, apart from the credentials: `request.headers`
 * has no Authorization and shows secret headers as `***`, so the request can be stored
 * and shown as it is. `authorization` and `secretHeaders` (name → real value) are
 * returned apart, to be sealed and added at send time.
 * Throws RequestRenderError (not retryable) when the URL is not absolute http(s) after
 * rendering or has a tag before the end of its host, a GET has a JSON/XML body, a
 * template or header name is invalid, or auth lacks its credentials.
 */
export function renderRequest(
  webhook: WebhookDef,
  ctx: TemplateContext,
  opts: RenderOptions,
): { request: RenderedRequest; authorization: string | null; secretHeaders: Record<string, string> } {
  // never sent without the credentials it was defined with: not retryable, as no later try can open them
  if (webhook.credentialsError) throw new RequestRenderError(webhook.credentialsError);
  const request = renderWithoutAuth(webhook, ctx, opts);
  const secretHeaders: Record<string, string> = {};
  for (const h of webhook.headers) if (h.secret) secretHeaders[h.name] = escapeHeader(h.value);
  return { request, authorization: authorizationFor(webhook.auth), secretHeaders };
}

/** What the Authorization header shows in previews and records. */
export function redactedAuthorization(type: AuthType): string | null {
  return type === 'BASIC' ? 'Basic ***' : type === 'BEARER' ? 'Bearer ***' : null;
}

/**
 * The request as renderRequest would build it, with `Authorization` in the headers and
 * the credentials redacted (the previewWebhook query). Does not need the secrets.
 */
export function previewRequest(webhook: WebhookDef, ctx: TemplateContext, opts: RenderOptions): RenderedRequest {
  const request = renderWithoutAuth(webhook, ctx, opts);
  const redacted = redactedAuthorization(webhook.auth.type);
  if (redacted !== null) request.headers['Authorization'] = redacted;
  return request;
}

// ---------------------------------------------------------------- response mapping paths

/**
 * `parseMappingPath(path): (string | number)[]`, throwing on bad syntax. The response
 * module already implements the grammar it applies at delivery time; re-exporting that
 * one function keeps save-time validation and delivery-time parsing from ever disagreeing.
 */
export { parseMappingPath };

// ---------------------------------------------------------------- save-time validation

export interface WebhookDefinitionInput {
  method: HttpMethod;
  url: string;
  format: BodyFormat;
  body?: string | null;
  /** a secret header's value is a credential sent as written, not a template; '' when the stored one is kept */
  headers?: readonly { name: string; value: string; secret?: boolean | null }[] | null;
  auth?: { type: AuthType; username?: string | null; hasSecret: boolean } | null;
  responseMappings?: readonly { path: string; target: MappingTarget; field: string }[] | null;
  successComment?: string | null;
}

/**
 * Values that try to break out of every kind of escaping (`--` and `]]>` for XML comments
 * and CDATA sections, a trailing `]` for the end of a CDATA section).
 */
export const HOSTILE_VALUE = `"q' \\ \n\r\t <b>&amp;</b> ]]> -- \u2028\u2029 {{ ticket.id }} % & = # ? / 😀 \u0001 ]`;

/** Every open path (custom field, temporary field) a template reads gets `value`. */
function fillOpenPaths(ctx: TemplateContext, paths: readonly string[], value: string): TemplateContext {
  for (const p of paths) {
    const seg = p.split('.');
    if (seg[0] === 'temp') ctx.temp[seg[1]!] = value;
    else if ((seg[0] === 'ticket' || seg[0] === 'parent') && seg[1] === 'custom') ctx[seg[0]]!.custom[seg[2]!] = value;
  }
  return ctx;
}

/** The sample context with every string replaced by `value`. */
function uniformContext(value: string): TemplateContext {
  const replace = (v: unknown): unknown => {
    if (typeof v === 'string') return value;
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
  };
  return replace(sampleContext()) as TemplateContext;
}

/** Renderings a body must survive: sample values, all values empty, hostile values. */
function bodyTrials(paths: readonly string[]): { label: string; ctx: TemplateContext }[] {
  return [
    { label: 'with sample values', ctx: fillOpenPaths(sampleContext(), paths, 'sample') },
    { label: 'when values are empty', ctx: fillOpenPaths(uniformContext(''), paths, '') },
    {
      label: 'when values contain quotes, backslashes, newlines, <&>, -- or ]]>',
      ctx: fillOpenPaths(uniformContext(HOSTILE_VALUE), paths, HOSTILE_VALUE),
    },
  ];
}

/** How deep an XML body's elements may nest, the root counting as 1 (the parser's `maxNestedTags` counts an element's ancestors). */
const XML_MAX_DEPTH = 100;
// every name prefixed with a character no XML name has: the parser refuses or renames some
// (`constructor`, `toString`), and only the number of roots is read here
const xmlRootCounter = new XMLParser({ processEntities: false, ignoreDeclaration: true, ignorePiTags: true, maxNestedTags: XML_MAX_DEPTH - 1, transformTagName: (name) => `\u0001${name}` });

/**
 * Why a comment of `text` is not well-formed XML, or null: a comment cannot hold `--`
 * nor end with `-` (XMLValidator lets both through). CDATA sections are skipped.
 */
function xmlCommentProblem(text: string): string | null {
  let i = 0;
  for (;;) {
    const comment = text.indexOf('<!--', i);
    const cdata = text.indexOf('<![CDATA[', i);
    if (comment === -1) return null;
    if (cdata !== -1 && cdata < comment) {
      const end = text.indexOf(']]>', cdata + 9);
      if (end === -1) return null;
      i = end + 3;
      continue;
    }
    const end = text.indexOf('-->', comment + 4);
    if (end === -1) return null;
    const inner = text.slice(comment + 4, end);
    if (inner.includes('--') || inner.endsWith('-')) {
      const { line, column } = positionOf(text, comment);
      return `a comment must not contain "--" nor end with "-" (line ${line}, column ${column})`;
    }
    i = end + 3;
  }
}

/** Why `text` is not a well-formed XML document, or null. */
function xmlProblem(text: string): string | null {
  const v = XMLValidator.validate(text);
  if (v !== true) return `${v.err.msg} (line ${v.err.line}, column ${v.err.col})`;
  const comment = xmlCommentProblem(text);
  if (comment !== null) return comment;
  let doc: Record<string, unknown>;
  try {
    doc = xmlRootCounter.parse(text) as Record<string, unknown>;
  } catch (e) {
    // what the validator lets through and the parser refuses (elements nested too deep)
    const message = (e as Error).message;
    return /nested tags/i.test(message) ? `elements are nested more than ${XML_MAX_DEPTH} levels deep` : message;
  }
  const roots = Object.keys(doc);
  if (roots.length !== 1 || Array.isArray(doc[roots[0]!])) return 'a document must have exactly one root element';
  return null;
}

function jsonProblem(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function checkBody(input: WebhookDefinitionInput): string | null {
  const source = input.body ?? '';
  if (source.trim() === '') return null;
  if (input.method === 'GET' && input.format !== 'FORM') {
    return `a GET request cannot carry a ${input.format} body; use FORM (sent as the query string) or another method`;
  }
  const err = checkTemplate(source, 'webhook');
  if (err) return err.message;
  const parts = scanTemplate(source, 'webhook');
  if (input.format === 'FORM') return formProblem(source, parts);
  if (input.format === 'XML') {
    // a comment or a processing instruction has no escaping: a value with "--" would end a
    // comment badly, and in either an escaped value reaches the receiver as entity text (&lt;)
    for (const p of parts) {
      if (typeof p === 'string' || (p.xml !== 'comment' && p.xml !== 'pi')) continue;
      const { line, column } = positionOf(source, p.index);
      const where = p.xml === 'comment' ? 'an XML comment' : 'an XML processing instruction or declaration (<? … ?>)';
      return `tag "${p.raw}" at ${line}:${column} is inside ${where}, where a value cannot be escaped; put it in element text, an attribute value or a CDATA section`;
    }
    const declared = xmlDeclaredEncoding(Buffer.from(source.replace(/^\uFEFF/, ''), 'utf8'));
    if (declared !== null && !/^utf-?8$/i.test(declared)) {
      return `the XML declaration says encoding="${declared}", but the body is sent in UTF-8 (Content-Type charset=utf-8), so a receiver that believes the declaration reads other characters; declare encoding="UTF-8" or leave encoding out`;
    }
  }
  const compiled = compileTemplate(source, 'webhook');
  const escape = bodyEscaper(input.format);
  const xml = bodyXmlEscapers(input.format);
  for (const { label, ctx } of bodyTrials(compiled.paths)) {
    const text = compiled.render(ctx, escape, xml);
    const problem = input.format === 'JSON' ? jsonProblem(text) : xmlProblem(text);
    if (problem === null) continue;
    const hint =
      input.format === 'JSON'
        ? label.startsWith('with sample')
          ? ''
          : '; put each tag inside a JSON string, e.g. "{{ ticket.id }}"'
        : label.startsWith('with sample')
          ? ''
          : '; tags belong in element text, attribute values or CDATA sections';
    return `the ${input.format} body is not valid ${label}: ${problem}${hint}`;
  }
  return null;
}

/**
 * Why a Content-Type header of the webhook's own misstates the body, or null: the body is
 * always sent in UTF-8 (a value from a tag included), so a charset naming another encoding
 * (`text/xml; charset=windows-1251`) would have the receiver read other characters.
 */
function contentTypeProblem(name: string, value: string): string | null {
  if (name.toLowerCase() !== 'content-type') return null;
  const charset = charsetParameter(value);
  if (charset === null || /^utf-?8$/i.test(charset)) return null;
  return `the Content-Type names charset=${charset}, but the body is sent in UTF-8, so a receiver that believes it reads other characters; write charset=utf-8 or leave the charset out`;
}

function checkUrl(input: WebhookDefinitionInput): string | null {
  if (input.url.trim() === '') return 'the URL is required';
  const err = checkTemplate(input.url, 'webhook');
  if (err) return err.message;
  const tagProblem = urlTagProblem(input.url);
  if (tagProblem) return tagProblem;
  const rendered = compileTemplate(input.url, 'webhook').render(sampleContext(), escapeUrl);
  const parsed = parseHttpUrl(rendered);
  if (typeof parsed === 'string') {
    return `${parsed} (rendered with sample values; values are percent-encoded, so a tag cannot supply the scheme or host)`;
  }
  if (parsed.username || parsed.password) return 'the URL must not contain credentials; use auth';
  return null;
}

/**
 * Every problem of a webhook definition, each with the input field it concerns; empty
 * when the definition can be saved. Mapping `field`s (an existing custom field, a valid
 * temporary name) are checked by the caller, which knows the custom fields.
 */
export function validateWebhookDefinition(input: WebhookDefinitionInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (field: string, message: string | null): void => {
    if (message !== null) problems.push({ field, message });
  };

  add('url', checkUrl(input));
  add('body', checkBody(input));

  const seen = new Set<string>();
  for (const [i, h] of (input.headers ?? []).entries()) {
    const lower = h.name.toLowerCase();
    add(`headers[${i}].name`, h.name === '' ? 'the header name is required' : headerNameProblem(h.name));
    if (h.name !== '' && seen.has(lower)) add(`headers[${i}].name`, `header "${h.name}" is given twice`);
    seen.add(lower);
    if (HEADER_CONTROL.test(h.value)) add(`headers[${i}].value`, 'a header value must not contain line breaks or control characters');
    else if (!h.secret) add(`headers[${i}].value`, checkTemplate(h.value, 'webhook')?.message ?? contentTypeProblem(h.name, h.value));
  }

  const auth = input.auth ?? { type: 'NONE' as const, username: null, hasSecret: false };
  if (auth.type === 'BASIC') {
    const user = auth.username ?? '';
    if (user === '') add('auth.username', 'BASIC auth needs a username');
    else if (user.includes(':') || HEADER_CONTROL.test(user)) add('auth.username', 'the username must not contain ":" or control characters');
    if (!auth.hasSecret) add('auth.secret', 'BASIC auth needs a password');
  } else if (auth.type === 'BEARER' && !auth.hasSecret) {
    add('auth.secret', 'BEARER auth needs a token');
  }

  for (const [i, m] of (input.responseMappings ?? []).entries()) {
    try {
      parseMappingPath(m.path);
    } catch (e) {
      add(`responseMappings[${i}].path`, (e as Error).message);
    }
  }

  add('successComment', checkTemplate(input.successComment ?? '', 'successComment')?.message ?? null);
  return problems;
}
