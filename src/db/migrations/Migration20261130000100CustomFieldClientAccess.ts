import { Migration } from '@mikro-orm/migrations';

/**
 * Who outside the staff may see or set a custom field. Both default to false: every
 * field is internal (webhook results land in such fields) until an ADMIN opens it.
 */
export class Migration20261130000100CustomFieldClientAccess extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "custom_fields" add column "client_visible" boolean not null default false, add column "client_writable" boolean not null default false`);
    // clientWritable implies clientVisible
    this.addSql(`alter table "custom_fields" add constraint "custom_fields_client_access_check" check (not "client_writable" or "client_visible")`);
  }
}
