/**
 * Which due deliveries a worker may claim: every webhook's limits hold across all worker
 * processes, with PostgreSQL as the one shared state (never a count kept by a process).
 *
 * - Isolation: at most `webhooks.max_concurrency` attempts of a webhook in flight (claimed,
 *   lease not expired, outcome not recorded: `locked_until > now`, less those the claiming
 *   worker reports ended but not yet recorded, or still running with their slot handed to a
 *   successor that starts only when they end: worker.ts), and at most
 *   `rate_limit_per_second` started per second, from a token bucket holding at most
 *   max(1, rate) tokens (webhook_states.tokens / tokens_at). A webhook's due deliveries
 *   beyond its limits stay where they are; the other webhooks' are claimed past them.
 * - PER_TICKET ordering: a delivery of such a webhook for a ticket is claimed only when no
 *   earlier (deliveries.seq) delivery of the webhook for that ticket is open, whether that
 *   one is in flight, waiting for its retry or held, and none has an attempt in flight (one
 *   cancelled during its attempt). One born behind an open one waits for its turn out of
 *   the due index (awaits_turn; Migration20261201000300DeliveryTurns), so that a ticket's
 *   blocked chain costs the claims nothing.
 * - Breaker (OPEN or HALF_OPEN, recorded by breaker.ts): the webhook's due deliveries are
 *   held, neither claimed nor charged an attempt. Every `probeIntervalMs` after opening
 *   (or the last probe) its oldest held delivery that may still start is claimed as the
 *   probe (HALF_OPEN); with it, the held ones whose retry window has passed
 *   (`startDeadlineMs`) are claimed to be failed unsent (the worker's mayStart), so that
 *   none stays RETRYING past its window and none takes a probe's turn. One probe at a
 *   time: while the last one's claim lasts (it is in flight), no other is claimed. A
 *   breaker open for a whole retry window switches the webhook off.
 *
 * One claim is one transaction: it locks the webhook_states rows of the webhooks with
 * claimable due deliveries, in webhook id order, then claims in a second statement, whose
 * snapshot (READ COMMITTED) sees every claim that held those locks before. So claims for
 * one webhook follow one another in every process, and the in-flight count each one sees
 * includes the others'. When no locked webhook needs a decision of the worker's (breaker
 * CLOSED, no rate limit: the common case), the lock, the claim and the commit go in one
 * round trip; otherwise the worker decides each webhook's allowance between the lock and the
 * claim. The recording of outcomes (breaker.ts) locks the same rows in the same order.
 * Deliveries without a webhook (it was deleted) have no limits. Deliveries are
 * locked FOR NO KEY UPDATE, as src/queue/claim.ts says why.
 */
import type pg from 'pg';
import { sqlLiteral, UUID_PATTERN } from '../db/index.js';
import { defineClaim } from '../queue/index.js';
import { SEND_POLICY_COLUMNS, sendPolicyOf, type SendPolicy, type SendPolicyRow } from './send-policy.js';
import { CLAIMED_COLUMNS, claimedFromRow, switchOffWebhook, type ClaimedDelivery } from './store.js';
import { OPEN } from './open-sql.js';
import type { ReservedClaim } from './worker.js';



/** Nothing is cancelled by this id: a breaker's switch-off leaves every open delivery of the webhook CANCELLED. */
const NO_DELIVERY = '00000000-0000-0000-0000-000000000000';

export interface SchedulingConfig {
  /** how often an open breaker lets its oldest held delivery go as a probe */
  probeIntervalMs: number;
  /** a breaker open this long switches its webhook off */
  retryWindowMs: number;
  /** no attempt starts later than this after a delivery's first (policy.ts startDeadlineMs) */
  startDeadlineMs: number;
}

