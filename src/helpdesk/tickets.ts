import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { Post, sqlOf, Ticket, User } from '../db/index.js';
import type { Queryable } from '../queue/index.js';
import { isId, type FieldChange, type FieldProblem, type PostKind, type TicketPriority, type TicketStatus } from '../domain/index.js';
import { badInput, DomainError, forbidden, invalidInput, notFound } from '../errors.js';
import type { Actor } from './actor.js';
import { clientVisibleKeys, clientVisibleValues, convertCustomFieldValues, writableCustomFields } from './custom-fields.js';
import { recordTicketEvent, ticketEventPayload, ticketState } from './events.js';
import { checkText, requireText, TEXT_LIMITS } from './text-input.js';
import { insertTicket, ticketInserter, type InsertedTicket, type NewTicketRow } from './ticket-insert.js';

export interface CreateTicketInput {
  title: string;
  description: string;
  priority?: TicketPriority | null;
  status?: TicketStatus | null;
  requesterId?: string | null;
  assigneeId?: string | null;
  parentId?: string | null;
  customFields?: Record<string, unknown> | null;
}

export interface UpdateTicketInput {
  title?: string | null;
  description?: string | null;
  priority?: TicketPriority | null;
  status?: TicketStatus | null;
  /** null clears the assignee; undefined keeps it */
  assigneeId?: string | null;
  customFields?: Record<string, unknown> | null;
}

const isStaff = (actor: Actor) => actor.user === null || actor.user.role !== 'CLIENT';

async function loadUser(em: EntityManager, id: string, field: string): Promise<User> {
  const user = isId(id) ? await em.findOne(User, { id }) : null;
  if (!user) throw badInput(field, `user ${id} not found`);
  return user;
}

async function loadAssignee(em: EntityManager, id: string, field: string): Promise<User> {
  const user = await loadUser(em, id, field);
  if (user.role === 'CLIENT') throw badInput(field, `user ${id} is a CLIENT; tickets are assigned to AGENT or ADMIN users`);
  return user;
}

/**
 * A ticket the actor may see. A CLIENT sees its own tickets only: another requester's
 * ticket is NOT_FOUND, the same answer as for a ticket that does not exist.
 */
export async function getTicketFor(em: EntityManager, actor: Actor, id: string, field = 'id'): Promise<Ticket> {
  const where = isStaff(actor) ? { id } : { id, requester: actor.user!.id };
  const ticket = isId(id) ? await em.findOne(Ticket, where, { populate: ['requester', 'assignee'] }) : null;
  if (!ticket) throw notFound('ticket', id, field);
  return ticket;
}

/** The tickets a page holds when `first` is absent or null (the query's default for first, and the cost limit's count). */
export const TICKET_PAGE_SIZE = 50;

/** The `first` a page of tickets takes (others are refused naming `first`). */
export const TICKET_PAGE_RANGE = Object.freeze({ min: 0, max: 500 });

/** A page of tickets: `first` (TICKET_PAGE_RANGE) is TICKET_PAGE_SIZE and `offset` 0 when absent or null, so a list is never unbounded. */
export async function listTickets(em: EntityManager, actor: Actor, opts: { status?: TicketStatus | null; first?: number | null; offset?: number | null }): Promise<Ticket[]> {
  const first = opts.first ?? TICKET_PAGE_SIZE;
  const offset = opts.offset ?? 0;
  if (first < TICKET_PAGE_RANGE.min || first > TICKET_PAGE_RANGE.max) throw badInput('first', `must be between ${TICKET_PAGE_RANGE.min} and ${TICKET_PAGE_RANGE.max}`);
  if (offset < 0) throw badInput('offset', 'must not be negative');
  const where: Record<string, unknown> = {};
  if (opts.status) where.status = opts.status;
  if (!isStaff(actor)) where.requester = actor.user!.id;
  return em.find(Ticket, where, { orderBy: { id: 'desc' }, limit: first, offset, populate: ['requester', 'assignee'] });
}

/** How createTicket writes: the service's coalesced insert, and its process's dispatcher (see TicketServiceDeps). */
export interface TicketWriter {
  insert: (row: NewTicketRow) => Promise<InsertedTicket>;
  dispatchHere?: () => Promise<void>;
}

