/**
 * Loads what the live feed shows for a batch of events: the delivery rows and, for
 * ATTEMPTED events, the attempt rows — two queries per notification.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { Delivery, DeliveryAttempt } from '../db/entities/index.js';
import type { DeliveryFeedItem, FeedLoader } from './events.js';

export function feedLoader(orm: MikroORM): FeedLoader {
  return async (messages) => {
    const em = orm.em.fork();
    const ids = [...new Set(messages.map((m) => m.d))];
    const attempted = messages.filter((m) => m.t === 'ATTEMPTED' && m.n !== null);
    const [deliveries, attempts] = await Promise.all([
      em.find(Delivery, { id: { $in: ids } }),
      attempted.length ? em.find(DeliveryAttempt, { deliveryId: { $in: [...new Set(attempted.map((m) => m.d))] } }) : Promise.resolve([]),
    ]);
    const byId = new Map(deliveries.map((d) => [d.id, d]));
    return messages.map(
      (message): DeliveryFeedItem => ({
        message,
        delivery: byId.get(message.d) ?? null,
        attempt: message.t === 'ATTEMPTED' ? attempts.find((a) => a.deliveryId === message.d && a.number === message.n) ?? null : null,
      }),
    );
  };
}
