/**
 * A HelpDeskEddy-compatible REST subset, so that webhook templates written for that
 * product work unchanged — e.g. a sub-ticket posting a comment to its parent. The same
 * services as GraphQL (src/app-services.ts); Basic email:apiKey (or Bearer) auth.
 */
import { isUtf8 } from 'node:buffer';
import express, { type Request, type Response, type NextFunction } from 'express';
import type { AppServices } from '../app-services.js';
import { badInput, DomainError, forbidden, unauthenticated } from '../errors.js';
import { findUnstorable, requireUtf8Body, type Actor } from '../helpdesk/index.js';
import type { PostKind } from '../domain/index.js';
import type { Post, Ticket, User } from '../db/index.js';

const STATUS_FOR: Record<string, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, NOT_IMPLEMENTED: 501 };

/**
 * The ticket as `viewer` may see it, with the custom-field values and the parent the
 * service let it see. A CLIENT only ever gets its own tickets, so the requester's email is its own.
 */
function ticketJson(t: Ticket, { customFields, parentId }: { customFields: Record<string, unknown>; parentId: string | null }, viewer: User) {
  const client = viewer.role === 'CLIENT';
  return {
    id: Number(t.id),
    title: t.title,
    description: t.description,
    status: t.status,
    priority: t.priority,
    user_id: Number(t.requester.id),
    user_email: client && t.requester.id !== viewer.id ? null : t.requester.email,
    owner_id: t.assignee ? Number(t.assignee.id) : null,
    parent_id: parentId ? Number(parentId) : null,
    custom_fields: customFields,
    date_created: t.createdAt.toISOString(),
    date_updated: t.updatedAt.toISOString(),
  };
}

function postJson(p: Post) {
  return {
    id: Number(p.id),
    ticket_id: Number(p.ticket.id),
    type: p.kind === 'REPLY' ? 'post' : 'comment',
    text: p.text,
    user_id: p.author ? Number(p.author.id) : null,
    date_created: p.createdAt.toISOString(),
  };
}

/**
 * An id as the subset reads it (the ticket in the path, `user_id` in a body): the subset's
 * ids are whole numbers (its JSON gives them as numbers), and a whole number is read by its
 * value, however it is written — a JSON number (2, 2.0) or decimal digits in a path, form
 * field or JSON string, with spaces around them or leading zeros (" 2 ", "01"). Anything
 * else is refused naming `field`. A number that names no row is the service's to answer.
 */
function restId(value: unknown, field: string, what: string): string {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return String(value);
    // past 2^53 a JSON number is read as a neighbour of the one sent: not an id to act on
    if (Number.isInteger(value) && value > 0) throw badInput(field, `must be ${what} id; a JSON number past 2^53 is not read exactly: send it as a string of digits`);
    throw badInput(field, `must be ${what} id, a positive whole number; got ${JSON.stringify(value)}`);
  }
  const digits = typeof value === 'string' ? /^\s*(\d+)(?:\.0*)?\s*$/.exec(value)?.[1] : undefined;
  if (digits !== undefined && /[1-9]/.test(digits)) return digits.replace(/^0+/, '');
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  throw badInput(field, `must be ${what} id, a positive whole number such as 2; got ${shown}`);
}

/** The schemes a 401 of the subset challenges for: Basic email:apiKey (UTF-8) and Bearer apiKey. */
const AUTH_CHALLENGES = ['Basic realm="deskhooks", charset="UTF-8"', 'Bearer realm="deskhooks"'];

/**
 * The other site whose page sent this request from a browser, or null. A browser attaches
 * Basic credentials it remembers (a 401's challenge, a user:key@ URL) to any page's form
 * posted here, so such a request is refused: the subset serves integrations, whose
 * requests carry no Origin of another host (nor Sec-Fetch-Site cross-site or same-site).
 */
function otherSite(req: Request): string | null {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      // "null" (a sandboxed or file: page) or no URL: another site
    }
    if (host !== req.headers.host) return origin;
  }
  return site === 'cross-site' || site === 'same-site' ? `a ${site} page` : null;
}

const BODY_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

/** A body in a format the subset does not read: answered 415, in the error shape of BAD_USER_INPUT. */
class UnreadableBodyError extends DomainError {
  constructor(message: string) {
    super('BAD_USER_INPUT', message);
  }
}

/**
 * Refuses a body in a format the subset does not read (text/plain, multipart, none named):
 * left unread, it would pass for a body without `text`.
 */
