/**
 * What a delivery shows its readers (the API, the live feed) beyond its stored columns.
 * Pure: the same for an entity and for a feed row.
 */
import { isOpenDelivery, type DeliveryStatus } from '../domain/index.js';

export interface DeliveryViewInput {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  notes: string[];
  lastError: string | null;
}

export interface DeliveryView {
  /** set while an attempt is due (PENDING, RETRYING); null once the delivery is final */
  nextAttemptAt: Date | null;
  /** a FAILED delivery's notes end with the reason it failed */
  notes: string[];
}

export function deliveryView(d: DeliveryViewInput): DeliveryView {
  return {
    nextAttemptAt: isOpenDelivery(d.status) ? d.nextAttemptAt : null,
    notes: d.lastError && d.status === 'FAILED' && !d.notes.includes(d.lastError) ? [...d.notes, d.lastError] : d.notes,
  };
}
