/**
 * The timers of TIMER rules: per (rule, ticket) a due time, kept in the database
 * (src/db/migrations/Migration20261130000600RuleTimers.ts), and the loop that fires them.
 *
 * - Plan: a TIMER rule's due time for a ticket is when its GREATER_THAN time conditions
 *   become true: the latest of them (ALL) or the earliest (ANY), from the ticket's clocks
 *   (fields.ts names them). Saving a rule plans it over every open ticket in one
 *   set-based statement, in the save's transaction (`syncRuleTimers`); a new ticket (by
 *   anyone, automated calls included), a new post, a person's change and a status change
 *   into or out of CLOSED (by anyone, rule actions included) plan the ticket's timers in
 *   its own transaction (triggers), so a restarted
 *   clock re-arms the timer and a reopened ticket's timer is due again. A timer is never
 *   due again for the clock start it fired for, and never for a CLOSED ticket.
 * - Fire: `TimerLoop` sleeps until the nearest due time (woken earlier by the
 *   `deskhooks_timers` notification when a nearer one is planned), then claims the due
 *   timers with FOR UPDATE SKIP LOCKED and, in the same statement, marks them fired and
 *   raises a TIMER event for each through the outbox (ticket_events). Processes running
 *   the loop side by side never claim the same timer, so each fires exactly once; timers
 *   that came due while no process ran fire at the next start.
 * - The dispatcher judges a TIMER event against its rule alone (evaluate.ts), its time
 *   conditions as of the moment it handles it.
 */
import type { Logger } from '../log.js';
import { DrainLoop, type Queryable } from '../queue/index.js';
import { toDuration } from './operators.js';
import { TIME_FIELD_CLOCKS } from './fields.js';
import type { RuleDef } from './types.js';
import type { TicketClock } from '../domain/index.js';

/** The channel a change of the planned timers notifies. */
export const TIMERS_CHANNEL = 'deskhooks_timers';

/** What the plan needs of a TIMER rule: its clocks and durations (ms) of its GREATER_THAN time conditions. */
export interface TimerSpec {
  match: 'ALL' | 'ANY';
  clocks: TicketClock[];
  millis: number[];
}

/** The rule's timer spec, or null when it has no timers (disabled, not a TIMER rule, no GREATER_THAN time condition). */
export function timerSpec(rule: Pick<RuleDef, 'enabled' | 'events' | 'match' | 'conditions'>): TimerSpec | null {
  if (!rule.enabled || !rule.events.includes('TIMER')) return null;
  const clocks: TicketClock[] = [];
  const millis: number[] = [];
  for (const c of rule.conditions) {
    const clock = TIME_FIELD_CLOCKS.get(c.field);
    const ms = toDuration(c.value);
    if (!clock || c.operator !== 'GREATER_THAN' || ms === null) continue;
    clocks.push(clock);
    millis.push(ms);
  }
  return clocks.length ? { match: rule.match, clocks, millis } : null;
}

/**
 * Plans the rule's timers after it was saved, in the save's transaction (`db`): over
 * every ticket not CLOSED, set-based. A rule without timers (disabled, changed to
 * another event) has its timers stopped; they keep the clock starts they fired for.
 * A deleted rule's timers go with it (a trigger).
 */
export async function syncRuleTimers(db: Queryable, rule: Pick<RuleDef, 'id' | 'enabled' | 'events' | 'match' | 'conditions'>): Promise<void> {
  const spec = timerSpec(rule);
  if (!spec) {
    await db.query(`delete from timer_rules where rule_id = $1`, [rule.id]);
    await db.query(`update rule_timers set due_at = null where rule_id = $1 and due_at is not null`, [rule.id]);
    return;
  }
  await db.query(
    `insert into timer_rules (rule_id, match, clocks, millis) values ($1, $2, $3::text[], $4::bigint[])
     on conflict (rule_id) do update set match = excluded.match, clocks = excluded.clocks, millis = excluded.millis`,
    [rule.id, spec.match, spec.clocks, spec.millis],
  );
  await db.query(`select deskhooks_plan_timers(array[$1::bigint], null)`, [rule.id]);
}

/**
 * Claims up to $2 timers due before $1 (the oldest first), marks them fired and raises a
 * TIMER event for each, in one statement. A timer whose ticket is CLOSED or gone by then
 * is stopped without firing.
 */
