/**
 * Handles a claimed batch of ticket events set-based, in one transaction:
 *
 *  1. mark the batch's events processed, which locks them (a process that took them over
 *     after an expired lease waits here, then finds them processed), and read the
 *     definitions' version;
 *  2. load everything the batch needs in two queries: its tickets with their people, and
 *     the last posts of each (ticket, post that raised the event) pair (and a third when a
 *     rule has a time condition: the ticket's clocks as of each event, clocks.ts);
 *  3. judge each event purely (evaluate.ts) against the ticket as recorded with it;
 *  4. run the matched rules' actions in event order: sending webhooks and adding posts are
 *     buffered and written with one statement per table at the end; an action that changes
 *     ticket fields runs through the helpdesk (actions.ts) after the buffer is written, and
 *     the ticket's later events in the batch then run that way too, so each sees the
 *     changes of the ones before;
 *  5. commit: the events' mark and everything they caused, or nothing — and, when the
 *     dispatcher offers it, the claim of its next batch (processor.ts NextClaim).
 *
 * Each ticket's events run in id order. An event whose ticket has an earlier unprocessed
 * event outside the batch (claimed by another process) waits for it: its lease is
 * shortened and it comes back in a later batch. Actions that fail become internal
 * comments and the other actions and events go on; a batch that fails as a whole (a
 * database error) is handled again one event per transaction, so one bad event cannot
 * hold back the others — unless the database is out of reach: then the batch fails as a
 * whole (the dispatcher takes it again once the database answers, processor.ts).
 *
 * The transaction runs on a plain connection of the pool (`transactions`) when the
 * definitions of its version are cached and every action it runs is buffered; otherwise
 * (or when that is found out midway: it rolls back) it runs through an EntityManager, which
 * loads the definitions and runs the helpdesk's actions. On a plain (pipelining)
 * connection a batch of buffered actions is two round trips: `begin` with the mark, the
 * load and ids for the posts its rules may add (what to read is known from the claim), then
 * the buffer's writes with the next claim and `commit`.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { cancelledOnAbort, connectionLost, sqlOf, statementCancelled, type CancelStatement, type Statement } from '../db/index.js';
import type { Queryable } from '../queue/index.js';
import type { Transactions } from '../db/index.js';
import type { Logger } from '../log.js';
import { webhookOffMessage, type DeliveryDraft, type DeliveryService } from '../delivery/index.js';
import {
  compileTemplate,
  contextFrom,
  escapeText,
  lastPostsKey,
  loadTicketsAndLastPosts,
  NO_POSTS,
  ticketsAndLastPostsQuery,
  type LastPosts,
  type TicketsAndLastPosts,
  type PostView,
  type TemplateContext,
  type TemplateTicket,
} from '../templates/index.js';
import type { Continuation, FieldChange, PostKind, TicketClocks, TicketEventType, TicketSnapshot } from '../domain/index.js';
import type { TicketState } from '../helpdesk/index.js';
import { evaluate } from './evaluate.js';
import { loadClocks } from './clocks.js';
import { isTimeField } from './fields.js';
import { actionFailure, continuationAfter, originOf, postText, runActions, type ActionRun } from './actions.js';
import type { DefinitionCache, Definitions } from './definitions.js';
import { DispatchStopped, type ClaimedEvent, type EventHandler, type HandledBatch, type NextClaim } from './processor.js';

/** An event handled this often without being marked processed is given up (logged). */
export const MAX_TRIES = 5;

/** How soon an event waiting for an earlier event of its ticket is claimable again. */
export const WAIT_FOR_EARLIER_MS = 1_000;

/** The actions a batch runs from its buffer; any other action runs through the helpdesk. */
const BUFFERED_ACTIONS = new Set(['SEND_WEBHOOK', 'ADD_COMMENT', 'ADD_REPLY']);

