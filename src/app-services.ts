/**
 * What resolvers and REST handlers need beyond the request: built once in main.ts (the
 * composition root) and handed down. Interfaces only, so tests can build their own.
 */
import type { Config } from './config.js';
import type { Orm } from './db/orm.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { Logger } from './log.js';
import type { DeliveryService } from './delivery/service.js';
import type { DeliveryEventHub } from './delivery/events.js';

export interface AppServices {
  config: Config;
  orm: Orm;
  secretBox: SecretBox;
  log: Logger;
  deliveries: DeliveryService;
  deliveryEvents: DeliveryEventHub;
  /** version for User-Agent: deskhooks/<version> */
  version: string;
}
