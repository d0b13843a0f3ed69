/**
 * The wake/drain loop of a work queue (the delivery worker, the dispatcher). Nothing
 * polls: a queue is drained when something wakes it (a notification, a timed job, a
 * sweep, the start). Rules:
 * - one drain at a time per loop: a wake-up while a drain runs returns that drain;
 * - a wake-up during a drain is not lost: the drain sees `woken` (and `changed()`
 *   resolves) so that it claims again, and if the drain ends anyway, another one starts;
 * - after stop() no drain starts; the running one sees `stopping` and ends;
 * - a failing drain is reported and ends; the next wake-up drains again.
 */
export class DrainLoop {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private pulse: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    private readonly drain: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  get stopping(): boolean {
    return this.stopped;
  }

  /** the drain under way (null: none) */
  get draining(): Promise<void> | null {
    return this.running;
  }

  /** a wake-up arrived since the drain last called takeWake() */
  get woken(): boolean {
    return this.again;
  }

  /** Called by the drain before it looks for work: the wake-ups so far are answered by that look. */
  takeWake(): void {
    this.again = false;
  }

  /** Drains; concurrent calls share one drain. */
  wake(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      this.signal();
      return this.running;
    }
    const run = this.drain()
      .catch((err) => this.onError(err))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.wake();
        }
      });
    this.running = run;
    return run;
  }

  /** Resolves at the next signal(): a wake-up, stop(), or the owner's own (a slot freed). */
  changed(): Promise<void> {
    if (!this.pulse) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.pulse = { promise, resolve };
    }
    return this.pulse.promise;
  }

  signal(): void {
    const pulse = this.pulse;
    this.pulse = null;
    pulse?.resolve();
  }

  /** No drain starts after this; the returned promise resolves when the running one has ended. */
  stop(): Promise<void> {
    this.stopped = true;
    this.signal();
    return this.running ?? Promise.resolve();
  }
}