export interface BatchHandlerOptions {
  orm: MikroORM;
  /** transactions on a plain connection; without them every batch runs through the ORM */
  transactions?: Transactions;
  deliveries: DeliveryService;
  definitions: DefinitionCache;
  log: Logger;
  clock?: () => Date;
  /**
   * Cancels the statement of a batch's session when the dispatcher stops (one waiting on a
   * lock another session holds): the batch rolls back at once and its events are given back.
   * Without it a stop waits for that statement.
   */
  cancelStatement?: CancelStatement;
  /** called once a batch that queued deliveries has committed, or may have (its connection lost with the commit under way): the worker of this process starts at once; others hear the NOTIFY */
  deliveriesQueued?: () => void;
}

interface EventRow {
  id: string;
  kind: 'EVENT' | 'CONTINUATION';
  ticket_id: string;
  type: TicketEventType;
  payload: any;
  tries: number;
  /** a Date on the plain connection, text through the ORM's */
  created_at: Date | string;
  version: string;
}

interface EventPayload {
  changes?: FieldChange[];
  postId?: string;
  ticket?: TicketState;
  /** TIMER: the rule whose timer raised it */
  ruleId?: string;
}

export function batchEventHandler(opts: BatchHandlerOptions): EventHandler {
  const clock = opts.clock ?? (() => new Date());
  return {
    async handle(events, signal, next) {
      try {
        return await handleBatch(opts, clock, events, signal, next);
      } catch (err) {
        // the database out of reach is no event's fault: one at a time would only wait for
        // a connection once per event; a batch given up at stop is no failure
        if (events.length === 1 || connectionLost(err) || err instanceof DispatchStopped) throw err;
        opts.log.error(`a batch of ${events.length} ticket events failed; handling them one at a time`, err);
        const handled: HandledBatch = { waiting: 0 };
        for (const event of events) {
          try {
            handled.waiting += (await handleBatch(opts, clock, [event], signal)).waiting;
          } catch (e) {
            if (connectionLost(e) || e instanceof DispatchStopped) throw e;
            opts.log.error(`ticket event ${event.id} failed; it is retried`, e);
          }
        }
        return handled;
      }
    },
  };
}

/**
 * Statements on `db` once `signal` has aborted are not sent: the batch is given up
 * (DispatchStopped) rather than wait on a lock. The refusal is thrown at the call, not
 * later: a write sent without being waited for (BatchRun.flush) that was refused must
 * stop the transaction before its commit is sent.
 */
function stopsWith(db: Queryable, signal: AbortSignal | undefined): Queryable {
  if (!signal) return db;
  return {
    query(text, values) {
      if (signal.aborted) throw new DispatchStopped();
      return db.query(text, values);
    },
  };
}

/** Thrown inside a plain transaction that turns out to need an EntityManager: it rolls back and the batch runs through the ORM. */
class NeedsEntityManager extends Error {}

async function handleBatch(opts: BatchHandlerOptions, clock: () => Date, claimed: readonly ClaimedEvent[], signal?: AbortSignal, next?: NextClaim): Promise<HandledBatch> {
  let handled: BatchOutcome | null = null;
  let nextClaimed: ClaimedEvent[] | undefined;
  const now = clock();
  const mark: Mark = { ids: claimed.map((e) => e.id), now };
  // a stop cancels the statement the batch's session runs: one waiting on a lock does not hold the stop back
  const cancelledAtStop = (session: number) =>
    opts.log.info(`stopping: cancelling the statement of the dispatcher's batch (PostgreSQL session ${session}); unless its commit is already under way, the batch rolls back and its ${claimed.length} ticket events are given back`);
  const stoppable = <T>(session: number | null, work: () => Promise<T>) => cancelledOnAbort(signal, session, opts.cancelStatement, cancelledAtStop, work);
  try {
    if (opts.transactions) {
      // the mark, and the load of what the claim says the batch needs, go with `begin`; the next claim with `commit`
      const preload = preloadOf(claimed, opts.definitions.latest());
      handled = await opts
        .transactions(
          (db, [marked, ...preloaded]) => runBatch(opts, clock, mark, stopsWith(db, signal), null, signal, marked!.rows as EventRow[], preload?.read(preloaded)),
          {
            withBegin: [{ text: MARK_SQL, values: [mark.ids, now] }, ...(preload?.statements ?? [])],
            withCommit: next && { statement: () => next.statement(), read: (r) => void (nextClaimed = next.read(r.rows)) },
            stop: signal && opts.cancelStatement && { signal, cancel: opts.cancelStatement, cancelled: cancelledAtStop },
          },
        )
        .catch((err) => {
          if (err instanceof NeedsEntityManager) return null;
          throw err;
        });
    }
    handled ??= await opts.orm.em.fork().transactional(async (em) => {
      const db = stopsWith(sqlOf(em), signal);
      const session = signal && opts.cancelStatement ? Number((await db.query('select pg_backend_pid() as pid')).rows[0].pid) : null;
      return stoppable(session, () => runBatch(opts, clock, mark, db, em, signal));
    });
  } catch (err) {
    // the statement the stop cancelled: the batch was given up, no failure of its events
    if (signal?.aborted && statementCancelled(err)) throw new DispatchStopped();
    // the connection lost with the commit under way: it may have committed deliveries, whose
    // notification this process's worker does not wait for (src/main.ts); a claim for nothing otherwise
    if (connectionLost(err)) opts.deliveriesQueued?.();
    throw err;
  }
  for (const line of handled.givenUp) opts.log.error(line);
  if (handled.queued) opts.deliveriesQueued?.();
  return { waiting: handled.waiting, next: nextClaimed };
}

