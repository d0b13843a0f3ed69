/**
 * Drains the outbox of ticket events: claims a batch (FOR UPDATE SKIP LOCKED, with a
 * lease so that a crashed process's events are taken over), and handles each event in
 * its own transaction: evaluate the rules (pure), run the matched rules' actions, mark
 * the event processed. CONTINUATION records resume a rule after an awaited delivery.
 */
import { LockMode, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { CustomField, Post, Rule, Ticket, TicketEventRecord } from '../db/index.js';
import type { Logger } from '../log.js';
import type { DeliveryService } from '../delivery/index.js';
import { evaluate } from './evaluate.js';
import { runActions } from './actions.js';
import { ruleDef } from './rules.js';
import type { CustomFieldInfo, DispatchEvent } from './types.js';
import type { Continuation, FieldChange, TicketSnapshot } from '../domain/index.js';
import { ticketState, type TicketState } from '../helpdesk/index.js';

const LEASE_SECONDS = 60;
const MAX_TRIES = 5;

export interface DispatcherOptions {
  orm: MikroORM;
  deliveries: DeliveryService;
  log: Logger;
  batchSize?: number;
  /** tickets whose events are handled at once (each ticket's events stay in order) */
  concurrency?: number;
}

export class Dispatcher {
  private draining: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: DispatcherOptions) {}

  /** Processes every pending event; concurrent calls share one drain. */
  wake(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = this.drain()
      .catch((err) => this.opts.log.error('dispatcher drain failed; the next wake-up retries it', err))
      .finally(() => {
        this.draining = null;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.wake();
        }
      });
    return this.draining;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.draining;
  }

  private async drain(): Promise<void> {
    const limit = this.opts.batchSize ?? 100;
    while (!this.stopped) {
      this.again = false;
      const em = this.opts.orm.em.fork();
      const rows: { id: string; ticket_id: string }[] = await em.execute(
          `with due as (
             select id from ticket_events
              where processed_at is null and (locked_until is null or locked_until < now())
              order by id limit ? for update skip locked)
           update ticket_events e set locked_until = now() + make_interval(secs => ?), tries = e.tries + 1
             from due where e.id = due.id returning e.id, e.ticket_id`,
          [limit, LEASE_SECONDS],
        );
      // one queue per ticket, in event order; tickets are handled side by side
      const byTicket = new Map<string, string[]>();
      for (const r of [...rows].sort((a, b) => Number(a.id) - Number(b.id))) {
        const queue = byTicket.get(String(r.ticket_id)) ?? [];
        queue.push(String(r.id));
        byTicket.set(String(r.ticket_id), queue);
      }
      // rules and field definitions once per batch
      const [rules, fields] = await Promise.all([
        em.find(Rule, { enabled: true }, { orderBy: { position: 'asc', id: 'asc' } }),
        em.find(CustomField, {}),
      ]);
      const ruleDefs = rules.map(ruleDef);
      const fieldInfo = new Map<string, CustomFieldInfo>(fields.map((f) => [f.key, { type: f.type, options: f.options }]));
      const queues = [...byTicket.values()];
      const lanes = Array.from({ length: Math.min(this.opts.concurrency ?? 6, queues.length) }, async () => {
        for (let queue = queues.shift(); queue; queue = queues.shift()) {
          for (const id of queue) {
            if (this.stopped) return;
            await this.handle(id, ruleDefs, fieldInfo).catch((err) => this.opts.log.error(`ticket event ${id} failed; it is retried`, err));
          }
        }
      });
      await Promise.all(lanes);
      if (rows.length < limit && !this.again) return;
    }
  }

  private async handle(id: string, rules: ReturnType<typeof ruleDef>[], fields: Map<string, CustomFieldInfo>): Promise<void> {
    await this.opts.orm.em.fork().transactional(async (em) => {
      // locked: a second process that took the event over after an expired lease waits
      // here and then finds it processed, instead of running its rules twice
      const record = await em.findOne(TicketEventRecord, { id, processedAt: null }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!record) return;
      record.processedAt = new Date();
      if (record.tries > MAX_TRIES) {
        this.opts.log.error(`ticket event ${id} (${record.type} on ticket ${record.ticketId}) failed ${MAX_TRIES} times; giving up on it`);
        return;
      }
      if (record.kind === 'CONTINUATION') return this.resume(em, record, rules);
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
        await runActions(em, { deliveries: this.opts.deliveries }, { rule, ticketId: ticket.id, event: event.type, from: 0, temp: {}, asOfPostId });
      }
    });
  }

  private async resume(em: EntityManager, record: TicketEventRecord, rules: ReturnType<typeof ruleDef>[]): Promise<void> {
    const c = record.payload as Continuation;
    // the rule as it is now (it may have been disabled meanwhile: then it does not go on)
    const rule = rules.find((r) => r.id === c.ruleId);
    if (!rule) return;
    await runActions(em, { deliveries: this.opts.deliveries }, { rule, ticketId: record.ticketId, event: c.event, from: c.nextAction, temp: c.temp ?? {}, asOfPostId: c.asOfPostId ?? null });
  }
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