function requireReadableBody(req: Request): void {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody || req.is(BODY_TYPES)) return;
  const type = req.headers['content-type'];
  const given = type ? `Content-Type ${JSON.stringify(type)}` : 'no Content-Type';
  throw new UnreadableBodyError(`the request body has ${given}: send JSON (application/json) or form fields (application/x-www-form-urlencoded)`);
}

/**
 * Refuses a JSON body that is not an object (a list, a string, a number, null, true): the
 * fields are read from an object, so any other would pass for a body without `text`.
 * No body at all (req.body unset) is judged by its fields, as an empty one.
 */
function requireObjectBody(req: Request): void {
  const body: unknown = req.body;
  if (body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body))) return;
  const is = body === null ? 'null' : Array.isArray(body) ? 'a list' : `a ${typeof body}`;
  throw badInput('body', `must be a JSON object such as {"text": "…"}, not ${is}`);
}

/** The raw bytes of a form body, kept by the form parser for formValueNotUtf8. */
const FORM_BYTES = Symbol('form bytes');
type WithFormBytes = Request & { [FORM_BYTES]?: Buffer };

/**
 * A form field whose value is not UTF-8 once percent-decoded (`text=%CF%F0%E8`, Windows-1251):
 * the form parser would keep such a value as its percent-encoded text, and that text is not
 * what was sent. Form fields are read as UTF-8 (a body declaring another charset is refused
 * by the parser); a `%` not followed by two hex digits stays literal, as the parser keeps it.
 */
function formValueNotUtf8(body: Buffer): { field: string; message: string } | null {
  const decode = (part: string) => Buffer.from(part.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  for (const pair of body.toString('latin1').split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (isUtf8(decode(name)) && isUtf8(decode(value))) continue;
    const field = isUtf8(decode(name)) ? decode(name).toString('utf8') : name;
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    return { field, message: `is not UTF-8 text once percent-decoded (${JSON.stringify(shown)}); send form fields in UTF-8, e.g. %D0%9F for "П"` };
  }
  return null;
}

/**
 * The form parser's `verify`: keeps the bytes for formValueNotUtf8, and refuses a form that
 * declares another charset than UTF-8 (the parser would decode ISO-8859-1 itself, so UTF-8
 * bytes sent under that label would be stored as mojibake: "café" as "cafÃ©").
 */
function readFormBytes(req: Request, _res: unknown, body: Buffer, encoding: string): void {
  if (!/^utf-?8$/i.test(encoding)) throw Object.assign(new Error(`unsupported charset "${encoding.toUpperCase()}": send form fields in UTF-8`), { status: 415 });
  (req as WithFormBytes)[FORM_BYTES] = body;
}

/**
 * Every answer of the subset, success or error, holds tickets, users or what is known of
 * them: no browser or proxy may keep it.
 */
function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store');
  next();
}

/** The caller, once authenticate has let the request through. */
const ACTOR = Symbol('actor');
type KnownActor = Actor & { user: User };
type WithActor = Request & { [ACTOR]?: KnownActor };

/** A refusal of the subset in its error shape; anything else is the app's error handler's. */
function answerError(err: unknown, res: Response, next: NextFunction): void {
  if (!(err instanceof DomainError)) return next(err);
  // a 401 names the schemes it takes: clients that send credentials only when challenged (curl --anyauth, urllib, .NET, Java) send them then
  if (err.code === 'UNAUTHENTICATED') res.set('WWW-Authenticate', AUTH_CHALLENGES);
  res.status(err instanceof UnreadableBodyError ? 415 : (STATUS_FOR[err.code] ?? 400)).json({ errors: [{ code: err.code, message: err.message, field: err.field ?? null }] });
}