export interface ClaimResult {
  deliveries: ClaimedDelivery[];
  /** the earliest time held deliveries may go (a rate limit's next token, a breaker's next probe); null: none waits for a time */
  wakeAt: Date | null;
  /** a webhook's in-flight limit held back some of its due deliveries: when one of its attempts ends, claim again */
  heldByInFlight: boolean;
  /** a breaker's probe (claimed by this claim or in flight) held back its webhook's other deliveries: once its outcome is recorded, claim again */
  heldByProbe: boolean;
  /** what changed a webhook's state, for the log */
  notes: string[];
  /** the send-time policies of the claimed deliveries' webhooks, read in the claim */
  policies?: Map<string, SendPolicy>;
  /** the webhooks whose in-flight limit held back due deliveries and whose slots may be handed over (handsOverSlots) */
  handOver?: string[];
}

/**
 * Whether a webhook's slot may go from an attempt ending straight to a delivery claimed for
 * it beforehand (worker.ts, successors): its breaker is CLOSED (no probe to wait for), it
 * has no rate limit (the tokens are spent when the successor is claimed, not when it
 * starts) and it is UNORDERED (a successor is claimed while its predecessor is still in
 * flight; PER_TICKET keeps a ticket's attempts one at a time).
 */
const handsOverSlots = (s: LockedState): boolean => s.breaker === 'CLOSED' && !((s.rate_limit_per_second ?? 0) > 0) && s.ordering !== 'PER_TICKET';

/** The webhooks of `held` (their in-flight limit cut the claim) whose slots may be handed over. */
function handOverOf(states: LockedState[], held: string[]): string[] {
  if (!held.length) return [];
  const eligible = new Set(states.filter(handsOverSlots).map((s) => String(s.webhook_id)));
  return held.filter((id) => eligible.has(id));
}

/** A webhook with claimable due deliveries, its state row locked, with its send-time policy. */
interface LockedState extends SendPolicyRow {
  webhook_id: string;
  breaker: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  opened_at: Date | null;
  next_probe_at: Date | null;
  tokens: number | null;
  tokens_at: Date | null;
  max_concurrency: number;
  rate_limit_per_second: number | null;
  ordering: string;
  enabled: boolean;
  /** the breaker's probe is still being attempted (its claim has not ended) */
  probe_in_flight: boolean;
}

/** What one webhook may start in this claim. */
interface Allowance {
  webhookId: string;
  /** starts allowed by the rate limit (and the claim's size); the in-flight limit is applied in SQL */
  starts: number;
  maxInFlight: number;
  perTicket: boolean;
  probe: boolean;
  /** the bucket's tokens at `now` before this claim (null: no rate limit) */
  tokens: number | null;
}

interface Verdict {
  allowance: Allowance | null;
  wakeAt: Date | null;
  switchOff: string | null;
}

/** What a webhook may start now, from its locked state; pure. */
function allowanceOf(s: LockedState, limit: number, now: Date, config: SchedulingConfig, idle = false): Verdict {
  const t = now.getTime();
  let wakeAt: Date | null = null;
  let probe = false;
  // a switched-off webhook's open deliveries go as a closed breaker lets them (switching off
  // stops new deliveries only): an open one keeps probing, and after a whole retry window
  // switches the webhook off for good, which cancels what it holds; one that sat idle (no
  // delivery held when its probe came due: idleBreaker) was not failing, so it probes first
  if (s.breaker !== 'CLOSED') {
    const openedAt = s.opened_at?.getTime() ?? t;
    if (t - openedAt >= config.retryWindowMs && !idle) {
      return {
        allowance: null,
        wakeAt: null,
        switchOff: `its breaker stayed open for a whole retry window (${Math.round(config.retryWindowMs / 1000)} s) since ${new Date(openedAt).toISOString()}`,
      };
    }
    // one probe at a time: while one is in flight no other goes, however long it takes (a
    // request timeout longer than the probe interval); its outcome wakes the workers
    if (s.breaker === 'HALF_OPEN' && s.probe_in_flight) return { allowance: null, wakeAt: null, switchOff: null };
    const probeAt = probeDueAt(s, now, config).getTime();
    if (t < probeAt) return { allowance: null, wakeAt: new Date(probeAt), switchOff: null };
    probe = true;
  }
  let starts = probe ? 1 : limit;
  let tokens: number | null = null;
  const rate = s.rate_limit_per_second;
  if (rate !== null && rate > 0) {
    const cap = Math.max(1, rate);
    const elapsed = s.tokens_at ? Math.max(0, t - s.tokens_at.getTime()) / 1000 : Infinity;
    tokens = s.tokens === null ? cap : Math.min(cap, s.tokens + rate * elapsed);
    starts = Math.min(starts, Math.floor(tokens + 1e-9));
    if (starts <= 0) wakeAt = new Date(t + Math.ceil(((1 - tokens) / rate) * 1000));
  }
  return {
    allowance: { webhookId: s.webhook_id, starts: Math.max(0, starts), maxInFlight: s.max_concurrency, perTicket: s.ordering === 'PER_TICKET', probe, tokens },
    wakeAt,
    switchOff: null,
  };
}

