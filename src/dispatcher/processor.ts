/**
 * The dispatcher drains the outbox of ticket events (src/helpdesk/events.ts): it claims a
 * batch with the claim helper of src/queue (FOR UPDATE SKIP LOCKED, with a lease so that
 * a process that died has its events taken over), and handles each event in its own
 * transaction: evaluate the rules (pure), run the matched rules' actions, mark the event
 * processed. Each ticket's events are handled in order; tickets side by side. A
 * CONTINUATION event resumes a rule after an awaited delivery. Like the delivery worker it
 * never polls: it drains when woken (src/queue/drain.ts).
 */
import { LockMode, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { CustomField, Post, Rule, Ticket, TicketEventRecord } from '../db/index.js';
import type { Logger } from '../log.js';
import type { DeliveryService } from '../delivery/index.js';
import { defineClaim, DrainLoop, type Queryable } from '../queue/index.js';
import { evaluate } from './evaluate.js';
import { runActions } from './actions.js';
import { ruleDef } from './rules.js';
import type { CustomFieldInfo, DispatchEvent, RuleDef } from './types.js';
import type { Continuation, FieldChange, TicketSnapshot } from '../domain/index.js';
import { ticketState, type TicketState } from '../helpdesk/index.js';

/** An event handled this often without being marked processed is given up (logged). */
const MAX_TRIES = 5;

export interface ClaimedEvent {
  id: string;
  ticketId: string;
}

/** What the dispatcher needs of the outbox. */
export interface OutboxStore {
  /** claims up to `limit` unprocessed events until `now + leaseMs`, counting a try for each */
  claim(limit: number, now: Date, leaseMs: number): Promise<ClaimedEvent[]>;
}

const claimEvents = defineClaim<ClaimedEvent>(
  {
    table: 'ticket_events',
    ready: 'processed_at is null',
    orderBy: 'id',
    set: 'tries = t.tries + 1',
    returning: 't.id, t.ticket_id',
  },
  (r) => ({ id: String(r.id), ticketId: String(r.ticket_id) }),
);

export function outboxStore(db: Queryable): OutboxStore {
  return { claim: (limit, now, leaseMs) => claimEvents(db, limit, now, leaseMs) };
}

/** Handles the events of one batch; `begin` loads what they are judged against once per batch. */
export interface EventHandler {
  begin(): Promise<(eventId: string) => Promise<void>>;
}

export interface DispatcherOptions {
  outbox: OutboxStore;
  events: EventHandler;
  log: Logger;
  clock?: () => Date;
  batchSize?: number;
  /** tickets whose events are handled at once (each ticket's events stay in order) */
  concurrency?: number;
  /** how long a claim holds before another process may take the event over */
  leaseMs?: number;
}

export class Dispatcher {
  private readonly clock: () => Date;
  private readonly loop: DrainLoop;

  constructor(private readonly opts: DispatcherOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.loop = new DrainLoop(() => this.drain(), (err) => opts.log.error('dispatcher drain failed; the next wake-up retries it', err));
  }

  /** Processes every pending event; concurrent calls share one drain. */
  wake(): Promise<void> {
    return this.loop.wake();
  }

  /** No event is started after this; resolves when the running drain has ended. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async drain(): Promise<void> {
    const { outbox, events, log } = this.opts;
    const limit = this.opts.batchSize ?? 100;
    const loop = this.loop;
    while (!loop.stopping) {
      loop.takeWake();
      const rows = await outbox.claim(limit, this.clock(), this.opts.leaseMs ?? 60_000);
      if (rows.length) {
        // one queue per ticket, in event order; tickets are handled side by side
        const byTicket = new Map<string, string[]>();
        for (const r of [...rows].sort((a, b) => Number(a.id) - Number(b.id))) {
          const queue = byTicket.get(r.ticketId) ?? [];
          queue.push(r.id);
          byTicket.set(r.ticketId, queue);
        }
        const handle = await events.begin();
        const queues = [...byTicket.values()];
        const lanes = Array.from({ length: Math.min(this.opts.concurrency ?? 6, queues.length) }, async () => {
          for (let queue = queues.shift(); queue; queue = queues.shift()) {
            for (const id of queue) {
              if (loop.stopping) return;
              await handle(id).catch((err) => log.error(`ticket event ${id} failed; it is retried`, err));
            }
          }
        });
        await Promise.all(lanes);
      }
      if (rows.length < limit && !loop.woken) return;
    }
  }
}

export interface RuleEventsOptions {
  orm: MikroORM;
  deliveries: DeliveryService;
  log: Logger;
  clock?: () => Date;
}

/** The events judged against the enabled rules, their actions run (actions.ts). */
export function ruleEvents(opts: RuleEventsOptions): EventHandler {
  const clock = opts.clock ?? (() => new Date());
  return {
    async begin() {
      // rules and field definitions once per batch
      const em = opts.orm.em.fork();
      const [rules, fields] = await Promise.all([
        em.find(Rule, { enabled: true }, { orderBy: { position: 'asc', id: 'asc' } }),
        em.find(CustomField, {}),
      ]);
      const ruleDefs = rules.map(ruleDef);
      const fieldInfo = new Map<string, CustomFieldInfo>(fields.map((f) => [f.key, { type: f.type, options: f.options }]));
      return (id) => handle(opts, clock, id, ruleDefs, fieldInfo);
    },
  };
}

async function handle(opts: RuleEventsOptions, clock: () => Date, id: string, rules: RuleDef[], fields: Map<string, CustomFieldInfo>): Promise<void> {
  await opts.orm.em.fork().transactional(async (em) => {
    // locked: a second process that took the event over after an expired lease waits
    // here and then finds it processed, instead of running its rules twice
    const record = await em.findOne(TicketEventRecord, { id, processedAt: null }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!record) return;
    record.processedAt = clock();
    if (record.tries > MAX_TRIES) {
      opts.log.error(`ticket event ${id} (${record.type} on ticket ${record.ticketId}) failed ${MAX_TRIES} times; giving up on it`);
      return;
    }
    if (record.kind === 'CONTINUATION') return resume(opts, em, record, rules);
    const ticket = await em.findOne(Ticket, { id: record.ticketId }, { populate: ['requester', 'assignee'] });
    if (!ticket) return;
    const payload = record.payload as { changes?: FieldChange[]; postId?: string; ticket?: Omit<TicketSnapshot, 'lastReplyAuthor'> };
    const event: DispatchEvent = { type: record.type, changes: payload.changes ?? [] };
    // Events are processed after they commit, possibly after later changes and posts:
    // conditions see the ticket as recorded with the event (helpdesk/events.ts), and a
    // REPLY_ADDED / COMMENT_ADDED is judged and rendered as of its own post — or an AGENT
    // reply followed at once by a CLIENT reply would match "lastReplyAuthor EQUALS
    // CLIENT" and both events would forward the newer reply's text.
    const asOfPostId = payload.postId ?? null;
    const snapshot = await ticketSnapshot(em, ticket, asOfPostId, payload.ticket);
    for (const rule of evaluate(event, snapshot, rules, fields)) {
      await runActions(em, { deliveries: opts.deliveries }, { rule, ticketId: ticket.id, event: event.type, from: 0, temp: {}, asOfPostId });
    }
  });
}

async function resume(opts: RuleEventsOptions, em: EntityManager, record: TicketEventRecord, rules: RuleDef[]): Promise<void> {
  const c = record.payload as Continuation;
  // the rule as it is now (it may have been disabled meanwhile: then it does not go on)
  const rule = rules.find((r) => r.id === c.ruleId);
  if (!rule) return;
  await runActions(em, { deliveries: opts.deliveries }, { rule, ticketId: record.ticketId, event: c.event, from: c.nextAction, temp: c.temp ?? {}, asOfPostId: c.asOfPostId ?? null });
}

/**
 * `asOfPostId`: the post that raised the event; later posts are not seen (lastReplyAuthor).
 * `recorded`: the ticket's fields as recorded with the event; without it, as they are now.
 */
export async function ticketSnapshot(
  em: EntityManager,
  ticket: Ticket,
  asOfPostId: string | null = null,
  recorded?: TicketState,
): Promise<TicketSnapshot> {
  const lastReply = await em.findOne(Post, { ticket: ticket.id, kind: 'REPLY', ...(asOfPostId ? { id: { $lte: asOfPostId } } : {}) }, { orderBy: { createdAt: 'desc', id: 'desc' }, populate: ['author'] });
  const lastReplyAuthor = !lastReply ? null : lastReply.author?.role === 'CLIENT' ? 'CLIENT' : 'STAFF';
  return { ...(recorded ?? ticketState(ticket)), lastReplyAuthor };
}
