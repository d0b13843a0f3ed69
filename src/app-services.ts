/**
 * What resolvers and REST handlers need beyond the request: built once in main.ts (the
 * composition root) and handed down. Interfaces only, so tests can build their own.
 */
import type { Config } from './config.js';
import type { Orm } from './db/index.js';
import type { SecretBox } from './crypto/index.js';
import type { Logger } from './log.js';
import type { DeliveryService, DeliveryEventHub } from './delivery/index.js';

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
