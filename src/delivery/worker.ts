/**
 * The delivery worker: claims due deliveries in batches, sends them with bounded
 * concurrency, and records the outcomes (plain ones in batched transactions, ones that
 * touch the ticket one by one; recorder.ts keeps one that cannot be stored from holding
 * back the others). It never polls: it drains when woken (src/queue/drain.ts) — by a
 * notification of new deliveries, by the job engine at retry times, by the sweep that
 * takes over expired claims. Time comes from its clock, rows from its store.
 */
import type { SecretBox } from '../crypto/index.js';
import type { Logger } from '../log.js';
import { DrainLoop } from '../queue/index.js';
import type { ClaimedDelivery } from './store.js';
import { buildOutcome, expiredOutcome, failedWithoutAttempt, touchesTicket, type Outcome } from './outcome.js';
import type { Decision, RenderedRequest } from '../domain/index.js';
import type { AttemptResult } from './types.js';
import { openCredentials } from './credentials.js';

export interface Sender {
  send(req: RenderedRequest, extraHeaders: Record<string, string>, signal?: AbortSignal): Promise<AttemptResult>;
}

export interface RetryPolicy {
  readonly config: { readonly windowMs: number };
  decide(input: { result: AttemptResult; attemptNumber: number; firstAttemptAt: Date; now: Date }): Decision;
  mayStart(firstAttemptAt: Date | null, now: Date): boolean;
}

/** What the worker needs of the delivery rows (recorder.ts createWorkerStore on the database). */
export interface WorkerStore {
  /** claims up to `limit` due deliveries until `now + leaseMs` */
  claim(limit: number, now: Date, leaseMs: number): Promise<ClaimedDelivery[]>;
  /** gives claims back without counting an attempt */
  release(ids: string[]): Promise<void>;
  /** records outcomes that change delivery rows only; returns those recorded */
  record(outcomes: Outcome[]): Promise<Outcome[]>;
  /** records an outcome with its ticket work; returns whether anything was recorded */
  recordWithTicketWork(outcome: Outcome): Promise<boolean>;
}

export interface WorkerOptions {
  store: WorkerStore;
  sender: Sender;
  policy: RetryPolicy;
  box: SecretBox;
  log: Logger;
  concurrency: number;
  /** how long a claim holds before another worker may take the delivery over */
  leaseMs: number;
  /** called with each retry time recorded, so that a drain runs at that time */
  scheduleRetry: (at: Date) => void;
  clock?: () => Date;
  /** outcomes recorded per transaction at most */
  batchSize?: number;
}

