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
import { batchedOutcome, buildOutcome, expiredOutcome, failedWithoutAttempt, lostClaimNote, touchesTicket, withNote, type Outcome } from './outcome.js';
import type { Decision, RenderedRequest } from '../domain/index.js';
import type { AttemptResult } from './types.js';
import { attemptHeaders, openCredentials, quotableCredentials, redactAnswer } from './credentials.js';
import { credentialsOpener, signingKeysOpener, type SendPolicy } from './send-policy.js';
import { signatureHeaders } from './signing.js';
import { judgeAnswer } from './success-rule.js';

export interface Sender {
  send(req: RenderedRequest, extraHeaders: Record<string, string>, signal?: AbortSignal): Promise<AttemptResult>;
}

export interface RetryPolicy {
  readonly config: { readonly windowMs: number };
  decide(input: { result: AttemptResult; attemptNumber: number; firstAttemptAt: Date; now: Date }): Decision;
  mayStart(firstAttemptAt: Date | null, now: Date): boolean;
}

/** A claim's deliveries, with when deliveries held by a webhook's limits may go (scheduling.ts). */
export interface ClaimBatch {
  deliveries: ClaimedDelivery[];
  /** the earliest time a held delivery may go (a rate limit's next token, a breaker's probe) */
  wakeAt?: Date | null;
  /** a webhook's in-flight limit held back some of its due deliveries: an attempt ending frees a slot to claim */
  heldByInFlight?: boolean;
  /** a breaker's probe (claimed by this claim or in flight) held back its webhook's other deliveries: its recorded outcome lets them go */
  heldByProbe?: boolean;
  /** webhook state changes made by the claim, for the log */
  notes?: string[];
  /** the send-time policies (signing secrets, success rule) of the deliveries' webhooks; absent: unsigned, the default rule */
  policies?: Map<string, SendPolicy>;
  /**
   * the webhooks whose in-flight limit held back due deliveries and whose slots may go
   * straight from an attempt ending to a successor (scheduling.ts handsOverSlots)
   */
  handOver?: string[];
}

/**
 * A claim for the slots a worker keeps for webhooks with no attempt in flight in it: none of
 * `busy`'s deliveries, and at most one delivery of any other webhook.
 */
export interface ReservedClaim {
  busy: string[];
}

/**
 * How long a successor waits for its predecessor's attempt to end before it is given back,
 * and how young an attempt must be to get one: a receiver slower than this gains nothing
 * from the claim saved, and a hanging one holds no claims beyond its own attempts.
 */
export const SUCCESSOR_WAIT_MS = 1_000;

/** A successor: a claimed delivery not yet started, waiting for its predecessor's attempt to end. */
interface Waiting {
  d: ClaimedDelivery;
  policy: SendPolicy | null;
  /** a successor's give-back after SUCCESSOR_WAIT_MS */
  timer?: NodeJS.Timeout;
}

/** An attempt in flight: its abort, its webhook (null: the webhook was deleted), the delivery that takes its slot when it ends. */
interface Running {
  controller: AbortController;
  webhookId: string | null;
  /** performance.now() at its start */
  startedAt: number;
  successor?: Waiting;
  /** its successor was given back (it waited too long): it gets no other */
  handedBack?: boolean;
  /** its outcome was not a success: its successor is given back, not started (the breaker decides at the next claim) */
  failed?: boolean;
}

/**
 * The slots of a worker that only webhooks with no attempt in flight in it may take: a
 * webhook whose receiver hangs (however high its maxConcurrency), or several of them, fill
 * the others and wait for their timeouts there, while these go on carrying other webhooks'
 * deliveries. An eighth of the slots, none below 8.
 */
export const reservedSlots = (concurrency: number): number => (concurrency >= 8 ? Math.max(1, Math.floor(concurrency / 8)) : 0);

