import { Migration } from '@mikro-orm/migrations';

/** The initial schema. Generated from the entities once, then committed and kept as is. */
export class Migration20261129000000Init extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "custom_fields" ("id" bigserial primary key, "key" text not null, "name" text not null, "type" text not null, "options" jsonb not null, "created_at" timestamptz not null)`);
    this.addSql(`alter table "custom_fields" add constraint "custom_fields_key_unique" unique ("key")`);
    this.addSql(`create table "deliveries" ("id" uuid not null, "webhook_id" bigint null, "webhook_name" text not null, "ticket_id" bigint null, "rule_id" bigint null, "event" text null, "status" text not null default 'PENDING', "request" jsonb not null, "auth_sealed" text null, "attempt_count" int not null default 0, "next_attempt_at" timestamptz null, "first_attempt_at" timestamptz null, "locked_until" timestamptz null, "response_data" jsonb null, "notes" jsonb not null, "last_error" text null, "continuation" jsonb null, "processing" jsonb not null, "redelivery_of" uuid null, "created_at" timestamptz not null, "completed_at" timestamptz null, constraint "deliveries_pkey" primary key ("id"))`);
    this.addSql(`create index "deliveries_webhook_id_index" on "deliveries" ("webhook_id")`);
    this.addSql(`create index "deliveries_ticket_id_index" on "deliveries" ("ticket_id")`);
    this.addSql(`create index "deliveries_status_index" on "deliveries" ("status")`);
    this.addSql(`create index "deliveries_created_at_id_index" on "deliveries" ("created_at", "id")`);
    this.addSql(`create index "deliveries_due_idx" on "deliveries" ("next_attempt_at") where "status" in ('PENDING','RETRYING')`);
    this.addSql(`create table "delivery_attempts" ("id" bigserial primary key, "delivery_id" uuid not null, "number" int not null, "started_at" timestamptz not null, "duration_ms" int not null, "status_code" int null, "error" text null, "response_body" text null)`);
    this.addSql(`create index "delivery_attempts_delivery_id_number_index" on "delivery_attempts" ("delivery_id", "number")`);
    this.addSql(`create table "rules" ("id" bigserial primary key, "name" text not null, "description" text not null default '', "enabled" boolean not null default true, "position" int not null default 0, "continue_after_match" boolean not null default false, "events" jsonb not null, "match" text not null default 'ALL', "conditions" jsonb not null, "actions" jsonb not null, "created_at" timestamptz not null, "updated_at" timestamptz not null)`);
    this.addSql(`create table "ticket_events" ("id" bigserial primary key, "kind" text not null default 'EVENT', "ticket_id" bigint not null, "type" text not null, "payload" jsonb not null, "created_at" timestamptz not null, "processed_at" timestamptz null, "locked_until" timestamptz null, "tries" int not null default 0)`);
    this.addSql(`create index "ticket_events_pending_idx" on "ticket_events" ("id") where "processed_at" is null`);
    this.addSql(`create table "users" ("id" bigserial primary key, "name" text not null, "email" text not null, "role" text check ("role" in ('ADMIN', 'AGENT', 'CLIENT')) not null, "phone" text null, "telegram_chat_id" text null, "api_key_hash" text not null, "created_at" timestamptz not null)`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email")`);
    this.addSql(`alter table "users" add constraint "users_api_key_hash_unique" unique ("api_key_hash")`);
    this.addSql(`create table "tickets" ("id" bigserial primary key, "title" text not null, "description" text not null, "status" text not null default 'OPEN', "priority" text not null default 'NORMAL', "requester_id" bigint not null, "assignee_id" bigint null, "parent_id" bigint null, "custom_fields" jsonb not null, "created_at" timestamptz not null, "updated_at" timestamptz not null)`);
    this.addSql(`create index "tickets_status_index" on "tickets" ("status")`);
    this.addSql(`create index "tickets_requester_id_index" on "tickets" ("requester_id")`);
    this.addSql(`create index "tickets_parent_id_index" on "tickets" ("parent_id")`);
    this.addSql(`create table "posts" ("id" bigserial primary key, "ticket_id" bigint not null, "kind" text not null, "text" text not null, "author_id" bigint null, "created_at" timestamptz not null)`);
    this.addSql(`create index "posts_ticket_id_created_at_index" on "posts" ("ticket_id", "created_at")`);
    this.addSql(`create table "webhooks" ("id" bigserial primary key, "name" text not null, "method" text not null, "url" text not null, "format" text not null, "body" text not null default '', "headers" jsonb not null, "auth_type" text not null default 'NONE', "auth_username" text null, "auth_secret_sealed" text null, "response_mappings" jsonb not null, "success_comment" text not null default '', "enabled" boolean not null default true, "created_at" timestamptz not null, "updated_at" timestamptz not null)`);
    this.addSql(`alter table "tickets" add constraint "tickets_requester_id_foreign" foreign key ("requester_id") references "users" ("id") on update cascade`);
    this.addSql(`alter table "tickets" add constraint "tickets_assignee_id_foreign" foreign key ("assignee_id") references "users" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "tickets" add constraint "tickets_parent_id_foreign" foreign key ("parent_id") references "tickets" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "posts" add constraint "posts_ticket_id_foreign" foreign key ("ticket_id") references "tickets" ("id") on update cascade on delete cascade`);
    this.addSql(`alter table "posts" add constraint "posts_author_id_foreign" foreign key ("author_id") references "users" ("id") on update cascade on delete set null`);
    this.addSql(`alter table "deliveries" add constraint "deliveries_webhook_id_foreign" foreign key ("webhook_id") references "webhooks" ("id") on delete set null`);
    this.addSql(`alter table "deliveries" add constraint "deliveries_ticket_id_foreign" foreign key ("ticket_id") references "tickets" ("id") on delete set null`);
    this.addSql(`alter table "deliveries" add constraint "deliveries_rule_id_foreign" foreign key ("rule_id") references "rules" ("id") on delete set null`);
    this.addSql(`alter table "delivery_attempts" add constraint "delivery_attempts_delivery_id_foreign" foreign key ("delivery_id") references "deliveries" ("id") on delete cascade`);
    this.addSql(`alter table "delivery_attempts" add constraint "delivery_attempts_delivery_id_number_unique" unique ("delivery_id", "number")`);
  }
}
