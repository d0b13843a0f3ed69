/**
 * Bulk runs over the delivery log (`redeliverMany`, `cancelMany`): the deliveries the
 * filter (filter.ts) matches that are eligible are counted by one statement; a dry run
 * stops there. A run is one more statement in one transaction (store.ts), whatever the
 * number of deliveries, and every delivery it makes or cancels shows on the live feed.
 *
 * - redeliverMany: final deliveries that were sent (SUCCEEDED, FAILED or CANCELLED; a
 *   FAILED delivery never claimed never had a sendable request, and a deleted
 *   webhook's delivery goes nowhere again: neither is counted, as `redeliver` refuses them). Each redelivery is an ordinary new delivery of its
 *   webhook: its breaker, isolation limits and ordering apply when the workers claim it.
 *   Deliveries of a switched-off webhook are refused (BAD_USER_INPUT naming it), dry
 *   run included, since the run would be refused.
 * - cancelMany: PENDING or RETRYING deliveries.
 *
 * More than BULK_LIMIT eligible deliveries: BAD_USER_INPUT with the count, nothing done.
 *
 * A run reports what its acting statement did (its RETURNING rows): the first count only
 * refuses early (too many, a switched-off webhook), since deliveries finish, retry or are
 * cancelled between the two statements; `matched` and `queued` are then both the rows
 * redelivered or cancelled.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { SET_BASED_STATEMENT_TIMEOUT_MS, sqlOf } from '../db/index.js';
import { badInput } from '../errors.js';
import { filterCondition, type DeliveryListFilter } from './filter.js';
import { OPEN } from './open-sql.js';
import { cancelSelected, redeliverSelected, type RowSelection } from './store.js';
import { webhookOffMessage } from './webhooks.js';

/** A bulk run's statements over a large log each get the bound of a set-based statement, not a request's. */
const bulkSql = (em: EntityManager) => sqlOf(em, { queryTimeoutMs: SET_BASED_STATEMENT_TIMEOUT_MS });

/** The most deliveries one bulk run acts on. */
export const BULK_LIMIT = 10_000;

export interface BulkResult {
  /** eligible deliveries the filter matches (a run: those it acted on) */
  matched: number;
  /** deliveries made (redeliverMany) or cancelled (cancelMany); 0 for a dry run */
  queued: number;
}

/**
 * final, with a request that could be sent (a FAILED delivery never claimed could not be
 * rendered; one claimed without a recorded attempt had its try go out unrecorded, or its
 * credentials could not be opened), and of a webhook that still exists (a deleted one gets
 * no new deliveries, as `redeliver` says)
 */
const REDELIVERABLE = `d.status in ('SUCCEEDED', 'FAILED', 'CANCELLED') and not (d.status = 'FAILED' and d.attempt_count = 0 and d.first_attempt_at is null) and coalesce(d.request->>'url', '') <> ''
  and d.webhook_id is not null`;

/** a delivery whose webhook is switched off */
const WEBHOOK_OFF = `exists (select 1 from webhooks w where w.id = d.webhook_id and not w.enabled)`;

function selection(filter: DeliveryListFilter, eligible: string): RowSelection {
  const params: unknown[] = [];
  return { where: `${filterCondition(filter, params)} and ${eligible}`, params };
}

const tooMany = (count: number, what: string) =>
  badInput('filter', `matches ${count.toLocaleString('en-US')} ${what}; at most ${BULK_LIMIT.toLocaleString('en-US')} are handled at once: narrow the filter (since, until, webhookId, ruleId, status, search)`);

export async function redeliverMany(em: EntityManager, filter: DeliveryListFilter, dryRun: boolean, now: Date): Promise<BulkResult> {
  const picked = selection(filter, REDELIVERABLE);
  const { rows } = await bulkSql(em).query(
    `select count(*)::int as matched,
            coalesce(array_agg(distinct d.webhook_id::text) filter (where ${WEBHOOK_OFF}), '{}') as off
       from deliveries d where ${picked.where}`,
    picked.params,
  );
  const matched = rows[0].matched as number;
  const off = rows[0].off as string[];
  if (matched > BULK_LIMIT) throw tooMany(matched, 'final deliveries');
  if (off.length) {
    const hooks = await bulkSql(em).query(`select id::text, name, disabled_reason as "disabledReason" from webhooks where id = any($1::bigint[]) order by id`, [off]);
    const names = hooks.rows.map((w) => `${webhookOffMessage(w)} (id ${w.id})`).join('; ');
    throw badInput('filter', `the filter matches deliveries of switched-off webhooks, which get no new deliveries: ${names}. Enable the webhook or narrow the filter (webhookId)`);
  }
  if (dryRun || matched === 0) return { matched, queued: 0 };
  // a webhook switched off since the count gets nothing
  const run = { where: `${picked.where} and not ${WEBHOOK_OFF}`, params: picked.params };
  const queued = await em.transactional(async (tem) => {
    const n = await redeliverSelected(bulkSql(tem), run, now);
    if (n > BULK_LIMIT) throw tooMany(n, 'final deliveries');
    return n;
  });
  return { matched: queued, queued };
}

export async function cancelMany(em: EntityManager, filter: DeliveryListFilter, dryRun: boolean, now: Date): Promise<BulkResult> {
  const picked = selection(filter, `d.${OPEN}`);
  const { rows } = await bulkSql(em).query(`select count(*)::int as matched from deliveries d where ${picked.where}`, picked.params);
  const matched = rows[0].matched as number;
  if (matched > BULK_LIMIT) throw tooMany(matched, 'PENDING or RETRYING deliveries');
  if (dryRun || matched === 0) return { matched, queued: 0 };
  const queued = await em.transactional(async (tem) => {
    const n = await cancelSelected(bulkSql(tem), picked, now);
    if (n > BULK_LIMIT) throw tooMany(n, 'PENDING or RETRYING deliveries');
    return n;
  });
  return { matched: queued, queued };
}
