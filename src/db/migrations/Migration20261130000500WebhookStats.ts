import { Migration } from '@mikro-orm/migrations';

/**
 * What `Webhook.health` and `Webhook.stats` read (src/delivery/health.ts), answered from
 * indexes alone:
 *
 * - every attempt carries its delivery's `webhook_id` and whether it `succeeded` (the
 *   retry policy's decision, not the status code: a 200 that fails a success rule is a
 *   failed attempt), both written with the attempt (src/delivery/store.ts). Webhook ids
 *   are never reused, so an attempt keeps the id of a deleted webhook;
 * - attempts by (webhook_id, started_at), carrying succeeded and duration_ms: the
 *   breaker's window, a period's counts, percentiles and hourly buckets;
 * - deliveries by (webhook_id, created_at), carrying status: a period's deliveries by
 *   status. It serves every lookup by webhook_id, so the single-column index goes.
 *
 * Autovacuum visits delivery_attempts after 2 % of new rows (PostgreSQL's default is
 * 20 %): attempts are only ever inserted, and an index-only scan reads the heap for every
 * page vacuum has not yet marked all-visible, which are the newest, the ones the stats read.
 *
 * Existing attempts are filled from their deliveries: an attempt succeeded when it is
 * the last attempt of a SUCCEEDED delivery (every earlier attempt of a delivery failed,
 * or there would have been no later one).
 */
export class Migration20261130000500WebhookStats extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "delivery_attempts" add column "webhook_id" bigint null, add column "succeeded" boolean not null default false`);
    this.addSql(`update "delivery_attempts" a set "webhook_id" = d."webhook_id", "succeeded" = (d."status" = 'SUCCEEDED' and a."number" = d."attempt_count")
                   from "deliveries" d where d."id" = a."delivery_id"`);
    this.addSql(`create index "delivery_attempts_webhook_started_idx" on "delivery_attempts" ("webhook_id", "started_at") include ("succeeded", "duration_ms")`);
    this.addSql(`create index "deliveries_webhook_created_idx" on "deliveries" ("webhook_id", "created_at") include ("status")`);
    this.addSql(`drop index "deliveries_webhook_id_index"`);
    this.addSql(`alter table "delivery_attempts" set (autovacuum_vacuum_insert_scale_factor = 0.02)`);
  }
}