/** When an open breaker's next probe was due: as the claim set it, or one interval after opening. */
const probeDueAt = (s: LockedState, now: Date, config: SchedulingConfig): Date =>
  s.next_probe_at ?? new Date((s.opened_at?.getTime() ?? now.getTime()) + config.probeIntervalMs);

/**
 * Whether an open breaker sat idle: none of the webhook's open deliveries existed yet when
 * its next probe was due (it held nothing then, so nothing was tried and failed since). A
 * delivery still retrying from before is no idle spell. Asked only when a breaker has been
 * open a whole retry window, before switching its webhook off.
 */
async function idleBreaker(client: pg.PoolClient, s: LockedState, now: Date, config: SchedulingConfig): Promise<boolean> {
  const { rows } = await client.query(
    `select coalesce(min(d.created_at) > $2, true) as idle from deliveries d where d.webhook_id = $1 and d.${OPEN}`,
    [s.webhook_id, probeDueAt(s, now, config)],
  );
  return rows[0].idle === true;
}

// the name of the transaction's setting that lists the webhooks the lock statement locked
const LOCKED_SETTING = 'deskhooks.claim_locked';

// the webhooks with a due delivery that no live claim holds, their state rows locked in id order
// (and their send-time policies, so that the attempts need no read of their own)
const LOCK_SQL = `with locked as (select s.webhook_id, s.breaker, s.opened_at, s.next_probe_at, s.tokens, s.tokens_at,
         w.max_concurrency, w.rate_limit_per_second, w.ordering, w.enabled, ${SEND_POLICY_COLUMNS.split(', ').map((c) => `w.${c}`).join(', ')},
         coalesce((select p.locked_until > $1 from deliveries p where p.id = s.probe_delivery_id), false) as probe_in_flight
    from webhook_states s join webhooks w on w.id = s.webhook_id
   where exists (select 1 from deliveries d
                  where d.webhook_id = s.webhook_id and d.${OPEN} and not d.awaits_turn and d.next_attempt_at <= $1
                    and (d.locked_until is null or d.locked_until < $1))
   order by s.webhook_id
     for update of s)
  select l.*, set_config('${LOCKED_SETTING}', (select coalesce(string_agg(webhook_id::text, ','), '') from locked), true) is not null as recorded
    from locked l`;

// the first attempt before which a delivery may no longer start ($12: startDeadlineMs)
const START_DEADLINE = `$2::timestamptz - make_interval(secs => $12::double precision / 1000)`;

// PER_TICKET: an earlier delivery of the same webhook for the same ticket is still open.
// Deliveries born behind an open one wait out of the due index (awaits_turn, given the turn
// by a trigger: Migration20261201000300DeliveryTurns); this test keeps the order whatever the
// flag says (a delivery of a webhook made PER_TICKET while it was open), and finds the open
// one through deliveries_open_ticket_idx.
const EARLIER_OPEN = `select 1 from deliveries e where e.ticket_id = d.ticket_id and e.webhook_id = d.webhook_id and e.${OPEN} and e.seq < d.seq`;
// PER_TICKET: the tickets of the webhook's deliveries with an attempt in flight (one cancelled
// during its attempt included: its request is with the receiver until its outcome is recorded),
// read once per webhook from its claims (deliveries_claimed_idx), not from each ticket's history
const BUSY_TICKETS = `array(select x.ticket_id from deliveries x
                               where x.webhook_id = l.webhook_id and x.locked_until > $2 and x.id <> all($9::uuid[]) and x.ticket_id is not null)`;