/**
 * `emOf`: the request's EntityManager, or how to get it: it is asked for only when the
 * input names other rows (requester, assignee, parent) or custom fields. `writer`: how the
 * ticket is inserted (absent: on its own, through `em`'s connection).
 */
export async function createTicket(emOf: EntityManager | (() => EntityManager), actor: Actor, input: CreateTicketInput, writer?: TicketWriter): Promise<Ticket> {
  const em = () => (typeof emOf === 'function' ? emOf() : emOf);
  const problems: FieldProblem[] = [];
  const title = input.title.trim();
  if (checkText(problems, 'title', input.title, TEXT_LIMITS.title) && !title) problems.push({ field: 'title', message: 'must not be empty' });
  checkText(problems, 'description', input.description, TEXT_LIMITS.text);
  if (problems.length) throw invalidInput(problems);
  if (!isStaff(actor)) {
    if (input.requesterId != null && input.requesterId !== actor.user!.id) throw forbidden('requesterId: a CLIENT creates tickets for itself only', 'requesterId');
    const staffOnly = (['assigneeId', 'status', 'parentId'] as const).find((key) => input[key] != null);
    if (staffOnly) throw forbidden(`${staffOnly}: a CLIENT cannot set assigneeId, status or parentId`, staffOnly);
  }
  const requester = input.requesterId != null ? await loadUser(em(), input.requesterId, 'requesterId') : actor.user;
  if (!requester) throw badInput('requesterId', 'is required when the system creates a ticket');
  const assignee = input.assigneeId != null ? await loadAssignee(em(), input.assigneeId, 'assigneeId') : null;
  let parent: Ticket | null = null;
  if (input.parentId != null) {
    parent = isId(input.parentId) ? await em().findOne(Ticket, { id: input.parentId }) : null;
    if (!parent) throw badInput('parentId', `ticket ${input.parentId} not found`);
  }
  // a CLIENT sets clientWritable fields only
  const customFields = input.customFields ? convertCustomFieldValues(await writableCustomFields(em(), isStaff(actor) ? 'staff' : 'client'), input.customFields, 'customFields') : {};
  for (const key of Object.keys(customFields)) if (customFields[key] === null) delete customFields[key];
  const fields = { id: '', title, description: input.description, status: input.status ?? 'OPEN', priority: input.priority ?? 'NORMAL', customFields, requester, assignee, parent };
  const payload = ticketEventPayload(actor, { ticket: ticketState(fields) });
  const insert = writer?.insert ?? ((row: NewTicketRow) => insertTicket(sqlOf(em()), row));
  const row = await insert({
    title: fields.title,
    description: fields.description,
    status: fields.status,
    priority: fields.priority,
    requesterId: requester.id,
    assigneeId: assignee?.id ?? null,
    parentId: parent?.id ?? null,
    customFields,
    payload,
    createdAt: new Date(),
  });
  if (payload && writer?.dispatchHere) await writer.dispatchHere();
  // the ticket as inserted, not tracked by `em` (nothing more is written through it)
  return Object.assign(new Ticket(), { ...fields, ...row });
}

