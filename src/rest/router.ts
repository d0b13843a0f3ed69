/**
 * HelpDeskEddy-compatible REST subset (RUNTIME.md), so that webhook templates written
 * for that product work unchanged — e.g. a sub-ticket posting a comment to its parent.
 * Same services and rules as GraphQL; Basic email:apiKey (or Bearer) auth.
 */
import express, { type Request, type Response, type NextFunction } from 'express';
import type { AppServices } from '../app-services.js';
import { badInput, DomainError, forbidden, unauthenticated } from '../errors.js';
import { authenticate } from '../helpdesk/users.js';
import { addPost, getTicketFor } from '../helpdesk/tickets.js';
import type { Actor } from '../helpdesk/actor.js';
import { User, type Post, type Ticket } from '../db/entities/index.js';

const STATUS_FOR: Record<string, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, NOT_IMPLEMENTED: 501 };

function ticketJson(t: Ticket) {
  return {
    id: Number(t.id),
    title: t.title,
    description: t.description,
    status: t.status,
    priority: t.priority,
    user_id: Number(t.requester.id),
    user_email: t.requester.email,
    owner_id: t.assignee ? Number(t.assignee.id) : null,
    parent_id: t.parent ? Number(t.parent.id) : null,
    custom_fields: t.customFields,
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
      const actor: Actor = { user, automated: req.headers['x-deskhooks-delivery'] !== undefined };
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

  router.get('/tickets/:id', route(async (req, actor, em) => ticketJson(await getTicketFor(em, actor, String(req.params.id)))));
  /** The optional `user_id`: staff may post as another user (an integration posting for an agent). */
  const author = async (req: Request, actor: Actor, em: ReturnType<typeof services.orm.em.fork>): Promise<Actor> => {
    const raw = ((req.body ?? {}) as Record<string, unknown>).user_id;
    if (raw === undefined || raw === null || raw === '') return actor;
    const id = String(raw);
    if (id === actor.user?.id) return actor;
    if (actor.user?.role === 'CLIENT') throw forbidden('a CLIENT posts as itself only (user_id)');
    const user = /^[1-9][0-9]{0,17}$/.test(id) ? await em.findOne(User, { id }) : null;
    if (!user) throw badInput('user_id', `user ${id} not found`);
    return { user, automated: actor.automated };
  };

  router.post('/tickets/:id/comments', route(async (req, actor, em) => postJson(await addPost(em, await author(req, actor, em), String(req.params.id), 'COMMENT', text(req), 'id'))));
  router.post('/tickets/:id/posts', route(async (req, actor, em) => postJson(await addPost(em, await author(req, actor, em), String(req.params.id), 'REPLY', text(req), 'id'))));
  return router;
}