/** What the worker needs of the delivery rows (recorder.ts createWorkerStore on the database). */
export interface WorkerStore {
  /**
   * claims up to `limit` due deliveries until `now + leaseMs`, within every webhook's
   * limits; `finished`: claimed deliveries whose attempt has ended, its outcome not yet
   * recorded (no longer in flight)
   */
  claim(limit: number, now: Date, leaseMs: number, finished?: string[], reserved?: ReservedClaim): Promise<ClaimedDelivery[] | ClaimBatch>;
  /** gives claims back without counting an attempt */
  release(ids: string[]): Promise<void>;
  /** records outcomes that change delivery rows only; returns those recorded */
  record(outcomes: Outcome[]): Promise<Outcome[]>;
  /** records an outcome with its ticket work; returns whether anything was recorded */
  recordWithTicketWork(outcome: Outcome): Promise<boolean>;
  /** switches a gone webhook off and cancels its other open deliveries (store.ts switchOffWebhook) */
  switchOff?(webhookId: string, exceptId: string, reason: string, now: Date): Promise<number>;
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
  /** called after outcomes were recorded */
  recorded?: () => void;
  /** how long a successor waits for its predecessor's attempt (default SUCCESSOR_WAIT_MS) */
  successorWaitMs?: number;
}

export class DeliveryWorker {
  private readonly clock: () => Date;
  private readonly loop: DrainLoop;
  private readonly successorWaitMs: number;
  /** each delivery in flight */
  private inFlight = new Map<string, Running>();
  /** successors not started because a stop began: given back by stop() */
  private unstarted: string[] = [];
  /** a claim is on its way to the database (the drain makes one at a time) */
  private claiming = false;
  /**
   * The last claim may have left due deliveries behind (webhook limits, a probe, a full
   * claim, slots kept for idle webhooks), which a recorded attempt may let go. When it left
   * none, what became due since comes with its own wake-up (a new delivery's, a retry's
   * job, a turn given).
   */
  private leftBehind = true;
  /** successors that waited too long while a claim was on its way: given back once it returned */
  private givenBackAfterClaim: string[] = [];
  /** the webhooks whose slots the last claim found full, and which hand slots over (ClaimBatch.handOver) */
  private handOver = new Set<string>();
  private pending: Outcome[] = [];
  private recording: Outcome[] = [];
  private flushing: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private wakeTimer: { at: number; timer: NodeJS.Timeout } | null = null;
  private retake: { timer: NodeJS.Timeout; latest: number } | null = null;
  private readonly signingKeys: ReturnType<typeof signingKeysOpener>;
  private readonly credentials: ReturnType<typeof credentialsOpener>;

