/**
 * The live delivery feed. Workers publish state changes with NOTIFY (identifiers and
 * state only); every API process LISTENs and fans them out to its subscribers, each
 * with its own bounded queue: a subscriber that does not read loses its oldest events
 * (and is told how many) instead of growing memory or holding other subscribers back.
 * With the connection's flow gate (src/http/ws-flow.ts) closed, a subscriber's events are
 * queued unloaded: a client that stops reading costs nothing until it reads again
 * (scripts/bench-feed.mjs measures it).
 *
 * Events are loaded in batches (the delivery and attempt rows as they were just written),
 * whatever the number of subscribers: the notifications of 10 ms share two queries, so
 * serving the feed costs a few queries per burst, not per event and subscriber.
 */
import type { DeliveryEventMessage, DeliveryStatus } from '../domain/index.js';
import { checkFilterValues } from './filter.js';

/** An event with what subscribers need of it, loaded once for all of them. */
export interface DeliveryFeedItem<D = unknown, A = unknown> {
  message: DeliveryEventMessage;
  /** null when the delivery is gone */
  delivery: D | null;
  /** ATTEMPTED: the attempt that just finished */
  attempt: A | null;
  /** not loaded yet: queued for a subscriber whose client is not reading */
  unloaded?: boolean;
  /** the body of the delivery's last answer (its latest attempt that got one; null: none yet); loaded only for a search, undefined otherwise */
  lastResponse?: string | null;
}

/** `lastResponse`: also load each delivery's last answer body (a subscriber searches it). */
export type FeedLoader = (messages: DeliveryEventMessage[], opts?: { lastResponse?: boolean }) => Promise<DeliveryFeedItem[]>;

/** For tests and for processes without a database: no rows, just the messages. */
export const messagesOnly: FeedLoader = async (messages) => messages.map((message) => ({ message, delivery: null, attempt: null }));

/**
 * The feed takes the log's DeliveryFilter. webhookId, ticketId and status are judged on
 * the message itself; ruleId, since, until and search on the delivery row the event
 * loads (a row filter), so an event that does not pass them is loaded but never sent.
 */
export interface DeliveryEventFilter {
  webhookId?: string | null;
  ticketId?: string | null;
  status?: string | null;
  ruleId?: string | null;
  /** created at or after */
  since?: Date | null;
  /** created before */
  until?: Date | null;
  /** case-insensitive substring of the rendered URL or body, or of the last answer's body */
  search?: string | null;
}

/** What the row filter reads of a loaded delivery (the feed loader's DeliveryRow has it). */
interface FeedRowFacts {
  ruleId: string | null;
  createdAt: Date;
  request: { url: string; body?: string | null };
}

/** A connection's flow control (src/http/ws-flow.ts): closed while the client has not read what was sent. */
export interface FlowGate {
  readonly open: boolean;
  /** resolves once the gate is open (or the socket closed) */
  wait(): Promise<void>;
}

export interface DeliveryEventHub {
  /** feeds a NOTIFY payload (a JSON array of messages) to the subscribers */
  receive(payload: string): Promise<void>;
  /** `gate`: the connection's flow control; while closed, events wait in the bounded queue */
  subscribe(filter: DeliveryEventFilter, maxQueue?: number, gate?: FlowGate): DeliverySubscription;
  readonly subscriberCount: number;
}

export interface DeliverySubscription extends AsyncIterableIterator<DeliveryFeedItem> {
  /** events dropped because the subscriber did not keep up */
  readonly dropped: number;
}

export function matches(filter: DeliveryEventFilter, e: DeliveryEventMessage): boolean {
  return (!filter.webhookId || filter.webhookId === e.w) && (!filter.ticketId || filter.ticketId === e.k) && (!filter.status || filter.status === e.s);
}

const hasRowFilter = (f: DeliveryEventFilter): boolean => !!(f.ruleId || f.since || f.until || f.search);

/** The row filter (ruleId, since, until, search) on a loaded event; a delivery that is gone passes none. */
export function matchesLoaded(filter: DeliveryEventFilter, item: DeliveryFeedItem): boolean {
  if (!hasRowFilter(filter)) return true;
  const d = item.delivery as FeedRowFacts | null;
  if (!d) return false;
  if (filter.ruleId && filter.ruleId !== d.ruleId) return false;
  const created = new Date(d.createdAt).getTime();
  if (filter.since && created < filter.since.getTime()) return false;
  if (filter.until && created >= filter.until.getTime()) return false;
  if (filter.search) {
    const needle = filter.search.toLowerCase();
    return [d.request.url, d.request.body, item.lastResponse].some((text) => !!text && text.toLowerCase().includes(needle));
  }
  return true;
}

export interface HubOptions {
  /** events from notifications arriving within this many ms are loaded together */
  batchMs?: number;
  /** …up to this many events per load */
  maxBatch?: number;
}