// a PER_TICKET delivery waits while its ticket has an earlier open one, or any with an attempt in flight
const TURN_HELD = `(d.ticket_id = any(a.busy_tickets) or exists (${EARLIER_OPEN}))`;

// The in-flight count stops at the limit and walks deliveries_claimed_idx in its order: a
// plain index scan, which marks the entries of dead row versions (claims since recorded) as
// it passes them, so that the next claim skips them; a bitmap scan would visit their heap
// pages again at every claim until a vacuum.
// $1 limit, $2 now, $3 lease ms; per webhook: $4 id, $5 starts, $6 max in flight, $7 per ticket, $8 probe,
// $10 tokens before the claim (null: no rate limit); $9 the claimer's deliveries whose attempt has ended
// (not in flight, though not yet recorded); $11 the probe interval in ms; $12 how long after its first
// attempt a delivery may start (startDeadlineMs). The states it changes: tokens spent, a probe sent (HALF_OPEN)
const claimSql = (allowed: string, claims = 'true') => `with allow as (
       select l.webhook_id, l.per_ticket, l.probe, l.starts,
              greatest(0, least(l.starts, l.max_in_flight - (select count(*)::int from (select from deliveries x
                                                              where x.webhook_id = l.webhook_id and x.locked_until > $2 and x.id <> all($9::uuid[])
                                                              order by x.webhook_id, x.locked_until limit l.max_in_flight) x))) as n,
              case when l.per_ticket then ${BUSY_TICKETS} else '{}'::bigint[] end as busy_tickets
         from ${allowed}
     ), free as (
       select d.id, d.first_attempt_at, d.locked_until, d.next_attempt_at, d.seq, false as probe, false as expired from deliveries d
        where ${claims} and d.webhook_id is null and d.${OPEN} and d.next_attempt_at <= $2 and (d.locked_until is null or d.locked_until < $2)
        order by d.next_attempt_at, d.seq limit $1
          for no key update skip locked
     ), limited as (
       select c.* from allow a cross join lateral (
         select d.id, d.first_attempt_at, d.locked_until, d.next_attempt_at, d.seq, false as probe, false as expired from deliveries d
          where d.webhook_id = a.webhook_id and d.${OPEN} and not d.awaits_turn and d.next_attempt_at <= $2 and (d.locked_until is null or d.locked_until < $2)
            and (not a.per_ticket or d.ticket_id is null or not ${TURN_HELD})
          order by d.next_attempt_at, d.seq limit a.n
            for no key update skip locked) c
        where a.n > 0 and not a.probe
     ), probes as (
       select c.* from allow a cross join lateral (
         select d.id, d.first_attempt_at, d.locked_until, d.next_attempt_at, d.seq, true as probe, false as expired from deliveries d
          where d.webhook_id = a.webhook_id and d.${OPEN} and not d.awaits_turn and d.next_attempt_at <= $2 and (d.locked_until is null or d.locked_until < $2)
            and (not a.per_ticket or d.ticket_id is null or not ${TURN_HELD})
            and (d.first_attempt_at is null or d.first_attempt_at >= ${START_DEADLINE})
          order by d.seq limit 1
            for no key update skip locked) c
        where a.n > 0 and a.probe
     ), expired as (
       -- held past their retry window: not attempts (the worker fails them unsent), so no limit applies.
       -- Read through deliveries_due_webhook_idx, as the probe is: one waiting for its turn is not held
       select c.* from allow a cross join lateral (
         select d.id, d.first_attempt_at, d.locked_until, d.next_attempt_at, d.seq, false as probe, true as expired from deliveries d
          where d.webhook_id = a.webhook_id and d.${OPEN} and not d.awaits_turn and d.next_attempt_at <= $2 and (d.locked_until is null or d.locked_until < $2)
            and d.first_attempt_at < ${START_DEADLINE}
          order by d.seq limit $1
            for no key update skip locked) c
        where a.probe
     ), due as (
       select * from free union all select * from limited union all select * from probes union all select * from expired
     ), pick as (
       select * from due order by next_attempt_at, seq limit $1
     ), claimed as (
       update deliveries t set locked_until = $2::timestamptz + make_interval(secs => $3::double precision / 1000),
              first_attempt_at = coalesce(t.first_attempt_at, $2::timestamptz)
         from pick due where t.id = due.id
       returning ${CLAIMED_COLUMNS}, due.probe, due.expired, due.next_attempt_at as due_at, due.seq
     ), spent as (
       select c.webhook_id, (count(*) filter (where not c.expired))::int as n, (array_agg(c.id) filter (where c.probe))[1] as probe_id
         from claimed c where c.webhook_id is not null group by c.webhook_id
     ), states as (
       update webhook_states s
          set tokens = case when l.tokens is null then s.tokens else l.tokens - sp.n end,
              tokens_at = case when l.tokens is null then s.tokens_at else $2::timestamptz end,
              breaker = case when sp.probe_id is null then s.breaker else 'HALF_OPEN' end,
              probe_delivery_id = coalesce(sp.probe_id, s.probe_delivery_id),
              next_probe_at = case when sp.probe_id is null then s.next_probe_at else $2::timestamptz + make_interval(secs => $11::double precision / 1000) end
         from spent sp join unnest($4::bigint[], $10::double precision[]) as l(webhook_id, tokens) on l.webhook_id = sp.webhook_id
        where s.webhook_id = sp.webhook_id and (l.tokens is not null or sp.probe_id is not null)
     )
     -- one row even when nothing is claimed: held tells whether a webhook's in-flight limit may
     -- have held back some of its due deliveries (LOCK_SQL found one unclaimed), so that a slot
     -- freed claims again: its limit cut the claim (n < starts) and the claim took all it allowed
     -- (fewer: it took every due one); held_webhooks: which webhooks
     select c.*, h.held, h.held_webhooks, ${claims} as ran
       from (select coalesce(bool_or(a.n < a.starts and coalesce(sp.n, 0) >= a.n), false) as held,
                    coalesce(array_agg(a.webhook_id::text) filter (where a.n < a.starts and coalesce(sp.n, 0) >= a.n), '{}') as held_webhooks
               from allow a left join spent sp on sp.webhook_id = a.webhook_id) h
       left join claimed c on true`;