/** What a batch read in the mark's round trip, before its events were marked. */
interface Preloaded {
  /** the events it was read for */
  events: ReadonlySet<string>;
  /** their tickets and last posts */
  loaded: TicketsAndLastPosts;
  /** ids for the posts their rules add (ADD_COMMENT, ADD_REPLY), taken from the posts' sequence */
  postIds: string[];
}

/**
 * At most this many post ids are taken with the mark (the count is an upper bound: ids not
 * used are gaps in the posts' ids); a batch that adds more takes the rest 16 at a time as it
 * goes (addPost).
 */
const MAX_POST_IDS_WITH_MARK = 64;

/**
 * What to read with the mark, from what the claim read of the events: the tickets and last
 * posts of those the cached rules listen to (the batch loads again when the definitions of
 * its version listen to others, runBatch), and ids for as many posts as those rules' post
 * actions could add. Null when there is nothing to read that way.
 */
function preloadOf(claimed: readonly ClaimedEvent[], defs: Definitions | null): { statements: Statement[]; read: (results: readonly { rows: any[] }[]) => Preloaded } | null {
  // none cached: the batch loads its definitions, and then its tickets, through the ORM
  if (!defs) return null;
  const listened = new Set(defs.rules.flatMap((r) => r.events));
  const events = claimed.filter((e) => e.seen && (e.seen.kind === 'CONTINUATION' || listened.has(e.seen.type as TicketEventType)));
  if (!events.length) return null;
  const query = ticketsAndLastPostsQuery(
    events.map((e) => e.ticketId),
    events.map((e) => ({ ticketId: e.ticketId, asOfPostId: e.seen!.asOfPostId })),
  );
  // an upper bound: every rule that listens to the event matching (a continuation's posts are taken as it goes)
  const postActions = new Map<string, number>();
  for (const r of defs.rules) {
    const n = r.actions.filter((a) => a.type === 'ADD_COMMENT' || a.type === 'ADD_REPLY').length;
    for (const type of r.events) postActions.set(type, (postActions.get(type) ?? 0) + n);
  }
  const posts = Math.min(
    MAX_POST_IDS_WITH_MARK,
    events.reduce((n, e) => n + (e.seen!.kind === 'EVENT' ? (postActions.get(e.seen!.type) ?? 0) : 0), 0),
  );
  const statements: Statement[] = [{ text: query.text, values: query.values }];
  if (posts) statements.push({ text: RESERVE_POST_IDS_SQL, values: [posts] });
  return {
    statements,
    read: ([loaded, reserved]) => ({
      events: new Set(events.map((e) => e.id)),
      loaded: query.read(loaded!.rows),
      postIds: reserved ? reserved.rows.map((r) => r.id as string) : [],
    }),
  };
}

