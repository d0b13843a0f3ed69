/**
 * What resolvers and REST handlers are handed: the services, each built once in main.ts
 * (the composition root). A handler checks roles, calls one service method and maps the
 * result; the rules live in the services. Interfaces only, so tests can build their own.
 */
import type { Config } from './config.js';
import type { Orm } from './db/index.js';
import type { Logger } from './log.js';
import type { CustomFieldService, TicketService, UserService } from './helpdesk/index.js';
import type { DeliveryService, DeliveryEventHub, WebhookHealthService, WebhookService } from './delivery/index.js';
import type { RuleService } from './dispatcher/index.js';

export interface AppServices {
  config: Config;
  /** a fresh EntityManager fork per request and per websocket operation */
  orm: Orm;
  log: Logger;
  users: UserService;
  tickets: TicketService;
  customFields: CustomFieldService;
  webhooks: WebhookService;
  rules: RuleService;
  deliveries: DeliveryService;
  deliveryEvents: DeliveryEventHub;
  /** Webhook.health and Webhook.stats */
  webhookHealth: WebhookHealthService;
}