// the allowances as the worker decided them from the locked states
const CLAIM_SQL = claimSql(`unnest($4::bigint[], $5::int[], $6::int[], $7::boolean[], $8::boolean[]) as l(webhook_id, starts, max_in_flight, per_ticket, probe)`);
// The claim without the worker's decisions, for when every locked webhook (LOCKED_SETTING)
// needs none: breaker CLOSED, no rate limit. Each one's allowance is then the claim's limit
// within its in-flight limit, with its ordering. When any locked webhook needs a decision,
// it claims nothing at all, so that the claim with decisions keeps the oldest due first
// across every webhook (none waits behind the others' backlog).
const LOCKED_WEBHOOKS = `string_to_array(nullif(current_setting('${LOCKED_SETTING}', true), ''), ',')::bigint[]`;
const NEEDS_DECISION = `(s.breaker <> 'CLOSED' or coalesce(w.rate_limit_per_second > 0, false))`;
const NONE_NEEDS_DECISION = `not exists (select 1 from webhook_states s join webhooks w on w.id = s.webhook_id where s.webhook_id = any(${LOCKED_WEBHOOKS}) and ${NEEDS_DECISION})`;
const CLAIM_CLOSED_SQL = claimSql(
  `(select s.webhook_id, $1::int as starts, w.max_concurrency as max_in_flight, w.ordering = 'PER_TICKET' as per_ticket, false as probe
      from webhook_states s join webhooks w on w.id = s.webhook_id
     where s.webhook_id = any(${LOCKED_WEBHOOKS}) and ${NONE_NEEDS_DECISION}) as l`,
  NONE_NEEDS_DECISION,
);