export function createDeliveryEventHub(
  load: FeedLoader = messagesOnly,
  onError: (msg: string, err: unknown) => void = () => {},
  { batchMs = 10, maxBatch = 1_000 }: HubOptions = {},
): DeliveryEventHub {
  const subscribers = new Set<Subscriber>();
  // batches are handled one after another, so each delivery's events stay in order
  let chain: Promise<void> = Promise.resolve();
  // events waiting to be loaded: a burst of notifications costs one load, not one each
  let pending: DeliveryEventMessage[] = [];
  let timer: NodeJS.Timeout | null = null;
  let flushed: Promise<void> | null = null;
  let resolveFlushed: () => void = () => {};

  const deliver = async (events: DeliveryEventMessage[]) => {
    if (!subscribers.size) return;
    // a subscriber whose client is not reading gets the events unloaded: nothing is
    // spent on them unless it reads again (then they are loaded in batches)
    const all = [...subscribers];
    const gated = all.filter((s) => s.gated);
    const open = all.filter((s) => !s.gated);
    for (const message of events) {
      const targets = gated.filter((s) => matches(s.filter, message));
      if (!targets.length) continue;
      const item: DeliveryFeedItem = { message, delivery: null, attempt: null, unloaded: true };
      for (const s of targets) s.push(item);
    }
    const wanted = events.filter((e) => open.some((s) => matches(s.filter, e)));
    if (!wanted.length) return;
    const items = await load(wanted, { lastResponse: open.some((s) => !!s.filter.search) });
    for (const item of items) for (const s of open) if (matches(s.filter, item.message) && matchesLoaded(s.filter, item)) s.push(item);
  };

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    const done = resolveFlushed;
    pending = [];
    flushed = null;
    chain = chain
      .then(() => deliver(batch))
      .catch((err) => onError('loading delivery events for the feed failed', err))
      .finally(done);
  };

  return {
    receive(payload) {
      if (!subscribers.size) return Promise.resolve();
      let events: DeliveryEventMessage[];
      try {
        events = JSON.parse(payload) as DeliveryEventMessage[];
      } catch (err) {
        onError('unreadable delivery event notification', err);
        return Promise.resolve();
      }
      const wanted = events.filter((e) => [...subscribers].some((s) => matches(s.filter, e)));
      if (!wanted.length) return flushed ?? Promise.resolve();
      pending.push(...wanted);
      const mine = (flushed ??= new Promise<void>((resolve) => (resolveFlushed = resolve)));
      if (pending.length >= maxBatch) flush();
      else timer ??= setTimeout(flush, batchMs);
      return mine;
    },
    subscribe(filter, maxQueue = 10_000, gate) {
      // a filter no delivery can pass is BAD_USER_INPUT naming the field, as for the log, not a feed that never matches
      checkFilterValues({ ...filter, status: filter.status as DeliveryStatus | null | undefined });
      const s = new Subscriber(filter, maxQueue, () => subscribers.delete(s), load, onError, gate);
      subscribers.add(s);
      return s;
    },
    get subscriberCount() {
      return subscribers.size;
    },
  };
}

class Subscriber implements DeliverySubscription {
  private queue: DeliveryFeedItem[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<DeliveryFeedItem>) => void) | null = null;
  private closed = false;
  dropped = 0;

  constructor(
    readonly filter: DeliveryEventFilter,
    private readonly maxQueue: number,
    private readonly onClose: () => void,
    private readonly load: FeedLoader,
    private readonly onError: (msg: string, err: unknown) => void,
    private readonly gate?: FlowGate,
  ) {}

  get gated(): boolean {
    return this.gate !== undefined && !this.gate.open;
  }

  push(e: DeliveryFeedItem): void {
    if (this.closed) return;
    if (this.queue.length - this.head >= this.maxQueue) {
      this.head++;
      this.dropped++;
    }
    this.queue.push(e);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.feedWaiter();
  }

  /** Hands the oldest queued event to a waiting next(). */
  private feedWaiter(): void {
    if (!this.waiting || this.head >= this.queue.length) return;
    const w = this.waiting;
    this.waiting = null;
    void this.next().then(w);
  }

  async next(): Promise<IteratorResult<DeliveryFeedItem>> {
    for (;;) {
      // a client that has not read what it was sent gets nothing new until it does
      if (this.gate && !this.gate.open) await this.gate.wait();
      if (this.head >= this.queue.length) {
        if (this.closed) return { value: undefined, done: true };
        return new Promise((resolve) => (this.waiting = resolve));
      }
      const item = this.queue[this.head]!;
      if (this.needsLoad(item)) {
        await this.loadQueued();
        continue; // the head may have moved meanwhile (drops)
      }
      this.head++;
      if (!matchesLoaded(this.filter, item)) continue;
      return { value: item, done: false };
    }
  }

  /** Unloaded, or loaded (for another subscriber) without the last answer this one searches. */
  private needsLoad(item: DeliveryFeedItem): boolean {
    return !!item.unloaded || (!!this.filter.search && item.lastResponse === undefined);
  }

  /** Loads the unloaded events at the head of the queue, up to 500, in one batch. */
  private async loadQueued(): Promise<void> {
    const batch: DeliveryFeedItem[] = [];
    for (let i = this.head; i < this.queue.length && batch.length < 500; i++) {
      const item = this.queue[i]!;
      if (this.needsLoad(item)) batch.push(item);
    }
    let loaded: DeliveryFeedItem[];
    try {
      loaded = await this.load(batch.map((b) => b.message), { lastResponse: !!this.filter.search });
    } catch (err) {
      // dropped, as a batch the hub cannot load for reading subscribers (deliver), not shown
      // as deliveries that are gone; the same objects stay unloaded in other queues
      this.onError('loading queued delivery events for the feed failed; they are dropped', err);
      const failed = new Set(batch);
      this.queue = this.queue.filter((item, i) => i < this.head || !failed.has(item));
      this.dropped += batch.length;
      return;
    }
    // in place: the same objects may sit in other gated subscribers' queues
    batch.forEach((b, i) => Object.assign(b, loaded[i], { unloaded: false }));
  }

  return(): Promise<IteratorResult<DeliveryFeedItem>> {
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