/** Ids for $1 posts from the posts' sequence. */
const RESERVE_POST_IDS_SQL = `select nextval('posts_id_seq')::text as id from generate_series(1, $1::int)`;

interface BatchOutcome extends HandledBatch {
  queued: number;
  /** log lines of events given up (written once the batch committed) */
  givenUp: string[];
}

/**
 * Marks the events ($1) processed at $2; returns them with the definitions' version. The
 * update locks them (a process that took them over after an expired lease waits here,
 * then finds them processed) and the mark commits with everything they cause. An event
 * waits while an earlier event of its ticket, outside the batch, is unprocessed.
 */
const MARK_SQL = `with batch as (
       update ticket_events t set processed_at = $2, locked_until = null
        where t.id = any($1::bigint[]) and t.processed_at is null
          and not exists (select 1 from ticket_events e
                           where e.ticket_id = t.ticket_id and e.processed_at is null and e.id < t.id and e.id <> all($1::bigint[]))
        returning t.id, t.kind, t.ticket_id, t.type, t.payload, t.tries, t.created_at
     )
     select b.id::text as id, b.kind, b.ticket_id::text as ticket_id, b.type, b.payload, b.tries, b.created_at,
            (select version::text from dispatch_definitions where id = 1) as version
       from batch b
      order by b.id`;

/** The claimed events and the time they are marked processed. */
interface Mark {
  ids: string[];
  now: Date;
}

/**
 * The batch in the transaction of `db`; `em` (on the same transaction) runs what is not
 * buffered, or null: NeedsEntityManager then. `marked`: MARK_SQL's rows when the mark
 * already ran in this transaction.
 */
async function runBatch(
  opts: BatchHandlerOptions,
  clock: () => Date,
  { ids, now }: Mark,
  db: Queryable,
  em: EntityManager | null,
  signal?: AbortSignal,
  marked?: EventRow[],
  preloaded?: Preloaded | null,
): Promise<BatchOutcome> {
  const events = marked ?? ((await db.query(MARK_SQL, [ids, now])).rows as EventRow[]);
  let waiting = 0;
  if (events.length < ids.length) {
    const taken = new Set(events.map((e) => e.id));
    const rest = ids.filter((id) => !taken.has(id));
    const { rows: held } = await db.query(
      // waiting is not a try: the claim's count is taken back
      `update ticket_events set locked_until = $2, tries = greatest(tries - 1, 0) where id = any($1::bigint[]) and processed_at is null returning id`,
      [rest, new Date(now.getTime() + WAIT_FOR_EARLIER_MS)],
    );
    waiting = held.length;
  }
  const work: EventRow[] = [];
  const givenUp: string[] = [];
  for (const e of events) {
    if (e.tries > MAX_TRIES) givenUp.push(`ticket event ${e.id} (${e.type} on ticket ${e.ticket_id}) failed ${MAX_TRIES} times; giving up on it`);
    else work.push(e);
  }
  let queued = 0;
  if (work.length) {
    const version = events[0]!.version;
    const defs = em ? await opts.definitions.get(em, version) : opts.definitions.cached(version);
    if (!defs) throw new NeedsEntityManager();
    // an event no enabled rule listens to needs nothing loaded: it is only marked
    const listened = new Set(defs.rules.flatMap((r) => r.events));
    const relevant = work.filter((e) => e.kind === 'CONTINUATION' || listened.has(e.type));
    if (relevant.length) {
      const run = new BatchRun(opts, db, defs, clock, signal, preloaded?.postIds);
      await run.load(relevant, preloaded && relevant.every((e) => preloaded.events.has(e.id)) ? preloaded.loaded : null);
      for (const e of relevant) {
        // a stop gives the batch up (rolled back) rather than wait for the rest of it
        if (signal?.aborted) throw new DispatchStopped();
        await run.event(em, e);
      }
      // on a plain connection the last statements go with the commit (Transactions): sent, not
      // waited for here; a stop meanwhile gives the batch up before they are sent
      if (signal?.aborted) throw new DispatchStopped();
      const written = run.flush();
      if (em) await written;
      else written.catch(() => {});
      queued = run.queued;
    }
  }
  return { waiting, queued, givenUp };
}

