import { Migration } from '@mikro-orm/migrations';

/**
 * A webhook's delivery policy: Standard Webhooks signing (secrets sealed with the
 * SecretBox; the previous one co-signs until `signing_previous_valid_until`), the success
 * rule (null: statuses 200-399, no body check), ordering, isolation limits, and why the
 * system switched it off. Only definitions live here: the statement triggers on
 * `webhooks` raise dispatch_definitions.version on every change.
 */
export class Migration20261130000300WebhookPolicy extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "webhooks"
      add column "signing_enabled" boolean not null default false,
      add column "signing_secret_sealed" text null,
      add column "signing_previous_secret_sealed" text null,
      add column "signing_previous_valid_until" timestamptz null,
      add column "success_rule" jsonb null,
      add column "ordering" text not null default 'NONE' check ("ordering" in ('NONE', 'PER_TICKET')),
      add column "max_concurrency" int not null default 10 check ("max_concurrency" between 1 and 1000),
      add column "rate_limit_per_second" double precision null check ("rate_limit_per_second" between 0.01 and 10000),
      add column "disabled_reason" text null,
      add column "disabled_at" timestamptz null`);
  }
}