  constructor(private readonly opts: WorkerOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.successorWaitMs = opts.successorWaitMs ?? SUCCESSOR_WAIT_MS;
    this.signingKeys = signingKeysOpener(opts.box);
    this.credentials = credentialsOpener(opts.box);
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
    const reserved = reservedSlots(concurrency);
    // under load, claim in batches of a quarter of the slots any webhook may take rather than
    // one query per freed slot: fewer claim queries compete with the sends for the database
    const minClaim = Math.max(1, Math.floor((concurrency - reserved) / 4));
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
      while (concurrency - reserved - this.inFlight.size < minClaim && this.inFlight.size > 0 && !loop.stopping && Date.now() < deadline) {
        await Promise.race([loop.changed(), new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
      }
      if (loop.stopping) return;
      loop.takeWake();
      // the reserved slots go one each to webhooks with nothing in flight here
      const slots = concurrency - this.inFlight.size;
      const open = slots - reserved;
      const busy = open > 0 ? undefined : { busy: [...new Set([...this.inFlight.values()].flatMap((f) => (f.webhookId === null ? [] : [f.webhookId])))] };
      // a webhook whose slots are all taken: a successor is claimed now for each of its
      // attempts in flight here, to start the moment that attempt ends (no claim between)
      const handing = open > 0 ? this.predecessors() : [];
      const room = open > 0 ? open : slots;
      const asked = room + handing.length;
      const now = this.clock();
      this.claiming = true;
      let gaveBack = false;
      const batch = await store.claim(asked, now, this.opts.leaseMs, this.countedOut(handing), busy).finally(() => {
        this.claiming = false;
        const back = this.givenBackAfterClaim.splice(0);
        gaveBack = back.length > 0;
        this.giveBack(back);
      });
      const claimed = Array.isArray(batch) ? batch : batch.deliveries;
      this.leftBehind =
        gaveBack ||
        Array.isArray(batch) ||
        busy !== undefined ||
        claimed.length >= asked ||
        !!batch.heldByInFlight ||
        !!batch.heldByProbe ||
        !!batch.wakeAt ||
        !!batch.handOver?.length;
      if (!Array.isArray(batch)) {
        for (const note of batch.notes ?? []) this.opts.log.info(note);
        if (batch.wakeAt) this.wakeAt(batch.wakeAt, now);
      }
      if (loop.stopping) return store.release(claimed.map((d) => d.id)); // stop() began meanwhile: not started
      this.handOver = new Set(Array.isArray(batch) ? [] : (batch.handOver ?? []));
      this.place(claimed, handing, room, Array.isArray(batch) ? undefined : batch.policies);
      if (claimed.length >= asked || loop.woken) continue;
      // the claim filled a webhook's slots: claim its successors now, not once an attempt ends
      if (!handing.length && this.handOver.size && this.predecessors().length) continue;
      if (!Array.isArray(batch) && batch.heldByInFlight && this.inFlight.size) {
        // an attempt ending frees its webhook a slot (the claim counts it out through
        // finishedIds before its outcome is recorded): claim again then, not after them all
        await loop.changed();
        continue;
      }
      // The drain is done once its in-flight sends have finished; a wake-up meanwhile (a
      // new delivery, a retry's time) claims again at once, so a receiver that never
      // answers holds back no other delivery.
      while (this.inFlight.size && !loop.stopping && !loop.woken) await loop.changed();
      if (!loop.woken || loop.stopping) break;
    }
    await this.flush();
  }

  /**
   * The attempts in flight whose slot may be handed over (their webhook's slots were all
   * taken at the last claim), that have no successor yet and started less than
   * SUCCESSOR_WAIT_MS ago.
   */
  private predecessors(): string[] {
    if (!this.handOver.size) return [];
    const ids: string[] = [];
    const youngerThan = performance.now() - this.successorWaitMs;
    for (const [id, f] of this.inFlight) {
      if (f.webhookId !== null && this.handOver.has(f.webhookId) && !f.successor && !f.failed && !f.handedBack && f.startedAt > youngerThan) ids.push(id);
    }
    return ids;
  }

  /**
   * What a claim is told is not in flight (its webhooks' in-flight counts leave them out):
   * attempts ended and not yet recorded, attempts whose slot a successor holds, and
   * `handing`, whose slots this claim may give to successors. Each of these slots is held
   * by at most one delivery that runs: the successor starts only once its predecessor ended.
   */
  private countedOut(handing: string[]): string[] {
    const ids = [...this.finishedIds(), ...handing];
    for (const [id, f] of this.inFlight) if (f.successor) ids.push(id);
    return ids;
  }

  /**
   * Starts what a claim took, `room` of them at most (the slots it asked for besides the
   * successors'). A delivery of a webhook with predecessors counted out (`handing`) becomes
   * the successor of one of them and waits for its attempt to end: the claim may have
   * allowed it on that slot alone. One whose predecessor failed while still in flight
   * here is given back; one whose predecessor ended during the claim takes the slot at once
   * (that attempt is over). What is beyond `room` (a hand-over claim asks for more than
   * the free slots, and other webhooks' deliveries may fill it) is given back at once: a
   * claimed delivery never waits for a slot, so it never outlives its lease unstarted.
   */
  private place(claimed: ClaimedDelivery[], handing: string[], room: number, policies: Map<string, SendPolicy> | undefined): void {
    const slotsOf = new Map<string, string[]>();
    for (const id of handing) {
      const webhookId = this.inFlight.get(id)?.webhookId ?? null;
      if (webhookId !== null) slotsOf.set(webhookId, [...(slotsOf.get(webhookId) ?? []), id]);
    }
    const beyond: string[] = [];
    for (const d of claimed) {
      // claimed again while its attempt runs here or its outcome waits (a lease ran out): start() leaves it be
      if (this.inFlight.has(d.id) || this.awaitsRecording(d.id)) continue;
      const policy = d.webhookId === null ? null : (policies?.get(d.webhookId) ?? null);
      const predecessor = d.webhookId === null ? undefined : slotsOf.get(d.webhookId)?.shift();
      const running = predecessor === undefined ? undefined : this.inFlight.get(predecessor);
      if (running?.failed) beyond.push(d.id);
      else if (running && !running.successor) this.follow(running, { d, policy });
      else if (room > 0) {
        room--;
        this.start(d, policy);
      } else beyond.push(d.id);
    }
    this.giveBack(beyond);
  }

  /** `waiting` takes `running`'s slot when its attempt ends, unless that takes longer than SUCCESSOR_WAIT_MS. */
  private follow(running: Running, waiting: Waiting): void {
    running.successor = waiting;
    waiting.timer = setTimeout(() => {
      if (running.successor === waiting) this.dropSuccessor(running);
    }, this.successorWaitMs);
    waiting.timer.unref();
  }

  /**
   * Gives back the successor of `running`, an attempt still in flight, which then counts as
   * in flight again in the claims that follow and gets no other successor. A claim on its
   * way counted `running` out with the successor holding its slot: the give-back waits for
   * that claim's return, so that no claim counts that slot as free while its attempt runs.
   */
  private dropSuccessor(running: Running): void {
    const successor = running.successor;
    if (!successor) return;
    clearTimeout(successor.timer);
    running.successor = undefined;
    running.handedBack = true;
    if (this.claiming) {
      this.opts.log.debug(`delivery ${successor.d.id}: no longer waits for the attempt before it; given back once the claim under way returns`);
      this.givenBackAfterClaim.push(successor.d.id);
    } else this.giveBack([successor.d.id]);
  }

  /**
   * An attempt of `webhookId` failed: the successors waiting for its other attempts here are
   * given back, so that the breaker, which that failure may open, decides at the next claim.
   */
  private failedAttemptOf(webhookId: string | null): void {
    if (webhookId === null) return;
    for (const running of this.inFlight.values()) if (running.webhookId === webhookId && running.successor) this.dropSuccessor(running);
  }

  /** Gives back claims never started; on failure their leases run out. */
  private giveBack(ids: string[]): void {
    if (!ids.length) return;
    // due again: the claim after the next recorded attempt takes them
    this.leftBehind = true;
    this.opts.store.release(ids).catch((err) => this.opts.log.error(`giving back ${ids.length} claimed deliveries failed; they are claimed again once their leases end`, err));
  }

  /** An attempt ended: its successor takes its slot (its own attempt is over, so it may be given back at once). */
  private ended(id: string): void {
    const running = this.inFlight.get(id);
    this.inFlight.delete(id);
    const successor = running?.successor;
    if (!successor) return;
    clearTimeout(successor.timer);
    if (this.loop.stopping) this.unstarted.push(successor.d.id);
    else if (running.failed) this.giveBack([successor.d.id]);
    else this.start(successor.d, successor.policy);
  }

  /** `policy`: its webhook's send-time policy as the claim read it */
  private start(d: ClaimedDelivery, policy: SendPolicy | null): void {
    // claimed again while its attempt still runs here, or after it ended while its outcome
    // waits to be recorded (its lease ran out by the clock): one attempt of a delivery at a
    // time; the outcome being recorded decides what comes next
    if (this.inFlight.has(d.id) || this.awaitsRecording(d.id)) return;
    const controller = new AbortController();
    const running: Running = { controller, webhookId: d.webhookId, startedAt: performance.now() };
    this.inFlight.set(d.id, running);
    void this.attempt(d, controller.signal, policy, running)
      .catch((err) => {
        running.failed = true;
        this.opts.log.error(`delivery ${d.id}: attempt failed unrecorded; its claim expires, its retry window still runs`, err);
        this.retakeAfterLease();
      })
      .finally(() => {
        this.ended(d.id);
        this.loop.signal();
      });
  }

  private async attempt(d: ClaimedDelivery, signal: AbortSignal, policy: SendPolicy | null, running: Running): Promise<void> {
    if (!this.opts.policy.mayStart(d.firstAttemptAt, this.clock())) {
      running.failed = true;
      return this.record(expiredOutcome(d, this.opts.policy.config.windowMs, this.clock(), this.opts.leaseMs));
    }
    const number = d.attemptCount + 1;
    const headers: Record<string, string> = { 'X-Deskhooks-Delivery': d.id, 'X-Deskhooks-Attempt': String(number) };
    let request = d.request;
    let quotable: string[] = [];
    try {
      // Authorization and the secret headers: the webhook's as they are now (credentials.ts)
      const sent = attemptHeaders(d.request.headers, policy && { credentials: this.credentials(policy), headerNames: policy.headers.map((h) => h.name) }, () =>
        d.authSealed ? openCredentials(this.opts.box, d.authSealed) : {},
      );
      request = { ...d.request, headers: sent.headers };
      Object.assign(headers, sent.credentials);
      quotable = quotableCredentials(sent.credentials);
      // Standard Webhooks: signed per attempt over the exact body sent, never stored
      const signedAt = this.clock();
      const keys = this.signingKeys(policy, signedAt);
      if (keys.length) Object.assign(headers, signatureHeaders(d.id, signedAt, request.body, keys));
    } catch (err) {
      // another DESKHOOKS_SECRET_KEY sealed it: no later try can do better, so fail it
      // now rather than let the claim expire and the delivery loop unattempted forever
      running.failed = true;
      return this.record(failedWithoutAttempt(d, `not sent: ${(err as Error).message}`, this.clock()));
    }
    // an answer that quotes the credentials back keeps them as *** (credentials.ts)
    const sent = redactAnswer(await this.opts.sender.send(request, headers, signal), quotable);
    if (signal.aborted) return; // shutting down: released in stop(), not counted as an attempt
    const result = judgeAnswer(sent, policy?.successRule ?? null);
    const now = this.clock();
    const decision = this.opts.policy.decide({ result, attemptNumber: number, firstAttemptAt: d.firstAttemptAt ?? result.startedAt, now });
    const outcome = buildOutcome(d, result, decision, now);
    if (decision.kind !== 'succeeded') {
      running.failed = true;
      this.failedAttemptOf(d.webhookId);
    }
    // the same attempt was claimed before and never recorded: the receiver may have had it twice
    await this.record(d.lostClaimUntil ? withNote(outcome, lostClaimNote(d, number, this.opts.leaseMs)) : outcome);
    if (decision.kind === 'failed' && decision.switchOff && d.webhookId && this.opts.store.switchOff) {
      await this.opts.store.switchOff(d.webhookId, d.id, decision.switchOff, now);
    }
  }

  private async record(outcome: Outcome): Promise<void> {
    if (touchesTicket(outcome)) {
      if (await this.opts.store.recordWithTicketWork(outcome)) this.afterRecord([outcome]);
      else this.retakeAfterLease();
    } else {
      this.pending.push(batchedOutcome(outcome));
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

  private awaitsRecording(id: string): boolean {
    return this.pending.some((o) => o.delivery.id === id) || this.recording.some((o) => o.delivery.id === id);
  }

  /** the deliveries whose attempt has ended and whose outcome waits to be recorded, or is being recorded */
  private finishedIds(): string[] {
    if (!this.pending.length && !this.recording.length) return [];
    return [...this.pending, ...this.recording].map((o) => o.delivery.id);
  }

  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.recording = batch;
    this.flushing = (async () => {
      let recorded: Outcome[] = [];
      try {
        recorded = await this.opts.store.record(batch);
      } catch (err) {
        // their attempts were made (their receivers may have acted on them) but are not in the log
        const ids = batch.map((o) => o.delivery.id);
        this.opts.log.error(
          `recording the outcomes of ${batch.length} delivery attempts failed, so they are not in the delivery log: deliveries ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''} are sent again once their claims expire (within ${Math.ceil(this.opts.leaseMs / 1000)} s)`,
          err,
        );
        return;
      } finally {
        if (recorded.length < batch.length) this.retakeAfterLease();
      }
      this.afterRecord(recorded);
    })().finally(() => {
      this.flushing = null;
      this.recording = [];
    });
    await this.flushing;
  }

  /**
   * Claims again at `at` (by the clock; `now` is the clock's time), when deliveries held
   * by a webhook's limits may go. One timer, the earliest; the sweep covers a stopped one.
   */
  private wakeAt(at: Date, now: Date): void {
    const due = Date.now() + Math.max(0, at.getTime() - now.getTime());
    if (this.wakeTimer && this.wakeTimer.at <= due) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    const timer = setTimeout(() => {
      this.wakeTimer = null;
      void this.wake();
    }, due - Date.now());
    timer.unref();
    this.wakeTimer = { at: due, timer };
  }

  /**
   * Deliveries whose outcome could not be recorded keep their claim until its lease ends;
   * then they are claimed again (their attempt was not recorded, so it is made again). A
   * drain is due then, whatever else wakes the worker: after an outage the sweep's job may
   * itself wait for its lock. One timer: at the earliest such lease end, then again at the
   * latest one that came meanwhile.
   */
  private retakeAfterLease(): void {
    if (this.loop.stopping) return;
    const due = Date.now() + this.opts.leaseMs + 100;
    if (this.retake) {
      this.retake.latest = Math.max(this.retake.latest, due);
      return;
    }
    const arm = (at: number) => {
      const timer = setTimeout(() => {
        const latest = this.retake?.latest ?? at;
        this.retake = null;
        void this.wake();
        if (latest > at && !this.loop.stopping) {
          this.retake = { timer: arm(latest), latest };
        }
      }, Math.max(1, at - Date.now()));
      timer.unref();
      return timer;
    };
    this.retake = { timer: arm(due), latest: due };
  }

  private afterRecord(outcomes: Outcome[]): void {
    this.opts.recorded?.();
    // a webhook's recorded attempt frees one of its slots, or ends its breaker's probe: the
    // deliveries the last claim (or one under way) left behind for that are claimed again
    // now (a PER_TICKET ticket's next delivery is woken by the turn it is given)
    if ((this.leftBehind || this.claiming) && outcomes.some((o) => o.delivery.webhookId !== null)) void this.wake();
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
    // successors were never started: given back with the aborted
    const unstarted = [...this.unstarted, ...this.givenBackAfterClaim.splice(0)];
    for (const running of this.inFlight.values()) {
      if (!running.successor) continue;
      clearTimeout(running.successor.timer);
      unstarted.push(running.successor.d.id);
      running.successor = undefined;
    }
    const aborted = [...this.inFlight.keys()];
    for (const { controller } of this.inFlight.values()) controller.abort();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    if (this.retake) clearTimeout(this.retake.timer);
    await this.flush().catch((err) => this.opts.log.error('recording delivery outcomes at stop failed', err));
    if (unstarted.length) {
      await this.opts.store.release(unstarted).catch((err) => this.opts.log.error('giving back deliveries claimed and not started at stop failed', err));
    }
    await this.opts.store.release(aborted).then(
      // the operator's record of what a stop cut short: those receivers may see these deliveries again
      () => aborted.length && this.opts.log.info(`stopping: ${aborted.length} attempt${aborted.length === 1 ? '' : 's'} still in flight after ${graceMs} ms aborted and released; ${aborted.length === 1 ? 'it is' : 'they are'} sent again (a receiver may see the same X-Deskhooks-Delivery twice)`),
      (err) => this.opts.log.error('releasing claims at stop failed', err),
    );
    await drained;
  }
}
