import { Migration } from '@mikro-orm/migrations';

/**
 * A deleted webhook calls no one again (src/delivery/webhooks.ts deleteWebhook cancels its
 * open deliveries): the open deliveries of webhooks deleted before that rule are cancelled
 * here, each with a note.
 */
export class Migration20261201000200CancelDeletedWebhookDeliveries extends Migration {
  override async up(): Promise<void> {
    this.addSql(`update deliveries set status = 'CANCELLED', next_attempt_at = null, completed_at = now(),
                        notes = notes || jsonb_build_array('cancelled: its webhook "' || webhook_name || '" was deleted')
                  where webhook_id is null and status in ('PENDING', 'RETRYING')`);
  }
}