export function createRestRouter(services: AppServices): express.Router {
  const router = express.Router({ strict: false });
  // first: the errors answered further on (body parser, path decoding, the app's error handler) keep it
  router.use(noStore);

  /**
   * A browser page of another site is refused (403), then a caller without valid
   * credentials (401): both before the body is read, so that only a known caller makes the
   * server read and parse one.
   */
  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    try {
      const site = otherSite(req);
      if (site) throw forbidden(`a browser page of another site (${site}) may not call the REST subset: it would act with the credentials the browser remembers`);
      const header = req.headers['x-deskhooks-delivery'];
      const actor = await services.users.identify(req.headers.authorization, typeof header === 'string' ? header : undefined);
      if (!actor.user) throw unauthenticated();
      (req as WithActor)[ACTOR] = { ...actor, user: actor.user };
      next();
    } catch (err) {
      answerError(err, res, next);
    }
  };
  const readBody = [
    // strict: false lets a string, a number or null through to requireObjectBody, which names the body
    express.json({ limit: '1mb', strict: false, verify: requireUtf8Body }),
    express.urlencoded({ extended: false, limit: '1mb', verify: readFormBytes }),
  ];

  type Handler = (req: Request, actor: KnownActor, em: ReturnType<typeof services.orm.em.fork>) => Promise<unknown>;
  /** The handler of an authenticated request (after authenticate, and readBody where it takes one). */
  const route = (handler: Handler) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const actor = (req as WithActor)[ACTOR]!;
      const em = services.orm.em.fork();
      em.merge(actor.user);
      // a form value that is not UTF-8, U+0000 or a lone surrogate anywhere in the request: refused before anything runs
      const formBytes = (req as WithFormBytes)[FORM_BYTES];
      const unstorable = (formBytes && formValueNotUtf8(formBytes)) || findUnstorable(req.body) || findUnstorable(req.query);
      if (unstorable) throw badInput(unstorable.field, unstorable.message);
      res.json({ data: await handler(req, actor, em) });
    } catch (err) {
      answerError(err, res, next);
    }
  };

  /** The body's `text`: absent is empty (refused as such); any other type than a string is refused as one. */
  const text = (req: Request): string => {
    const value = ((req.body ?? {}) as Record<string, unknown>).text;
    if (value === undefined || value === null) return '';
    if (typeof value !== 'string') throw badInput('text', `must be a string, not ${Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`}`);
    return value;
  };

  router.get(
    '/tickets/:id',
    authenticate,
    route(async (req, actor, em) => {
      const { ticket, ...seen } = await services.tickets.getWithFields(em, actor, restId(req.params.id, 'id', 'a ticket'), 'id');
      return ticketJson(ticket, seen, actor.user);
    }),
  );

  /**
   * The optional `user_id` names the staff user to post as. Only an ADMIN may send one: the
   * service refuses anyone else (403) whatever it holds, so only an ADMIN's value is read.
   */
  const authorId = (req: Request, actor: Actor): string | null => {
    const raw = ((req.body ?? {}) as Record<string, unknown>).user_id;
    if (raw === undefined || raw === null || raw === '') return null;
    if (actor.user?.role !== 'ADMIN') return String(raw);
    return restId(raw, 'user_id', 'a user');
  };
  // the caller is known before its body is read or its format judged (401 first, as for every request)
  const post = (kind: PostKind) => [
    authenticate,
    ...readBody,
    route(async (req, actor, em) => {
      requireReadableBody(req);
      requireObjectBody(req);
      return postJson(await services.tickets.addPost(em, actor, { ticketId: restId(req.params.id, 'id', 'a ticket'), kind, text: text(req), authorId: authorId(req, actor) }, { ticketId: 'id', authorId: 'user_id' }));
    }),
  ];
  router.post('/tickets/:id/comments', ...post('COMMENT'));
  router.post('/tickets/:id/posts', ...post('REPLY'));
  // a path of the subset asked with another method: 405 naming the methods it takes (OPTIONS: 204 with them)
  for (const [path, allowed] of [['/tickets/:id', 'GET, HEAD'], ['/tickets/:id/comments', 'POST'], ['/tickets/:id/posts', 'POST']] as const) {
    router.all(path, (req, res) => {
      res.set('Allow', `${allowed}, OPTIONS`);
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
      const message = `${req.method} is not allowed on /api/v2${req.path}: it takes ${allowed.replace(', HEAD', '')}`;
      res.status(405).json({ errors: [{ code: 'METHOD_NOT_ALLOWED', message, field: null }] });
    });
  }
  router.use(restNotFound);
  return router;
}

/**
 * Anything else under /api (another version, another path) is answered in the subset's
 * error shape, naming the subset's paths, not with express's HTML page.
 */
export function restNotFound(req: Request, res: Response): void {
  res.set('Cache-Control', 'no-store');
  const message = `${req.method} ${req.baseUrl}${req.path} is not part of the REST subset: GET /api/v2/tickets/{id}/, POST /api/v2/tickets/{id}/comments/ and POST /api/v2/tickets/{id}/posts/`;
  res.status(404).json({ errors: [{ code: 'NOT_FOUND', message, field: null }] });
}