export async function updateTicket(em: EntityManager, actor: Actor, id: string, input: UpdateTicketInput): Promise<{ ticket: Ticket; changes: FieldChange[] }> {
  if (!isStaff(actor)) throw forbidden('a CLIENT cannot update tickets; add a reply instead');
  const problems: FieldProblem[] = [];
  if (checkText(problems, 'title', input.title, TEXT_LIMITS.title) && input.title != null && !input.title.trim()) problems.push({ field: 'title', message: 'must not be empty' });
  checkText(problems, 'description', input.description, TEXT_LIMITS.text);
  if (problems.length) throw invalidInput(problems);
  return em.transactional(async (tem) => {
    // A plain FOR UPDATE on the ticket row alone, then its people in a second read: a
    // lock that skips locked rows or covers the requester too would report a ticket as
    // not found while any concurrent transaction holds its row or its requester's (an
    // insert referencing that user is enough), and a webhook's write-back would be lost.
    const ticket = await tem.findOne(Ticket, { id: isId(id) ? id : '0' }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!ticket) throw notFound('ticket', id, 'id');
    await tem.populate(ticket, ['requester', 'assignee']);
    const changes: FieldChange[] = [];
    const set = <K extends 'title' | 'description' | 'status' | 'priority'>(key: K, value: Ticket[K] | null | undefined) => {
      if (value == null || value === ticket[key]) return;
      changes.push({ field: key, old: ticket[key], new: value });
      ticket[key] = value;
    };
    set('title', input.title?.trim());
    set('description', input.description);
    set('status', input.status);
    set('priority', input.priority);
    if (input.assigneeId !== undefined) {
      const assignee = input.assigneeId === null ? null : await loadAssignee(tem, input.assigneeId, 'assigneeId');
      if ((assignee?.id ?? null) !== (ticket.assignee?.id ?? null)) {
        changes.push({ field: 'assignee.email', old: ticket.assignee?.email ?? null, new: assignee?.email ?? null });
        ticket.assignee = assignee;
      }
    }
    if (input.customFields) {
      const converted = convertCustomFieldValues(await writableCustomFields(tem), input.customFields, 'customFields');
      const next = { ...ticket.customFields };
      for (const [key, value] of Object.entries(converted)) {
        const old = next[key] ?? null;
        if (value === null) delete next[key];
        else next[key] = value;
        if (old !== value) changes.push({ field: `custom.${key}`, old, new: value });
      }
      ticket.customFields = next;
    }
    if (changes.length) {
      ticket.updatedAt = new Date();
      recordTicketEvent(tem, actor, ticket.id, 'TICKET_UPDATED', { changes, ticket: ticketState(ticket) });
    }
    await tem.flush();
    return { ticket, changes };
  });
}

export async function addPost(em: EntityManager, actor: Actor, ticketId: string, kind: PostKind, text: string, field = 'ticketId'): Promise<Post> {
  // a caller's text has its limit, and so has a rule's (the dispatcher's postText); the
  // system's own comments (webhook results, cut to the limit where they are made) are not held to it here
  if (actor.user) requireText('text', text, TEXT_LIMITS.text);
  if (!text.trim()) throw badInput('text', 'must not be empty');
  if (kind === 'COMMENT' && !isStaff(actor)) throw forbidden('a CLIENT cannot add internal comments');
  return em.transactional(async (tem) => {
    const ticket = await getTicketFor(tem, actor, ticketId, field);
    const post = tem.create(Post, { ticket, kind, text, author: actor.user, createdAt: new Date() });
    ticket.updatedAt = new Date();
    await tem.flush();
    recordTicketEvent(tem, actor, ticket.id, kind === 'REPLY' ? 'REPLY_ADDED' : 'COMMENT_ADDED', { postId: post.id, ticket: ticketState(ticket) });
    return post;
  });
}

/** Posts of many tickets at once (DataLoader batch), oldest first; CLIENT sees REPLY only. */
export async function postsByTicket(em: EntityManager, ticketIds: readonly string[], clientView: boolean): Promise<Post[][]> {
  const where: Record<string, unknown> = { ticket: { $in: [...ticketIds] } };
  if (clientView) where.kind = 'REPLY';
  const posts = await em.find(Post, where, { orderBy: { createdAt: 'asc', id: 'asc' }, populate: ['author'] });
  const byTicket = new Map<string, Post[]>(ticketIds.map((id) => [id, []]));
  for (const p of posts) byTicket.get(p.ticket.id)?.push(p);
  return ticketIds.map((id) => byTicket.get(id) ?? []);
}

export interface NewPost {
  ticketId: string;
  kind: PostKind;
  text: string;
  /** post as this ADMIN or AGENT user instead of the caller (ADMIN callers only); null or absent: as the caller */
  authorId?: string | null;
}

/** The names the caller's API gives the input fields, for errors (GraphQL: ticketId, authorId). */
export interface PostFieldNames {
  ticketId?: string;
  authorId?: string;
}

/**
 * The actor a post is written as. An ADMIN may post as a staff user (an integration
 * posting for an agent); anyone else naming a user is refused, whichever user it names.
 */
