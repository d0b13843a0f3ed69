import { Migration } from '@mikro-orm/migrations';

/**
 * What the delivery log's filter (src/delivery/filter.ts) reads from indexes:
 *
 * - `search`, a case-insensitive substring of the rendered URL, the rendered body or the
 *   body of the last answer: pg_trgm (shipped with PostgreSQL and the embedded server; a
 *   trusted extension the database owner may create) and a GIN trigram index over the
 *   three texts, which answers `ILIKE '%…%'` on any of them (a BitmapOr of its columns).
 * - The texts live in `delivery_texts`, one row per delivery, not in `deliveries`: a
 *   delivery row changes at every claim and attempt, and each such (non-HOT) update would
 *   index all its trigrams again. A delivery's row is made with it by a statement trigger
 *   (whatever inserts deliveries, one statement for a batch) and changes only when an
 *   answer arrives (`last_response`, written with the attempt by src/delivery/store.ts).
 *   It carries the delivery's `created_at`, so that a search pages newest first on this
 *   table alone. Existing deliveries get theirs, with their last answer.
 * - `ruleId` and `Ticket.deliveries`: newest first by rule and by ticket, (created_at, id)
 *   as the log pages. The ticket index serves every lookup by ticket_id, so the
 *   single-column one goes.
 */
export class Migration20261130000700DeliverySearch extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists pg_trgm`);
    this.addSql(`create table "delivery_texts" (
      "delivery_id" uuid primary key references "deliveries" ("id") on delete cascade,
      "created_at" timestamptz not null,
      "url" text not null,
      "body" text null,
      "last_response" text null)`);
    this.addSql(`insert into "delivery_texts" ("delivery_id", "created_at", "url", "body", "last_response")
      select d."id", d."created_at", coalesce(d."request"->>'url', ''), d."request"->>'body',
             (select a."response_body" from "delivery_attempts" a where a."delivery_id" = d."id" and a."response_body" is not null order by a."number" desc limit 1)
        from "deliveries" d`);
    this.addSql(`create or replace function deskhooks_delivery_texts() returns trigger language plpgsql as $$
begin
  insert into delivery_texts (delivery_id, created_at, url, body)
  select id, created_at, coalesce(request->>'url', ''), request->>'body' from new_rows;
  return null;
end $$`);
    this.addSql(`create trigger "deliveries_texts" after insert on "deliveries" referencing new table as new_rows for each statement execute function deskhooks_delivery_texts()`);
    this.addSql(`create index "delivery_texts_search_idx" on "delivery_texts" using gin ("url" gin_trgm_ops, "body" gin_trgm_ops, "last_response" gin_trgm_ops)`);
    this.addSql(`create index "delivery_texts_created_idx" on "delivery_texts" ("created_at", "delivery_id")`);
    this.addSql(`create index "deliveries_rule_created_idx" on "deliveries" ("rule_id", "created_at", "id") where "rule_id" is not null`);
    this.addSql(`create index "deliveries_ticket_created_idx" on "deliveries" ("ticket_id", "created_at", "id")`);
    this.addSql(`drop index "deliveries_ticket_id_index"`);
  }
}