/** A ticket as the batch sees it: loaded once, with the posts the batch added to it. */
interface TicketInBatch {
  loaded: TemplateTicket;
  /** posts added by this batch, oldest first (newer than every loaded post) */
  added: PostView[];
  /** changed through the helpdesk in this batch: its later events run that way too */
  changedFields: boolean;
}

interface BufferedPost {
  id: string;
  ticketId: string;
  kind: PostKind;
  text: string;
  createdAt: Date;
}

const asOfOf = (e: EventRow): string | null =>
  e.kind === 'CONTINUATION' ? ((e.payload as Continuation).asOfPostId ?? null) : ((e.payload as EventPayload).postId ?? null);

class BatchRun {
  private readonly tickets = new Map<string, TicketInBatch>();
  private lastPosts = new Map<string, LastPosts>();
  /** the clocks time conditions read, by event id (only when a rule has a time condition) */
  private clocks = new Map<string, TicketClocks>();
  private posts: BufferedPost[] = [];
  private drafts: DeliveryDraft[] = [];
  private touched = new Map<string, Date>();
  private reservedPostIds: string[];
  /** deliveries written so far */
  queued = 0;

  /** `postIds`: ids already taken for the batch's posts (with its mark) */
  constructor(
    private readonly opts: BatchHandlerOptions,
    private readonly db: Queryable,
    private readonly defs: Definitions,
    private readonly clock: () => Date,
    private readonly signal?: AbortSignal,
    postIds: readonly string[] = [],
  ) {
    this.reservedPostIds = [...postIds];
  }

  /** `loaded`: what was loaded for these events with their mark, or null */
  async load(events: readonly EventRow[], loaded: TicketsAndLastPosts | null): Promise<void> {
    const { tickets, lastPosts } =
      loaded ??
      (await loadTicketsAndLastPosts(
        this.db,
        events.map((e) => e.ticket_id),
        events.map((e) => ({ ticketId: e.ticket_id, asOfPostId: asOfOf(e) })),
      ));
    for (const [id, loaded] of tickets) this.tickets.set(id, { loaded, added: [], changedFields: false });
    this.lastPosts = lastPosts;
    if (this.defs.rules.some((r) => r.conditions.some((c) => isTimeField(c.field)))) {
      // a TIMER is judged as of its handling, yet never before its firing (its time, by the
      // clock of the process that fired it, which may run ahead of this one's); any other event as of itself
      const now = this.clock().getTime();
      const asOf = (e: EventRow) => new Date(e.type === 'TIMER' ? Math.max(now, new Date(e.created_at).getTime()) : e.created_at);
      this.clocks = await loadClocks(this.db, events.filter((e) => e.kind === 'EVENT').map((e) => ({ key: e.id, ticketId: e.ticket_id, at: asOf(e) })));
    }
  }

  async event(em: EntityManager | null, e: EventRow): Promise<void> {
    const ticket = this.tickets.get(e.ticket_id);
    if (!ticket) return; // deleted meanwhile
    const asOfPostId = asOfOf(e);
    const runs = this.runsOf(e, ticket, asOfPostId);
    if (!runs.length) {
      // an awaited answer came for a rule no longer enabled: the ticket says that its run stopped there
      if (e.kind === 'CONTINUATION') await this.addPost(ticket, 'COMMENT', continuationStopped(e.payload as Continuation));
      return;
    }
    const buffered = !ticket.changedFields && runs.every((r) => r.rule.actions.slice(r.from).every((a) => BUFFERED_ACTIONS.has(a.type)));
    if (buffered) {
      for (const r of runs) await this.runBuffered(ticket, r);
      return;
    }
    if (!em) throw new NeedsEntityManager();
    // through the helpdesk, which reads the database: it must see what the batch wrote so far
    await this.flush();
    for (const r of runs) await runActions(em, { deliveries: this.opts.deliveries, signal: this.signal }, r);
    await em.flush();
    // nothing loaded is kept for the next event (its actions read what they change afresh): a
    // flush compares the entities it manages, so one per event would grow with the batch
    em.clear();
    ticket.changedFields = true;
  }