async function postingAs(em: EntityManager, actor: Actor, authorId: string | null | undefined, field: string): Promise<Actor> {
  if (authorId == null) return actor;
  if (actor.user?.role !== 'ADMIN') throw forbidden(`${field}: only an ADMIN may post as another user; you are ${actor.user?.role}`, field);
  if (!isId(authorId)) throw badInput(field, 'must be the id of an ADMIN or AGENT user');
  const user = await em.findOne(User, { id: authorId });
  if (!user) throw badInput(field, `user ${authorId} not found`);
  if (user.role === 'CLIENT') throw badInput(field, `user ${authorId} is a CLIENT; posts are made as an ADMIN or AGENT`);
  return { user, automated: actor.automated };
}

/** Tickets and posts as callers see and change them; every method applies the actor's visibility and rights. */
export interface TicketService {
  /** A ticket the actor may see; NOT_FOUND otherwise (see getTicketFor). */
  get(em: EntityManager, actor: Actor, id: string, field?: string): Promise<Ticket>;
  /**
   * Staff: null for an unknown ticket. A CLIENT: NOT_FOUND both for a missing ticket and
   * for another requester's, so that it cannot tell which ticket ids exist.
   */
  find(em: EntityManager, actor: Actor, id: string): Promise<Ticket | null>;
  /**
   * The ticket with what of it the actor sees: a CLIENT the values of clientVisible fields
   * only, and its parent's id only when the parent is its own ticket as well (null otherwise).
   */
  getWithFields(em: EntityManager, actor: Actor, id: string, field?: string): Promise<{ ticket: Ticket; customFields: Record<string, unknown>; parentId: string | null }>;
  list(em: EntityManager, actor: Actor, opts: { status?: TicketStatus | null; first?: number | null; offset?: number | null }): Promise<Ticket[]>;
  /** See createTicket (`em` may be a function that gives it). */
  create(em: EntityManager | (() => EntityManager), actor: Actor, input: CreateTicketInput): Promise<Ticket>;
  update(em: EntityManager, actor: Actor, id: string, input: UpdateTicketInput): Promise<{ ticket: Ticket; changes: FieldChange[] }>;
  addPost(em: EntityManager, actor: Actor, post: NewPost, fields?: PostFieldNames): Promise<Post>;
  /** Posts of many tickets at once, oldest first; `clientView`: REPLY posts only. */
  postsOf(em: EntityManager, ticketIds: readonly string[], clientView: boolean): Promise<Post[][]>;
}

export interface TicketServiceDeps {
  /** the connection pool single statements go through (faster than the ORM's) */
  db: Queryable;
  /**
   * Hands committed ticket events to the dispatcher of this process, when it runs one (if
   * it is stopping, it has the other processes told before it resolves; it never throws:
   * the events are committed, and the sweep finds them). A ticket created here is then
   * inserted without the notification that wakes the dispatchers of every process: one
   * NOTIFY per ticket queues the commits on the notification lock and wakes every
   * listening connection of the database. `db` must be a pool: the insert is a
   * transaction of its own, so its setting that silences the trigger ends with it.
   */
  dispatchHere?: () => Promise<void>;
}

export function createTicketService(deps: TicketServiceDeps): TicketService {
  const writer: TicketWriter = { insert: ticketInserter(deps.db, deps.dispatchHere !== undefined), dispatchHere: deps.dispatchHere };
  return {
    get: getTicketFor,
    async find(em, actor, id) {
      try {
        return await getTicketFor(em, actor, id);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'NOT_FOUND' && isStaff(actor)) return null;
        throw err;
      }
    },
    async getWithFields(em, actor, id, field) {
      const ticket = await getTicketFor(em, actor, id, field);
      if (isStaff(actor)) return { ticket, customFields: ticket.customFields, parentId: ticket.parent?.id ?? null };
      const customFields = clientVisibleValues(ticket.customFields, await clientVisibleKeys(em));
      const parent = ticket.parent && (await em.count(Ticket, { id: ticket.parent.id, requester: actor.user!.id })) ? ticket.parent.id : null;
      return { ticket, customFields, parentId: parent };
    },
    list: listTickets,
    create: (em, actor, input) => createTicket(em, actor, input, writer),
    update: updateTicket,
    async addPost(em, actor, post, fields = {}) {
      const author = await postingAs(em, actor, post.authorId, fields.authorId ?? 'authorId');
      return addPost(em, author, post.ticketId, post.kind, post.text, fields.ticketId ?? 'ticketId');
    },
    postsOf: postsByTicket,
  };
}
