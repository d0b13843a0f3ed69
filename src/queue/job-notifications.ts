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

export class ListenerJobNotifications extends BaseNotificationChannel {
  private listening = false;

  constructor(
    private readonly listener: NotificationSource,
    private readonly pool: pg.Pool,
    channelName: string,
  ) {
    // the listener reconnects; a notification missed meanwhile waits for the next poll
    super({ channelName, reconnect: { enabled: false } });
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
    this.notifyHandlers(n).catch((err: Error) => this.emit('error', err));
  }
}
