/**
 * Builds the allow-listed, plain TemplateContext from the database (habit 8: templates
 * never see ORM entities). Set-based: the tickets of a whole batch in one query, the
 * "last" posts of every (ticket, as-of post) pair in another; `contextFrom` assembles
 * one context from them without touching the database.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { sqlOf, Ticket, type User } from '../db/index.js';
import type { Queryable } from '../queue/index.js';
import type { PostKind } from '../domain/index.js';
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

/** A ticket with the people and parent templates show. */
export interface TemplateTicket {
  ticket: TicketView;
  requester: UserView | null;
  assignee: UserView | null;
  parent: TicketView | null;
  parentId: string | null;
}

/** The newest REPLY, COMMENT and post of a ticket, up to a post. */
export interface LastPosts {
  lastReply: PostView | null;
  lastComment: PostView | null;
  lastPost: PostView | null;
}

export const NO_POSTS: LastPosts = { lastReply: null, lastComment: null, lastPost: null };

export interface ContextExtras {
  event?: string | null;
  rule?: { id: string; name: string } | null;
  webhook?: { id: string; name: string } | null;
  temp?: Record<string, unknown>;
  now?: Date;
  /** only posts up to this one (the post that raised the event) count as the "last" posts */
  asOfPostId?: string | null;
  /** where tickets are linked (config publicUrl): ticket.url and parent.url are <publicUrl>/tickets/<id>; without it, empty */
  publicUrl?: string | null;
}

const iso = (v: Date | string) => new Date(v).toISOString();

const USER_COLUMNS = (a: string) =>
  `case when ${a}.id is null then null else json_build_object('id', ${a}.id::text, 'name', ${a}.name, 'email', ${a}.email, 'role', ${a}.role, 'phone', ${a}.phone, 'telegramChatId', ${a}.telegram_chat_id) end`;

const TICKET_COLUMNS = (a: string) =>
  `json_build_object('id', ${a}.id::text, 'title', ${a}.title, 'description', ${a}.description, 'status', ${a}.status, 'priority', ${a}.priority, 'createdAt', ${a}.created_at, 'updatedAt', ${a}.updated_at, 'custom', ${a}.custom_fields)`;

const toTicketView = (j: any): TicketView => ({ ...j, createdAt: iso(j.createdAt), updatedAt: iso(j.updatedAt), custom: { ...(j.custom ?? {}) } });

/** The tickets (with requester, assignee and parent) of the ids in the bigint[] parameter `ids`. */
const templateTicketsSql = (ids: string) =>
  `select t.id::text as id, ${TICKET_COLUMNS('t')} as ticket, ${USER_COLUMNS('r')} as requester, ${USER_COLUMNS('a')} as assignee,
          case when p.id is null then null else ${TICKET_COLUMNS('p')} end as parent, t.parent_id::text as parent_id
     from tickets t
     join users r on r.id = t.requester_id
     left join users a on a.id = t.assignee_id
     left join tickets p on p.id = t.parent_id
    where t.id = any(${ids}::bigint[])`;

function templateTicketsOf(rows: any[]): Map<string, TemplateTicket> {
  const out = new Map<string, TemplateTicket>();
  for (const r of rows) {
    out.set(r.id, {
      ticket: toTicketView(r.ticket),
      requester: r.requester,
      assignee: r.assignee,
      parent: r.parent ? toTicketView(r.parent) : null,
      parentId: r.parent_id,
    });
  }
  return out;
}

/** Key of a (ticket, as-of post) pair in the map loadLastPosts returns. */
export const lastPostsKey = (ticketId: string, asOfPostId: string | null | undefined) => `${ticketId}:${asOfPostId ?? ''}`;

type PostsPair = { ticketId: string; asOfPostId?: string | null };

/**
 * The last posts of every (ticket, as-of post) pair of the bigint[] parameters `tickets`
 * and `asOf`: newest by creation time (then id) among the ticket's posts up to the as-of
 * post (all posts without one).
 */
const lastPostsSql = (tickets: string, asOf: string) =>
  `select k.ticket_id::text as ticket_id, k.as_of::text as as_of, p.slot, p.id::text as id, p.kind, p.text, p.created_at, ${USER_COLUMNS('u')} as author
     from unnest(${tickets}::bigint[], ${asOf}::bigint[]) as k(ticket_id, as_of)
     cross join lateral (
       (select 'lastReply' as slot, * from posts where ticket_id = k.ticket_id and kind = 'REPLY' and (k.as_of is null or id <= k.as_of) order by created_at desc, id desc limit 1)
       union all
       (select 'lastComment', * from posts where ticket_id = k.ticket_id and kind = 'COMMENT' and (k.as_of is null or id <= k.as_of) order by created_at desc, id desc limit 1)
       union all
       (select 'lastPost', * from posts where ticket_id = k.ticket_id and (k.as_of is null or id <= k.as_of) order by created_at desc, id desc limit 1)
     ) p
     left join users u on u.id = p.author_id`;