const FIRE_SQL = `with due as (
    select r.rule_id, r.ticket_id, r.due_at from rule_timers r
     where r.due_at < $1
     order by r.due_at
     limit $2
     for update skip locked
  ), fired as (
    update rule_timers r
       set due_at = null, fired_start = case when t.status <> 'CLOSED' then r.clock_start else r.fired_start end
      from due left join tickets t on t.id = due.ticket_id
     where r.rule_id = due.rule_id and r.ticket_id = due.ticket_id
    returning r.rule_id, r.ticket_id, r.clock_start, due.due_at, coalesce(t.status, 'CLOSED') as status
  ), raised as (
    insert into ticket_events (kind, ticket_id, type, payload, created_at)
    select 'EVENT', f.ticket_id, 'TIMER',
           jsonb_build_object('changes', '[]'::jsonb, 'actorId', null, 'ruleId', f.rule_id::text, 'dueAt', f.due_at, 'clockStart', f.clock_start), $1
      from fired f where f.status <> 'CLOSED'
     order by f.due_at, f.rule_id, f.ticket_id
    returning 1
  )
  select (select count(*) from due)::int as claimed, (select count(*) from raised)::int as raised`;

export interface TimerLoopOptions {
  db: Queryable;
  log: Logger;
  clock?: () => Date;
  /** timers fired per statement */
  batchSize?: number;
  /** called after TIMER events were raised (the dispatcher of this process drains at once; others hear the NOTIFY) */
  raised?: (count: number) => void;
}

/** How soon due timers another process holds are looked at again. */
const RETRY_MS = 250;

/** How soon a failed run is tried again. */
const ERROR_RETRY_MS = 1_000;

/**
 * Longest single sleep: due times are wall-clock times, setTimeout counts elapsed time. A
 * sleep ends at least this often to read the clock again, so a clock set forward (or a
 * host resumed from suspend, whose timers did not run meanwhile) fires what became due
 * within this bound; waking reads only the clock, not the database.
 */
const CLOCK_CHECK_MS = 1_000;

export class TimerLoop {
  private readonly clock: () => Date;
  private readonly loop: DrainLoop;
  private sleep: NodeJS.Timeout | null = null;

  constructor(private readonly opts: TimerLoopOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.loop = new DrainLoop(() => this.drain(), (err) => opts.log.error('firing timers failed; retried in a second', err));
  }

  /** Fires what is due, then sleeps until the next due time; concurrent calls share one run. */
  wake(): Promise<void> {
    return this.loop.wake();
  }

  stop(): Promise<void> {
    this.clearSleep();
    return this.loop.stop();
  }

  private clearSleep(): void {
    if (this.sleep) clearTimeout(this.sleep);
    this.sleep = null;
  }

  private async drain(): Promise<void> {
    const { db } = this.opts;
    const limit = this.opts.batchSize ?? 2_000;
    const loop = this.loop;
    try {
      for (;;) {
        if (loop.stopping) return;
        loop.takeWake();
        const { rows } = await db.query(FIRE_SQL, [this.clock(), limit]);
        const { claimed, raised } = rows[0] as { claimed: number; raised: number };
        if (raised) this.opts.raised?.(raised);
        if (claimed < limit && !loop.woken) break;
      }
      const { rows } = await db.query(`select min(due_at) as next from rule_timers where due_at is not null`);
      const next = rows[0]?.next as Date | null;
      this.sleepTo(next ? new Date(next).getTime() : null);
    } catch (err) {
      // a failed statement (a deadlock, the database restarting) is tried again shortly
      this.sleepTo(this.clock().getTime() + ERROR_RETRY_MS);
      throw err;
    }
  }

  /** Sleeps until just after `at` (due means before now), or not at all when nothing is planned. */
  private sleepTo(at: number | null): void {
    if (this.loop.stopping) return;
    this.clearSleep();
    if (at === null) return;
    // a time already passed is being fired by another process (its rows were locked): look again shortly
    const wait = at - this.clock().getTime() + 1;
    const due = wait <= CLOCK_CHECK_MS;
    this.sleep = setTimeout(() => {
      this.sleep = null;
      if (due || this.clock().getTime() > at) void this.wake();
      else this.sleepTo(at);
    }, wait > 0 ? Math.min(wait, CLOCK_CHECK_MS) : RETRY_MS);
    this.sleep.unref();
  }
}
