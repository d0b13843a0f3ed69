/**
 * HelpDeskEddy-compatible REST subset (RUNTIME.md), so that webhook templates written
 * for that product work unchanged — e.g. a sub-ticket posting a comment to its parent.
 * Same services and rules as GraphQL; Basic email:apiKey (or Bearer) auth.
 */
import express, { type Request, type Response, type NextFunction } from 'express';
import type { AppServices } from '../app-services.js';
import { badInput, DomainError, forbidden, unauthenticated } from '../errors.js';
import {
  authenticate,
  findUnstorable,
  addPost,
  getTicketFor,
  clientVisibleKeys,
  clientVisibleValues,
  type Actor,
} from '../helpdesk/index.js';
import { isAttemptInFlight } from '../delivery/index.js';
import { User, type Post, type Ticket } from '../db/index.js';

const STATUS_FOR: Record<string, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, NOT_IMPLEMENTED: 501 };

/**
 * The ticket as `viewer` may see it. A CLIENT only ever gets its own tickets, so the
 * requester's email is its own; its custom fields are the clientVisible ones
 * (`visibleKeys`, null for staff: every field).
 */
function ticketJson(t: Ticket, viewer: User, visibleKeys: ReadonlySet<string> | null) {
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
    parent_id: t.parent ? Number(t.parent.id) : null,
    custom_fields: visibleKeys ? clientVisibleValues(t.customFields, visibleKeys) : t.customFields,
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

export function createRestRouter(services: AppServices): express.Router {
  const router = express.Router({ strict: false });
  router.use(express.json({ limit: '1mb' }), express.urlencoded({ extended: false, limit: '1mb' }));

  type Handler = (req: Request, actor: Actor, em: ReturnType<typeof services.orm.em.fork>) => Promise<unknown>;
  const route = (handler: Handler) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const em = services.orm.em.fork();
      const user = await authenticate(em, req.headers.authorization);
      if (!user) throw unauthenticated();
      // U+0000 or a lone surrogate anywhere in the request: refused before anything runs
      const unstorable = findUnstorable(req.body) ?? findUnstorable(req.query);
      if (unstorable) throw badInput(unstorable.field, unstorable.message);
      // X-Deskhooks-Delivery silences events only when it comes from that attempt's receiver
      const header = req.headers['x-deskhooks-delivery'];
      const actor: Actor = { user, automated: typeof header === 'string' && (await isAttemptInFlight(em, header)) };
      res.json({ data: await handler(req, actor, em) });
    } catch (err) {
      if (err instanceof DomainError) {
        res.status(STATUS_FOR[err.code] ?? 400).json({ errors: [{ code: err.code, message: err.message, field: err.field ?? null }] });
        return;
      }
      next(err);
    }
  };

  const text = (req: Request): string => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    return typeof body.text === 'string' ? body.text : '';
  };

  router.get(
    '/tickets/:id',
    route(async (req, actor, em) => {
      const ticket = await getTicketFor(em, actor, String(req.params.id));
      return ticketJson(ticket, actor.user!, actor.user!.role === 'CLIENT' ? await clientVisibleKeys(em) : null);
    }),
  );
  /**
   * The optional `user_id`: an ADMIN may post as a staff user (an integration posting for
   * an agent). Anyone else sending it is refused, whichever user it names.
   */
  const author = async (req: Request, actor: Actor, em: ReturnType<typeof services.orm.em.fork>): Promise<Actor> => {
    const raw = ((req.body ?? {}) as Record<string, unknown>).user_id;
    if (raw === undefined || raw === null || raw === '') return actor;
    if (actor.user?.role !== 'ADMIN') throw forbidden(`only an ADMIN may post as another user (user_id); you are ${actor.user?.role}`);
    const id = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
    if (!/^[1-9][0-9]{0,17}$/.test(id)) throw badInput('user_id', 'must be the id of an ADMIN or AGENT user');
    const user = await em.findOne(User, { id });
    if (!user) throw badInput('user_id', `user ${id} not found`);
    if (user.role === 'CLIENT') throw badInput('user_id', `user ${id} is a CLIENT; posts are made as an ADMIN or AGENT`);
    return { user, automated: actor.automated };
  };

  router.post('/tickets/:id/comments', route(async (req, actor, em) => postJson(await addPost(em, await author(req, actor, em), String(req.params.id), 'COMMENT', text(req), 'id'))));
  router.post('/tickets/:id/posts', route(async (req, actor, em) => postJson(await addPost(em, await author(req, actor, em), String(req.params.id), 'REPLY', text(req), 'id'))));
  return router;
}
