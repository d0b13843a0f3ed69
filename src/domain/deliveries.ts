/** PENDING and RETRYING are open (an attempt is due); the others are final. */
export const DELIVERY_STATUSES = ['PENDING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The open states: an attempt is due or running (src/delivery/store.ts owns the transitions). */
export const OPEN_DELIVERY_STATUSES = ['PENDING', 'RETRYING'] as const satisfies readonly DeliveryStatus[];

export const isOpenDelivery = (status: DeliveryStatus): boolean => (OPEN_DELIVERY_STATUSES as readonly DeliveryStatus[]).includes(status);

/** What happened to a delivery, as the live feed (`deliveryEvents`) tells it. */
export const DELIVERY_EVENT_TYPES = ['QUEUED', 'ATTEMPTED', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type DeliveryEventType = (typeof DELIVERY_EVENT_TYPES)[number];

/** A state change as published on the feed: identifiers and state only. */
export interface DeliveryEventMessage {
  t: DeliveryEventType;
  /** delivery id */
  d: string;
  /** webhook id */
  w: string | null;
  /** ticket id */
  k: string | null;
  s: DeliveryStatus;
  /** attempt number (ATTEMPTED) */
  n: number | null;
  /** ISO 8601 */
  at: string;
}

/**
 * What the retry policy makes of an attempt. `switchOff`: the receiver is gone (410): the
 * webhook is switched off with this reason and its other open deliveries cancelled.
 */
export type Decision = { kind: 'succeeded' } | { kind: 'retry'; at: Date } | { kind: 'failed'; reason: string; switchOff?: string };
