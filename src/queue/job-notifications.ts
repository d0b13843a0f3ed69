/**
 * The job engine's notifications (a job saved in one process is run at once by whichever
 * process hears it first) on the process's one LISTEN connection (src/db/listener.ts),
 * which reconnects on its own. The rule: the job engine borrows no pool connection for
 * longer than a statement (@agendajs/postgres-backend's channel would hold one for its
 * LISTEN, and the pool's end waits for it). Same channel name and payload as that
 * channel, so processes with either understand each other.
 */
import { BaseNotificationChannel, toJobId, type JobNotification } from 'agenda';
import type pg from 'pg';

/** the process's LISTEN connection, as the job engine uses it (src/db/listener.ts is one) */
export interface NotificationSource {
  /** calls `handler` with the payload of every notification on `channel`, across reconnects; resolves once it listens */
  on(channel: string, handler: (payload: string) => void): Promise<void>;
}

/** When notifications of jobs due later are handed over again (ListenerJobNotifications). */
export interface RedeliveryOptions {
  /** the job engine's pickup interval: jobs due later than this are left to the pickups */
  pickupMs: number;
  /** the clock (tests) */
  now?: () => number;
}

/**
 * A notification of a job due later (within `pickupMs`) is handed to the job engine
 * again once its time has come. Agenda locks such a job at once and runs it from a timer
 * it sets once per job; a timer firing a moment early (Node's timers count from the event
 * loop's cached time, which a long task leaves behind) finds the job not yet due and
 * leaves it to the next pickup, up to `pickupMs` late. Handed over again when the clock
 * has reached its time, the job engine looks at its queue and runs it. Jobs due later are
 * left to the pickups, which lock them only when they are that near.
 */
export class ListenerJobNotifications extends BaseNotificationChannel {
  private listening = false;
  private readonly redeliveries = new Set<NodeJS.Timeout>();
  private readonly now: () => number;

  constructor(
    private readonly listener: NotificationSource,
    private readonly pool: pg.Pool,
    channelName: string,
    private readonly redelivery: RedeliveryOptions,
  ) {
    // the listener reconnects; a notification missed meanwhile waits for the next poll
    super({ channelName, reconnect: { enabled: false } });
    this.now = redelivery.now ?? Date.now;
  }

  async connect(): Promise<void> {
    if (!this.listening) {
      this.listening = true;
      // a job saved once connect() has resolved is heard
      await this.listener.on(this.config.channelName, (payload) => this.received(payload));
    }
    this.setState('connected');
  }

  async disconnect(): Promise<void> {
    this.setState('disconnected');
    for (const t of this.redeliveries) clearTimeout(t);
    this.redeliveries.clear();
  }

  async publish(n: JobNotification): Promise<void> {
    const payload = JSON.stringify({
      jobId: n.jobId,
      jobName: n.jobName,
      nextRunAt: n.nextRunAt?.toISOString() ?? null,
      priority: n.priority,
      timestamp: n.timestamp.toISOString(),
      source: n.source,
    });
    await this.pool.query('select pg_notify($1, $2)', [this.config.channelName, payload]);
  }

  private received(payload: string): void {
    if (this.state !== 'connected') return;
    let n: JobNotification;
    try {
      const data = JSON.parse(payload) as Record<string, unknown>;
      n = {
        jobId: toJobId(String(data.jobId)),
        jobName: String(data.jobName),
        nextRunAt: typeof data.nextRunAt === 'string' ? new Date(data.nextRunAt) : null,
        priority: Number(data.priority ?? 0),
        timestamp: new Date(String(data.timestamp)),
        source: typeof data.source === 'string' ? data.source : undefined,
      };
    } catch (err) {
      this.emit('error', new Error(`unreadable job notification: ${(err as Error).message}`));
      return;
    }
    this.deliver(n);
    const at = n.nextRunAt?.getTime() ?? 0;
    const wait = at - this.now();
    if (wait > 0 && wait <= this.redelivery.pickupMs) this.redeliverAt(n, at);
  }

  private deliver(n: JobNotification): void {
    this.notifyHandlers(n).catch((err: Error) => this.emit('error', err));
  }

  /** hands `n` over again once the clock has reached `at` (a timer that fires early waits on) */
  private redeliverAt(n: JobNotification, at: number): void {
    const timer = setTimeout(() => {
      this.redeliveries.delete(timer);
      if (this.state !== 'connected') return;
      if (this.now() < at) return this.redeliverAt(n, at);
      this.deliver(n);
    }, Math.max(1, at - this.now() + 1));
    timer.unref();
    this.redeliveries.add(timer);
  }
}