const uniquePairs = (pairs: readonly PostsPair[]) => [...new Map(pairs.map((p) => [lastPostsKey(p.ticketId, p.asOfPostId), p])).values()];

function lastPostsOf(list: readonly PostsPair[], rows: any[]): Map<string, LastPosts> {
  const out = new Map<string, LastPosts>();
  for (const p of list) out.set(lastPostsKey(p.ticketId, p.asOfPostId), { ...NO_POSTS });
  for (const r of rows) {
    const posts = out.get(lastPostsKey(r.ticket_id, r.as_of))!;
    posts[r.slot as keyof LastPosts] = { id: r.id, kind: r.kind as PostKind, text: r.text, createdAt: iso(r.created_at), author: r.author };
  }
  return out;
}

/** The last posts of every (ticket, as-of post) pair in one query (lastPostsSql). */
export async function loadLastPosts(db: Queryable, pairs: readonly PostsPair[]): Promise<Map<string, LastPosts>> {
  const list = uniquePairs(pairs);
  if (!list.length) return new Map();
  const { rows } = await db.query(lastPostsSql('$1', '$2'), [list.map((p) => p.ticketId), list.map((p) => p.asOfPostId ?? null)]);
  return lastPostsOf(list, rows);
}

/** The tickets (with requester, assignee and parent; missing ids are absent) and the last posts of `pairs` (as loadLastPosts), in one round trip: the dispatcher's batch. */
export async function loadTicketsAndLastPosts(
  db: Queryable,
  ticketIds: readonly string[],
  pairs: readonly PostsPair[],
): Promise<TicketsAndLastPosts> {
  const query = ticketsAndLastPostsQuery(ticketIds, pairs);
  return query.read((await db.query(query.text, query.values)).rows);
}

export interface TicketsAndLastPosts {
  tickets: Map<string, TemplateTicket>;
  lastPosts: Map<string, LastPosts>;
}

/** loadTicketsAndLastPosts's statement, for a caller that sends it itself (in another statement's round trip); `read` takes its rows. */
export function ticketsAndLastPostsQuery(ticketIds: readonly string[], pairs: readonly PostsPair[]): { text: string; values: unknown[]; read: (rows: any[]) => TicketsAndLastPosts } {
  const list = uniquePairs(pairs);
  return {
    text: `select (select coalesce(json_agg(x), '[]'::json) from (${templateTicketsSql('$1')}) x) as tickets,
                  (select coalesce(json_agg(y), '[]'::json) from (${lastPostsSql('$2', '$3')}) y) as posts`,
    values: [[...new Set(ticketIds)], list.map((p) => p.ticketId), list.map((p) => p.asOfPostId ?? null)],
    read: (rows) => ({ tickets: templateTicketsOf(rows[0].tickets), lastPosts: lastPostsOf(list, rows[0].posts) }),
  };
}

/** The ticket with its link (its page in the console) when deskhooks knows where it is reached. */
const linked = (ticket: TicketView, publicUrl: string | null | undefined): TicketView => (publicUrl ? { ...ticket, url: `${publicUrl}/tickets/${ticket.id}` } : ticket);

/** One context from loaded parts; reads neither the database nor the clock (`now` defaults to the call time). */
export function contextFrom(t: TemplateTicket, posts: LastPosts, extras: ContextExtras = {}): TemplateContext {
  return {
    ticket: linked({ ...t.ticket, custom: { ...t.ticket.custom } }, extras.publicUrl),
    requester: t.requester,
    assignee: t.assignee,
    parent: t.parent ? linked(t.parent, extras.publicUrl) : null,
    lastReply: posts.lastReply,
    lastComment: posts.lastComment,
    lastPost: posts.lastPost,
    event: extras.event ? { type: extras.event } : null,
    rule: extras.rule ?? null,
    webhook: extras.webhook ?? null,
    delivery: null,
    temp: extras.temp ?? {},
    response: null,
    now: (extras.now ?? new Date()).toISOString(),
  };
}

export async function loadTicketForTemplates(em: EntityManager, ticketId: string): Promise<Ticket | null> {
  return em.findOne(Ticket, { id: ticketId }, { populate: ['requester', 'assignee', 'parent'] });
}

/** The context of one ticket entity (requester, assignee and parent loaded), its posts read as of `extras.asOfPostId`. */
export async function buildTemplateContext(em: EntityManager, ticket: Ticket, extras: ContextExtras = {}): Promise<TemplateContext> {
  const posts = (await loadLastPosts(sqlOf(em), [{ ticketId: ticket.id, asOfPostId: extras.asOfPostId }])).get(lastPostsKey(ticket.id, extras.asOfPostId)) ?? NO_POSTS;
  const t: TemplateTicket = {
    ticket: ticketView(ticket),
    requester: userView(ticket.requester),
    assignee: userView(ticket.assignee),
    parent: ticket.parent ? ticketView(ticket.parent) : null,
    parentId: ticket.parent?.id ?? null,
  };
  return contextFrom(t, posts, extras);
}