/** The claim's parameter types, for its SQL-level prepared statement. */
const CLAIM_PARAM_TYPES = ['int', 'timestamptz', 'double precision', 'bigint[]', 'int[]', 'int[]', 'boolean[]', 'boolean[]', 'uuid[]', 'double precision[]', 'double precision', 'double precision'];
const CLAIM_STATEMENT = 'deskhooks_claim';
const LOCK_STATEMENT = 'deskhooks_claim_lock';
const CLAIM_CLOSED_STATEMENT = 'deskhooks_claim_closed';
/** Connections whose session has the lock and the claim prepared (PREPARE lasts as long as the session). */
const claimPrepared = new WeakSet<pg.PoolClient>();

/** Deliveries without a webhook (it was deleted): no limits, one statement. */
const claimFree = defineClaim<ClaimedDelivery>(
  {
    table: 'deliveries',
    ready: `webhook_id is null and ${OPEN} and next_attempt_at <= $2`,
    orderBy: 'next_attempt_at, seq',
    set: 'first_attempt_at = coalesce(t.first_attempt_at, $2::timestamptz)',
    before: ['first_attempt_at', 'locked_until'],
    returning: CLAIMED_COLUMNS,
  },
  (r) => claimedFromRow(r),
);

/** Claims of deliveries without a webhook in a row at most, before a claim for every webhook (createClaimer). */
const FREE_RUN = 8;

/**
 * Claims as claimWithinLimits does (one transaction, one or two round trips). While deliveries
 * without a webhook fill whole claims (a backlog of them), up to FREE_RUN claims in a row
 * take only them, in one statement; then, or once they no longer fill a claim, the next
 * claim is claimWithinLimits's, for every webhook.
 */
export function createClaimer(pool: pg.Pool, config: SchedulingConfig) {
  let freeRun = 0;
  return async (limit: number, now: Date, leaseMs: number, finished: string[] = [], reserved?: ReservedClaim): Promise<ClaimResult> => {
    if (reserved) return claimWithinLimits(pool, limit, now, leaseMs, config, finished, reserved);
    if (freeRun > 0 && freeRun < FREE_RUN) {
      const free = await claimFree(pool, limit, now, leaseMs);
      if (free.length >= limit) {
        freeRun++;
        return { deliveries: free, wakeAt: null, heldByInFlight: false, heldByProbe: false, notes: [] };
      }
      freeRun = 0;
      const rest = await claimWithinLimits(pool, limit - free.length, now, leaseMs, config, finished);
      return { ...rest, deliveries: [...free, ...rest.deliveries] };
    }
    const result = await claimWithinLimits(pool, limit, now, leaseMs, config, finished);
    freeRun = result.deliveries.length >= limit && result.deliveries.every((d) => d.webhookId === null) ? 1 : 0;
    return result;
  };
}

/** The deliveries a claim statement returned, oldest due first, and whether an in-flight limit held some back. */
function claimedFrom(result: pg.QueryResult): { deliveries: ClaimedDelivery[]; held: boolean; heldWebhooks: string[] } {
  const deliveries = result.rows
    .filter((r) => r.id !== null)
    .sort((a, b) => a.due_at - b.due_at || Number(a.seq) - Number(b.seq))
    .map((r) => ({ ...claimedFromRow(r), probe: r.probe === true, ...(r.expired === true ? { heldPastWindow: true } : {}) }));
  return { deliveries, held: result.rows[0]?.held === true, heldWebhooks: (result.rows[0]?.held_webhooks as string[] | undefined) ?? [] };
}

/**
 * The claim with the worker's decisions, in two round trips: `begin` locks the webhooks'
 * states (`begun` is called once it did); their allowances are decided here (breakers,
 * rate limits, reserved slots); then the claim and the commit.
 */