  /** The rule runs an event starts: the matched rules, or the rest of an awaited rule. */
  private runsOf(e: EventRow, ticket: TicketInBatch, asOfPostId: string | null): ActionRun[] {
    // the event each run comes from (its deliveries' ids derive from it: DeliveryOrigin)
    const ofEvent = { eventId: e.id, eventAt: new Date(e.created_at), ticketId: e.ticket_id };
    if (e.kind === 'CONTINUATION') {
      const c = e.payload as Continuation;
      // goes on only while the rule is enabled (disabled or deleted meanwhile: it stops), with
      // the actions the run had (an edit meanwhile does not shift what comes next)
      const rule = this.defs.rules.find((r) => r.id === c.ruleId);
      const running = rule && c.actions ? { ...rule, actions: c.actions } : rule;
      return running ? [{ rule: running, ...ofEvent, event: c.event, from: c.nextAction, temp: c.temp ?? {}, asOfPostId: c.asOfPostId ?? null }] : [];
    }
    const payload = e.payload as EventPayload;
    const event = { type: e.type, changes: payload.changes ?? [], ruleId: payload.ruleId };
    // Events are processed after they commit, possibly after later changes and posts:
    // conditions see the ticket as recorded with the event (helpdesk/events.ts), and a
    // REPLY_ADDED / COMMENT_ADDED is judged and rendered as of its own post.
    const lastReply = this.postsOf(ticket, asOfPostId).lastReply;
    const snapshot: TicketSnapshot = {
      ...(payload.ticket ?? stateOf(ticket.loaded)),
      lastReplyAuthor: !lastReply ? null : lastReply.author?.role === 'CLIENT' ? 'CLIENT' : 'STAFF',
      clocks: this.clocks.get(e.id),
    };
    return evaluate(event, snapshot, this.defs.rules, this.defs.fields).map((rule) => ({ rule, ...ofEvent, event: e.type, from: 0, temp: {}, asOfPostId }));
  }

  /** The last posts as of the event's post; without one, the batch's own posts are the newest. */
  private postsOf(ticket: TicketInBatch, asOfPostId: string | null): LastPosts {
    const loaded = this.lastPosts.get(lastPostsKey(ticket.loaded.ticket.id, asOfPostId)) ?? NO_POSTS;
    if (asOfPostId || !ticket.added.length) return loaded;
    const newest = (kind: PostKind) => ticket.added.findLast((p) => p.kind === kind);
    return {
      lastReply: newest('REPLY') ?? loaded.lastReply,
      lastComment: newest('COMMENT') ?? loaded.lastComment,
      lastPost: ticket.added.at(-1)!,
    };
  }

  private context(ticket: TicketInBatch, run: ActionRun): TemplateContext {
    return contextFrom(ticket.loaded, this.postsOf(ticket, run.asOfPostId ?? null), {
      event: run.event,
      rule: { id: run.rule.id, name: run.rule.name },
      temp: run.temp,
      now: this.clock(),
      publicUrl: this.opts.deliveries.publicUrl,
    });
  }

  /** actions.ts's rules, on the batch's buffer: a failing action is a comment and the run goes on. */
  private async runBuffered(ticket: TicketInBatch, run: ActionRun): Promise<void> {
    const { rule } = run;
    for (let i = run.from; i < rule.actions.length; i++) {
      const action = rule.actions[i]!;
      try {
        if (action.type === 'SEND_WEBHOOK') {
          const webhook = action.webhookId ? this.defs.webhooks.get(action.webhookId) : undefined;
          if (!webhook) throw new Error(`webhook ${action.webhookId} no longer exists`);
          if (!webhook.enabled) throw new Error(webhookOffMessage({ name: webhook.def.name, disabledReason: webhook.disabledReason }));
          const continuation = continuationAfter(run, i);
          const draft = this.opts.deliveries.draft({
            webhook: webhook.def,
            ticketId: run.ticketId,
            context: this.context(ticket, run),
            rule: { id: rule.id, name: rule.name },
            event: run.event,
            continuation,
            origin: originOf(run, i, webhook.def.id),
          });
          this.drafts.push(draft);
          if (draft.ticketComment) await this.addPost(ticket, 'COMMENT', draft.ticketComment);
          if (continuation) return;
        } else {
          const text = postText(compileTemplate(action.value ?? '', 'action').render(this.context(ticket, run), escapeText));
          await this.addPost(ticket, action.type === 'ADD_REPLY' ? 'REPLY' : 'COMMENT', text);
        }
      } catch (err) {
        await this.addPost(ticket, 'COMMENT', actionFailure(run, i, err));
      }
    }
  }