export class DeliveryWorker {
  private readonly clock: () => Date;
  private readonly loop: DrainLoop;
  private inFlight = new Map<string, AbortController>();
  private pending: Outcome[] = [];
  private flushing: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: WorkerOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.loop = new DrainLoop(() => this.drain(), (err) => opts.log.error('delivery drain failed; the next wake-up retries it', err));
  }

  /** Drains every due delivery; concurrent calls share one drain. */
  wake(): Promise<void> {
    return this.loop.wake();
  }

  get busy(): number {
    return this.inFlight.size;
  }

  private async drain(): Promise<void> {
    const { concurrency, store } = this.opts;
    const loop = this.loop;
    // under load, claim in batches of a quarter of the slots rather than one query per
    // freed slot: fewer claim queries compete with the sends for the database
    const minClaim = Math.max(1, Math.floor(concurrency / 4));
    for (;;) {
      if (loop.stopping) return;
      const free = concurrency - this.inFlight.size;
      if (free <= 0) {
        await loop.changed();
        continue;
      }
      // gather freed slots for up to 5 ms (never longer: sends stuck on a silent receiver
      // must not hold the others back), then claim them in one query
      const deadline = Date.now() + 5;
      while (concurrency - this.inFlight.size < minClaim && this.inFlight.size > 0 && !loop.stopping && Date.now() < deadline) {
        await Promise.race([loop.changed(), new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
      }
      if (loop.stopping) return;
      loop.takeWake();
      const slots = concurrency - this.inFlight.size;
      const claimed = await store.claim(slots, this.clock(), this.opts.leaseMs);
      if (loop.stopping) return store.release(claimed.map((d) => d.id)); // stop() began meanwhile: not started
      for (const d of claimed) this.start(d);
      if (claimed.length >= slots || loop.woken) continue;
      // The drain is done once its in-flight sends have finished; a wake-up meanwhile (a
      // new delivery, a retry's time) claims again at once, so a receiver that never
      // answers holds back no other delivery.
      while (this.inFlight.size && !loop.stopping && !loop.woken) await loop.changed();
      if (!loop.woken || loop.stopping) break;
    }
    await this.flush();
  }

  private start(d: ClaimedDelivery): void {
    // claimed again while its attempt still runs here (its lease ran out by the clock):
    // one attempt of a delivery at a time; the running one records the outcome
    if (this.inFlight.has(d.id)) return;
    const controller = new AbortController();
    this.inFlight.set(d.id, controller);
    void this.attempt(d, controller.signal)
      .catch((err) => this.opts.log.error(`delivery ${d.id}: attempt failed unrecorded; its claim expires, its retry window still runs`, err))
      .finally(() => {
        this.inFlight.delete(d.id);
        this.loop.signal();
      });
  }

  private async attempt(d: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    if (!this.opts.policy.mayStart(d.firstAttemptAt, this.clock())) {
      return this.record(expiredOutcome(d, this.opts.policy.config.windowMs, this.clock()));
    }
    const number = d.attemptCount + 1;
    const headers: Record<string, string> = { 'X-Deskhooks-Delivery': d.id, 'X-Deskhooks-Attempt': String(number) };
    if (d.authSealed) {
      try {
        // Authorization and secret headers, redacted in the stored request
        Object.assign(headers, openCredentials(this.opts.box, d.authSealed));
      } catch (err) {
        // another DESKHOOKS_SECRET_KEY sealed it: no later try can do better, so fail it
        // now rather than let the claim expire and the delivery loop unattempted forever
        return this.record(failedWithoutAttempt(d, `not sent: ${(err as Error).message}`, this.clock()));
      }
    }
    const request = { ...d.request, headers: withoutAuthorization(d.request.headers) };
    const result = await this.opts.sender.send(request, headers, signal);
    if (signal.aborted) return; // shutting down: released in stop(), not counted as an attempt
    const now = this.clock();
    const decision = this.opts.policy.decide({ result, attemptNumber: number, firstAttemptAt: d.firstAttemptAt ?? result.startedAt, now });
    await this.record(buildOutcome(d, result, decision, now));
  }

  private async record(outcome: Outcome): Promise<void> {
    if (touchesTicket(outcome)) {
      if (await this.opts.store.recordWithTicketWork(outcome)) this.afterRecord([outcome]);
    } else {
      this.pending.push(outcome);
      if (this.pending.length >= (this.opts.batchSize ?? 200)) await this.flush();
      else this.scheduleFlush();
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    // group commit: outcomes finishing within a few ms share one transaction
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush().catch((err) => this.opts.log.error('recording delivery outcomes failed', err));
    }, 5);
  }

  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.flushing = (async () => {
      this.afterRecord(await this.opts.store.record(batch));
    })().finally(() => (this.flushing = null));
    await this.flushing;
  }

  private afterRecord(outcomes: Outcome[]): void {
    // each distinct retry time as it is: the job engine groups them (src/queue/jobs.ts runAt)
    const seen = new Set<number>();
    for (const o of outcomes) {
      if (o.decision.kind !== 'retry') continue;
      const t = o.decision.at.getTime();
      if (seen.has(t)) continue;
      seen.add(t);
      this.opts.scheduleRetry(o.decision.at);
    }
  }

  /**
   * Stops claiming; in-flight attempts get `graceMs` to finish, then are aborted and
   * their claims released so that another worker (or the next start) sends them.
   * Resolves when the outcomes are recorded, the claims released and the drain ended.
   */
  async stop(graceMs: number): Promise<void> {
    const drained = this.loop.stop(); // a drain waiting for slots sees `stopping` and ends
    // wait for the in-flight attempts to finish (each one signals), up to the grace
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    let over = false;
    void graceOver.then(() => (over = true));
    while (this.inFlight.size && !over) await Promise.race([this.loop.changed(), graceOver]);
    clearTimeout(timer);
    const aborted = [...this.inFlight.keys()];
    for (const controller of this.inFlight.values()) controller.abort();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.flush().catch((err) => this.opts.log.error('recording delivery outcomes at stop failed', err));
    await this.opts.store.release(aborted).catch((err) => this.opts.log.error('releasing claims at stop failed', err));
    await drained;
  }
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'authorization') out[k] = v;
  return out;
}
