/**
 * The live delivery feed. Workers publish state changes with NOTIFY (identifiers and
 * state only); every API process LISTENs and fans them out to its subscribers, each
 * with its own bounded queue: a subscriber that does not read loses its oldest events
 * (and is told how many), it never slows deliveries or other subscribers down.
 */
import type { DeliveryEventMessage } from './store.js';

export interface DeliveryEventFilter {
  webhookId?: string | null;
  ticketId?: string | null;
  status?: string | null;
}

export interface DeliveryEventHub {
  /** feeds a NOTIFY payload (a JSON array of messages) to the subscribers */
  receive(payload: string): void;
  subscribe(filter: DeliveryEventFilter, maxQueue?: number): DeliverySubscription;
  readonly subscriberCount: number;
}

export interface DeliverySubscription extends AsyncIterableIterator<DeliveryEventMessage> {
  /** events dropped because the subscriber did not keep up */
  readonly dropped: number;
}

export function matches(filter: DeliveryEventFilter, e: DeliveryEventMessage): boolean {
  return (!filter.webhookId || filter.webhookId === e.w) && (!filter.ticketId || filter.ticketId === e.k) && (!filter.status || filter.status === e.s);
}

export function createDeliveryEventHub(onError: (msg: string, err: unknown) => void = () => {}): DeliveryEventHub {
  const subscribers = new Set<Subscriber>();

  return {
    receive(payload) {
      if (!subscribers.size) return;
      let events: DeliveryEventMessage[];
      try {
        events = JSON.parse(payload) as DeliveryEventMessage[];
      } catch (err) {
        onError('unreadable delivery event notification', err);
        return;
      }
      for (const e of events) for (const s of subscribers) if (matches(s.filter, e)) s.push(e);
    },
    subscribe(filter, maxQueue = 10_000) {
      const s = new Subscriber(filter, maxQueue, () => subscribers.delete(s));
      subscribers.add(s);
      return s;
    },
    get subscriberCount() {
      return subscribers.size;
    },
  };
}

class Subscriber implements DeliverySubscription {
  private queue: DeliveryEventMessage[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<DeliveryEventMessage>) => void) | null = null;
  private closed = false;
  dropped = 0;

  constructor(
    readonly filter: DeliveryEventFilter,
    private readonly maxQueue: number,
    private readonly onClose: () => void,
  ) {}

  push(e: DeliveryEventMessage): void {
    if (this.closed) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: e, done: false });
      return;
    }
    if (this.queue.length - this.head >= this.maxQueue) {
      this.head++;
      this.dropped++;
    }
    this.queue.push(e);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  next(): Promise<IteratorResult<DeliveryEventMessage>> {
    if (this.head < this.queue.length) return Promise.resolve({ value: this.queue[this.head++]!, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<DeliveryEventMessage>> {
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.onClose();
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