  /**
   * A post by the system (it raises no event), written at flush. Its id is taken from the
   * posts' sequence now, so that templates rendered later in the batch can show it.
   */
  private async addPost(ticket: TicketInBatch, kind: PostKind, text: string): Promise<void> {
    if (!this.reservedPostIds.length) {
      // more posts than the mark's round trip took ids for (a failed action's comment)
      const { rows } = await this.db.query(RESERVE_POST_IDS_SQL, [16]);
      this.reservedPostIds = rows.map((r) => r.id as string);
    }
    const id = this.reservedPostIds.shift()!;
    const createdAt = this.clock();
    ticket.added.push({ id, kind, text, createdAt: createdAt.toISOString(), author: null });
    ticket.loaded = { ...ticket.loaded, ticket: { ...ticket.loaded.ticket, updatedAt: createdAt.toISOString() } };
    this.touched.set(ticket.loaded.ticket.id, createdAt);
    this.posts.push({ id, ticketId: ticket.loaded.ticket.id, kind, text, createdAt });
  }

  /**
   * Writes the buffer: posts, the tickets' updatedAt, deliveries — one statement each, sent
   * together (none needs another's answer); resolves once they are all answered. Each is
   * sent before it returns, or it throws: a write that could not be sent never shows only
   * as a rejection that a commit sent meanwhile would not wait for.
   */
  flush(): Promise<void> {
    const sent: Promise<unknown>[] = [];
    if (this.posts.length) {
      const p = this.posts;
      sent.push(
        this.db.query(
          `insert into posts (id, ticket_id, kind, text, author_id, created_at)
           select * from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[])`,
          [p.map((x) => x.id), p.map((x) => x.ticketId), p.map((x) => x.kind), p.map((x) => x.text), p.map(() => null), p.map((x) => x.createdAt)],
        ),
      );
      const touched = [...this.touched];
      sent.push(
        this.db.query(
          `update tickets t set updated_at = v.at from unnest($1::bigint[], $2::timestamptz[]) as v(id, at) where t.id = v.id and t.updated_at < v.at`,
          [touched.map(([id]) => id), touched.map(([, at]) => at)],
        ),
      );
      this.posts = [];
      this.touched = new Map();
    }
    sent.push(this.opts.deliveries.insertDrafts(this.db, this.drafts));
    this.queued += this.drafts.length;
    this.drafts = [];
    return Promise.all(sent).then(() => undefined);
  }
}

/** The comment on a ticket whose rule was disabled or deleted while the answer of its webhook was awaited. */
function continuationStopped(c: Continuation): string {
  return `Rule "${c.ruleName}" was disabled or deleted while its webhook's answer was awaited: the remaining actions were not run.`;
}

/** The ticket's fields as conditions read them, from its loaded view (for events recorded without them). */
function stateOf(t: TemplateTicket): TicketState {
  return {
    id: t.ticket.id,
    title: t.ticket.title,
    description: t.ticket.description,
    status: t.ticket.status as TicketState['status'],
    priority: t.ticket.priority as TicketState['priority'],
    requester: { email: t.requester?.email ?? '', role: t.requester?.role ?? 'CLIENT' },
    assignee: t.assignee ? { email: t.assignee.email } : null,
    parentId: t.parentId,
    custom: { ...t.ticket.custom },
  };
}
