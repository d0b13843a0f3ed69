/**
 * Loads what the live feed shows for a batch of events: the delivery rows (without the
 * bulky columns the feed never shows: the template context, the continuation) and, for
 * ATTEMPTED events, the attempt rows — two plain queries per notification, no ORM
 * hydration: the feed must stay cheap next to the deliveries it reports on. The body of
 * each delivery's last answer (its latest attempt that got one, as the log's search text
 * keeps it: text-indexer.ts) is read only when a subscriber searches it.
 */
import type pg from 'pg';
import type { Delivery, DeliveryAttempt } from '../db/index.js';
import type { DeliveryFeedItem, FeedLoader } from './events.js';

/** The Delivery fields the API shows, as a plain object. */
export type DeliveryRow = Pick<
  Delivery,
  'id' | 'webhookId' | 'webhookName' | 'ticketId' | 'ruleId' | 'event' | 'status' | 'request' | 'attemptCount' | 'nextAttemptAt' | 'responseData' | 'notes' | 'lastError' | 'redeliveryOf' | 'createdAt' | 'completedAt'
>;
export type AttemptRow = Pick<DeliveryAttempt, 'number' | 'startedAt' | 'durationMs' | 'statusCode' | 'error' | 'responseBody'>;

export function feedLoader(pool: pg.Pool): FeedLoader {
  return async (messages, { lastResponse = false } = {}) => {
    const ids = [...new Set(messages.map((m) => m.d))];
    // the attempts the events report, not every attempt of their deliveries (up to the
    // retry policy's 49, each with its 64 KiB of answer)
    const attempted = [...new Map(messages.filter((m) => m.t === 'ATTEMPTED' && m.n !== null).map((m) => [`${m.d}/${m.n}`, m])).values()];
    const [deliveries, attempts] = await Promise.all([
      pool.query(
        `select id, webhook_id::text as "webhookId", webhook_name as "webhookName", ticket_id::text as "ticketId", rule_id::text as "ruleId",
                event, status, request, attempt_count as "attemptCount", next_attempt_at as "nextAttemptAt", response_data as "responseData",
                notes, last_error as "lastError", redelivery_of as "redeliveryOf", created_at as "createdAt", completed_at as "completedAt"${
                  lastResponse
                    ? `,
                (select a.response_body from delivery_attempts a where a.delivery_id = deliveries.id and a.response_body is not null order by a.number desc limit 1) as "lastResponse"`
                    : ''
                }
           from deliveries where id = any($1::uuid[])`,
        [ids],
      ),
      attempted.length
        ? pool.query(
            `select delivery_id as "deliveryId", number, started_at as "startedAt", duration_ms as "durationMs", status_code as "statusCode", error, response_body as "responseBody"
               from delivery_attempts where (delivery_id, number) in (select * from unnest($1::uuid[], $2::int[]))`,
            [attempted.map((m) => m.d), attempted.map((m) => m.n)],
          )
        : Promise.resolve({ rows: [] as (AttemptRow & { deliveryId: string })[] }),
    ]);
    const byId = new Map<string, DeliveryRow & { lastResponse?: string | null }>(deliveries.rows.map((d: DeliveryRow) => [d.id, d]));
    const attemptOf = new Map((attempts.rows as (AttemptRow & { deliveryId: string })[]).map((a) => [`${a.deliveryId}/${a.number}`, a]));
    return messages.map(
      (message): DeliveryFeedItem<DeliveryRow, AttemptRow> => ({
        message,
        delivery: byId.get(message.d) ?? null,
        ...(lastResponse ? { lastResponse: byId.get(message.d)?.lastResponse ?? null } : {}),
        attempt: message.t === 'ATTEMPTED' ? attemptOf.get(`${message.d}/${message.n}`) ?? null : null,
      }),
    );
  };
}