async function claimByDecisions(client: pg.PoolClient, limit: number, now: Date, leaseMs: number, config: SchedulingConfig, begin: string, finished: string[], reserved?: ReservedClaim, begun?: () => void): Promise<ClaimResult> {
  const locked = (await client.query(begin)) as unknown as pg.QueryResult<LockedState>[];
  begun?.();
  const states = locked.at(-1)!.rows;
  const allowances: Allowance[] = [];
  const notes: string[] = [];
  let wakeAt: Date | null = null;
  let heldByProbe = false;
  for (const s of states) {
    let v = allowanceOf(s, limit, now, config);
    if (v.switchOff && (await idleBreaker(client, s, now, config))) v = allowanceOf(s, limit, now, config, true);
    if (v.wakeAt && (!wakeAt || v.wakeAt < wakeAt)) wakeAt = v.wakeAt;
    // a probe under way, or going now, holds the webhook's other deliveries until its outcome
    if ((s.breaker === 'HALF_OPEN' && s.probe_in_flight) || v.allowance?.probe) heldByProbe = true;
    if (v.switchOff) {
      const cancelled = await switchOffWebhook(client, s.webhook_id, NO_DELIVERY, v.switchOff, now);
      notes.push(`webhook ${s.webhook_id} switched off: ${v.switchOff}; ${cancelled} open deliveries cancelled`);
    }
    // a reserved slot (worker.ts reservedSlots): one delivery of a webhook with nothing in flight in the worker
    if (v.allowance && reserved) v.allowance.starts = reserved.busy.includes(s.webhook_id) ? 0 : Math.min(v.allowance.starts, 1);
    if (v.allowance && reserved && v.allowance.starts === 0) continue;
    if (v.allowance && (v.allowance.starts > 0 || v.allowance.probe)) allowances.push(v.allowance);
  }
  const claimValues = [
    limit,
    now,
    leaseMs,
    allowances.map((a) => a.webhookId),
    allowances.map((a) => a.starts),
    allowances.map((a) => a.maxInFlight),
    allowances.map((a) => a.perTicket),
    allowances.map((a) => a.probe),
    finished,
    allowances.map((a) => a.tokens),
    config.probeIntervalMs,
    config.startDeadlineMs,
  ];
  const [claimed] = (await client.query(`execute ${CLAIM_STATEMENT}(${claimValues.map(sqlLiteral).join(', ')}); commit`)) as unknown as pg.QueryResult[];
  const { deliveries, held: heldByInFlight, heldWebhooks } = claimedFrom(claimed);
  const started = new Map<string, number>();
  for (const d of deliveries) {
    if (d.webhookId === null) continue;
    started.set(d.webhookId, (started.get(d.webhookId) ?? 0) + 1);
    if (d.probe) notes.push(`webhook ${d.webhookId}: breaker HALF_OPEN, delivery ${d.id} goes as the probe`);
  }
  for (const a of allowances) {
    // a rate-limited webhook that spent its tokens: its next one comes at
    if (a.tokens === null || a.probe) continue;
    const left = a.tokens - (started.get(a.webhookId) ?? 0);
    const rate = states.find((s) => s.webhook_id === a.webhookId)!.rate_limit_per_second!;
    if (left < 1 && started.get(a.webhookId) === a.starts) {
      const at = new Date(now.getTime() + Math.ceil(((1 - left) / rate) * 1000));
      if (!wakeAt || at < wakeAt) wakeAt = at;
    }
  }
  return { deliveries, wakeAt, heldByInFlight, heldByProbe, notes, policies: new Map(states.map((s) => [s.webhook_id, sendPolicyOf(s)])), handOver: reserved ? [] : handOverOf(states, heldWebhooks) };
}

/**
 * Claims up to `limit` due deliveries for `leaseMs` within every webhook's limits (see
 * above), oldest due first (ties in creation order); for a worker's reserved slots
 * (`reserved`), one each of webhooks with nothing in flight in it. A delivery claimed for its first
 * attempt gets `first_attempt_at` = now in the same statement, before anything is sent:
 * its retry window runs from here even if no outcome of it can ever be recorded (the
 * claim then expires, and once the window has passed the next claim fails it unsent).
 * The rows come back with `firstAttemptAt` as it was before the claim (null for a first
 * attempt), so that the recorded first attempt starts when it was sent.
 */
