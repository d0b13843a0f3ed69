/**
 * Builds the allow-listed, plain TemplateContext from the database (habit 8: templates
 * never see ORM entities). One query for the ticket with its people, one for its posts.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Post, Ticket, type User } from '../db/index.js';
import type { PostView, TemplateContext, TicketView, UserView } from './types.js';

export const userView = (u: User | null | undefined): UserView | null =>
  u ? { id: u.id, name: u.name, email: u.email, role: u.role, phone: u.phone, telegramChatId: u.telegramChatId } : null;

export const ticketView = (t: Ticket): TicketView => ({
  id: t.id,
  title: t.title,
  description: t.description,
  status: t.status,
  priority: t.priority,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
  custom: { ...t.customFields },
});

const postView = (p: Post | undefined): PostView | null =>
  p ? { id: p.id, kind: p.kind, text: p.text, createdAt: p.createdAt.toISOString(), author: userView(p.author) } : null;

export interface ContextExtras {
  event?: string | null;
  rule?: { id: string; name: string } | null;
  webhook?: { id: string; name: string } | null;
  temp?: Record<string, unknown>;
  now?: Date;
  /** only posts up to this one (the post that raised the event) count as the "last" posts */
  asOfPostId?: string | null;
}

export async function loadTicketForTemplates(em: EntityManager, ticketId: string): Promise<Ticket | null> {
  return em.findOne(Ticket, { id: ticketId }, { populate: ['requester', 'assignee', 'parent'] });
}

export async function buildTemplateContext(em: EntityManager, ticket: Ticket, extras: ContextExtras = {}): Promise<TemplateContext> {
  // newest first; the three "last" posts come from the newest few of each kind
  const where = extras.asOfPostId ? { ticket: ticket.id, id: { $lte: extras.asOfPostId } } : { ticket: ticket.id };
  const posts = await em.find(Post, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: 50, populate: ['author'] });
  return {
    ticket: ticketView(ticket),
    requester: userView(ticket.requester),
    assignee: userView(ticket.assignee),
    parent: ticket.parent ? ticketView(ticket.parent) : null,
    lastReply: postView(posts.find((p) => p.kind === 'REPLY')),
    lastComment: postView(posts.find((p) => p.kind === 'COMMENT')),
    lastPost: postView(posts[0]),
    event: extras.event ? { type: extras.event } : null,
    rule: extras.rule ?? null,
    webhook: extras.webhook ?? null,
    delivery: null,
    temp: extras.temp ?? {},
    response: null,
    now: (extras.now ?? new Date()).toISOString(),
  };
}
