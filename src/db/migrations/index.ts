import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261129000000Init } from './Migration20261129000000Init.js';
import { Migration20261129000100Notify } from './Migration20261129000100Notify.js';
import { Migration20261130000100CustomFieldClientAccess } from './Migration20261130000100CustomFieldClientAccess.js';
import { Migration20261130000200DispatchDefinitions } from './Migration20261130000200DispatchDefinitions.js';
import { Migration20261130000300WebhookPolicy } from './Migration20261130000300WebhookPolicy.js';
import { Migration20261130000400WebhookState } from './Migration20261130000400WebhookState.js';
import { Migration20261130000500WebhookStats } from './Migration20261130000500WebhookStats.js';
import { Migration20261130000600RuleTimers } from './Migration20261130000600RuleTimers.js';
import { Migration20261130000700DeliverySearch } from './Migration20261130000700DeliverySearch.js';
import { Migration20261130000800TimerNotifyOnDue } from './Migration20261130000800TimerNotifyOnDue.js';
import { Migration20261130000900QueueUpkeep } from './Migration20261130000900QueueUpkeep.js';
import { Migration20261130001000DeferredSearchTexts } from './Migration20261130001000DeferredSearchTexts.js';
import { Migration20261130001100EventsWokenHere } from './Migration20261130001100EventsWokenHere.js';
import { Migration20261130001200DropDueIndex } from './Migration20261130001200DropDueIndex.js';
import { Migration20261201000000DropDuplicateAttemptIndex } from './Migration20261201000000DropDuplicateAttemptIndex.js';
import { Migration20261201000100TimersOnStatus } from './Migration20261201000100TimersOnStatus.js';
import { Migration20261201000200CancelDeletedWebhookDeliveries } from './Migration20261201000200CancelDeletedWebhookDeliveries.js';
import { Migration20261201000300DeliveryTurns } from './Migration20261201000300DeliveryTurns.js';
import { Migration20261201000400TurnWakesWorkers } from './Migration20261201000400TurnWakesWorkers.js';
import { Migration20261201000500TimerAnyOnce } from './Migration20261201000500TimerAnyOnce.js';
import { Migration20261202000100TimersOnNewTickets } from './Migration20261202000100TimersOnNewTickets.js';

/** Every migration, oldest first. Add new ones at the end; never edit a released one. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261129000000Init', class: Migration20261129000000Init },
  { name: 'Migration20261129000100Notify', class: Migration20261129000100Notify },
  { name: 'Migration20261130000100CustomFieldClientAccess', class: Migration20261130000100CustomFieldClientAccess },
  { name: 'Migration20261130000200DispatchDefinitions', class: Migration20261130000200DispatchDefinitions },
  { name: 'Migration20261130000300WebhookPolicy', class: Migration20261130000300WebhookPolicy },
  { name: 'Migration20261130000400WebhookState', class: Migration20261130000400WebhookState },
  { name: 'Migration20261130000500WebhookStats', class: Migration20261130000500WebhookStats },
  { name: 'Migration20261130000600RuleTimers', class: Migration20261130000600RuleTimers },
  { name: 'Migration20261130000700DeliverySearch', class: Migration20261130000700DeliverySearch },
  { name: 'Migration20261130000800TimerNotifyOnDue', class: Migration20261130000800TimerNotifyOnDue },
  { name: 'Migration20261130000900QueueUpkeep', class: Migration20261130000900QueueUpkeep },
  { name: 'Migration20261130001000DeferredSearchTexts', class: Migration20261130001000DeferredSearchTexts },
  { name: 'Migration20261130001100EventsWokenHere', class: Migration20261130001100EventsWokenHere },
  { name: 'Migration20261130001200DropDueIndex', class: Migration20261130001200DropDueIndex },
  { name: 'Migration20261201000000DropDuplicateAttemptIndex', class: Migration20261201000000DropDuplicateAttemptIndex },
  { name: 'Migration20261201000100TimersOnStatus', class: Migration20261201000100TimersOnStatus },
  { name: 'Migration20261201000200CancelDeletedWebhookDeliveries', class: Migration20261201000200CancelDeletedWebhookDeliveries },
  { name: 'Migration20261201000300DeliveryTurns', class: Migration20261201000300DeliveryTurns },
  { name: 'Migration20261201000400TurnWakesWorkers', class: Migration20261201000400TurnWakesWorkers },
  { name: 'Migration20261201000500TimerAnyOnce', class: Migration20261201000500TimerAnyOnce },
  { name: 'Migration20261202000100TimersOnNewTickets', class: Migration20261202000100TimersOnNewTickets },
];