async function claimWithinLimits(pool: pg.Pool, limit: number, now: Date, leaseMs: number, config: SchedulingConfig, finished: string[] = [], reserved?: ReservedClaim): Promise<ClaimResult> {
  const client = await pool.connect();
  let broken = false;
  let preparing = false;
  try {
    // In the simple protocol with the values written in. Each statement runs its generic
    // plan, made once per connection: PostgreSQL would otherwise plan them again for every
    // claim's values (a custom plan), which cost as much CPU as running them (their shape
    // does not depend on the values: index scans by webhook and due time, bounded by the
    // claim's limit). After a failed statement PostgreSQL runs none of the rest of a round
    // trip's statements, so a claim that fails is never committed.
    const prepare = claimPrepared.has(client)
      ? ''
      : [`${LOCK_STATEMENT}(timestamptz) as ${LOCK_SQL}`, `${CLAIM_STATEMENT}(${CLAIM_PARAM_TYPES.join(', ')}) as ${CLAIM_SQL}`, `${CLAIM_CLOSED_STATEMENT}(${CLAIM_PARAM_TYPES.join(', ')}) as ${CLAIM_CLOSED_SQL}`]
          .map((statement) => `prepare ${statement};`)
          .join(' ');
    // PREPARE is not undone by a rollback: a first round trip that fails leaves the session
    // with some of the statements prepared or none, unknown which; the connection is then
    // closed rather than given back (the next claim would fail with "already exists")
    preparing = prepare !== '';
    const prepared = () => {
      preparing = false;
      if (prepare) claimPrepared.add(client);
    };
    // A claim's commit does not wait for the write-ahead log to reach the disk (as the
    // dispatcher's do, src/db/session-settings.ts): a crash of the database may take back
    // the last claims, and the batches that made their deliveries, while their requests are
    // out. The deliveries are then claimed (or made again by their events, with the same
    // ids: service.ts DeliveryOrigin) and sent again at once — unlike after a worker killed
    // mid-send, no lease holds them, so the re-send may overlap the first attempt (README,
    // Deliveries). The outcomes are recorded synchronously, which makes the claims before
    // them durable.
    const begin = (prepareFirst: string) => `begin; set local plan_cache_mode = force_generic_plan; set local synchronous_commit = off; ${prepareFirst} execute ${LOCK_STATEMENT}(${sqlLiteral(now)})`;
    const finishedIds = finished.filter((id) => UUID_PATTERN.test(id));
    if (reserved) return await claimByDecisions(client, limit, now, leaseMs, config, begin(prepare), finishedIds, reserved, prepared);
    // One round trip: lock, then claim in a second statement (its snapshot sees the claims
    // that held the locks before), and commit, when no locked webhook needs a decision of the
    // worker's (CLAIM_CLOSED_SQL: `ran`). When one does (its breaker, its rate limit), that
    // claim took nothing and a second transaction claims with the decisions.
    const closedValues = [limit, now, leaseMs, [], [], [], [], [], finishedIds, [], config.probeIntervalMs, config.startDeadlineMs];
    const results = (await client.query(`${begin(prepare)}; execute ${CLAIM_CLOSED_STATEMENT}(${closedValues.map(sqlLiteral).join(', ')}); commit`)) as unknown as pg.QueryResult[];
    prepared();
    const states = results.at(-3)!.rows as LockedState[];
    if (results.at(-2)!.rows[0].ran === true) {
      const closed = claimedFrom(results.at(-2)!);
      return {
        deliveries: closed.deliveries,
        wakeAt: null,
        heldByInFlight: closed.held,
        // every webhook of the claim has its breaker closed: no probe
        heldByProbe: false,
        notes: [],
        policies: new Map(states.map((s) => [s.webhook_id, sendPolicyOf(s)])),
        handOver: handOverOf(states, closed.heldWebhooks),
      };
    }
    return await claimByDecisions(client, limit, now, leaseMs, config, begin(''), finishedIds);
  } catch (err) {
    await client.query('rollback').catch(() => {
      broken = true;
    });
    if (preparing) broken = true;
    throw err;
  } finally {
    client.release(broken);
  }
}
