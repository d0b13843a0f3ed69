import { Migration } from '@mikro-orm/migrations';

/**
 * The delivery log's search texts (`delivery_texts`, Migration20261130000700DeliverySearch)
 * are written by an indexer (src/delivery/text-indexer.ts), not in the transactions that
 * create deliveries and record their answers: those write one row to
 * `delivery_text_queue` instead, so that trigram indexing (and the GIN index's merges of
 * its pending list, hundreds of milliseconds when it fills) never runs inside them.
 *
 * - `delivery_text_queue`: a delivery whose texts are to be (re)written, in arrival order
 *   (a delivery may be queued more than once: nothing ever waits on a unique key there).
 * - `delivery_texts.last_response_number`: the attempt whose answer `last_response` is;
 *   an indexer never replaces it with an older one.
 */
export class Migration20261130001000DeferredSearchTexts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "delivery_text_queue" ("id" bigserial primary key, "delivery_id" uuid not null)`);
    this.addSql(`alter table "delivery_text_queue" set (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 200,
      autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200)`);
    this.addSql(`alter table "delivery_texts" add column "last_response_number" int null`);
    this.addSql(`update "delivery_texts" t set "last_response_number" = (select max(a."number") from "delivery_attempts" a
      where a."delivery_id" = t."delivery_id" and a."response_body" is not null) where t."last_response" is not null`);
    this.addSql(`create or replace function deskhooks_delivery_texts() returns trigger language plpgsql as $$
begin
  insert into delivery_text_queue (delivery_id) select id from new_rows;
  return null;
end $$`);
  }
}
