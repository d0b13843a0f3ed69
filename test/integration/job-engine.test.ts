/**
 * The job engine (src/queue/jobs.ts) on its PostgreSQL job store, as the composition root
 * uses it: a one-off wake-up at a time (runAt), a repeating sweep (every), stop(), and
 * two processes on one job store. Each test has a database of its own; the engines pick up
 * work every 100 ms, so a wake-up's slice is 100 ms and a repeat is the shortest Agenda
 * allows, 1 s. The last test's engine picks up every 5 s and hears saved jobs on the
 * process's LISTEN connection.
 */
import pg from 'pg';
import { describe, expect, it as base } from 'vitest';
import { createJobEngine, type JobEngine } from '../../src/queue/index.js';
import { createListener } from '../../src/db/listener.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createTestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

const PICKUP_MS = 100;

interface Engines {
  pool: pg.Pool;
  /** the test's database */
  url: string;
  /**
   * A job engine on the test's database with the jobs `setup` defines, started; stopped
   * when the test ends. `errors` collects what the engines logged (unless given a `log`).
   */
  engine(name: string, setup: (engine: JobEngine) => void, log?: Logger): Promise<JobEngine>;
  errors: string[];
  /** the job store's records of `name` */
  records(name: string): Promise<{ data: { at?: string } | null; fail_reason: string | null; fail_count: number | null }[]>;
}

const it = base.extend<{ jobs: Engines }>({
  jobs: async ({}, use) => {
    const database = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: 6 });
    pool.on('error', () => {});
    const started: JobEngine[] = [];
    const errors: string[] = [];
    const log: Logger = { info: () => {}, debug: () => {}, error: (m, e) => void errors.push(`${m}${e ? `: ${String((e as Error).message ?? e)}` : ''}`) };
    try {
      await use({
        pool,
        url: database.url,
        errors,
        engine: async (name, setup, own) => {
          const engine = await createJobEngine({ pool, log: own ?? log, name, pickupMs: PICKUP_MS });
          started.push(engine);
          setup(engine);
          await engine.start();
          return engine;
        },
        records: async (name) => (await pool.query(`select data, fail_reason, fail_count from agenda_jobs where name = $1`, [name])).rows,
      });
    } finally {
      await Promise.all(started.map((e) => e.stop()));
      await pool.end();
      await database.drop();
    }
  },
});

/** Runs of a job, by engine, with their start times; `hold` keeps each run going that long. */
function recorder(hold = 0) {
  const runs: { by: string; at: number }[] = [];
  let active = 0;
  let maxActive = 0;
  return {
    runs,
    get maxActive() {
      return maxActive;
    },
    run: (by: string) => async () => {
      runs.push({ by, at: Date.now() });
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        if (hold) await new Promise((r) => setTimeout(r, hold));
      } finally {
        active--;
      }
    },
  };
}

/** A time `ms` or more from now, in the middle of a pickup slice (so that +30 ms stays in it). */
const midSlice = (ms: number) => new Date(Math.ceil((Date.now() + ms) / PICKUP_MS) * PICKUP_MS + PICKUP_MS / 2);

describe.concurrent('job engine (PostgreSQL job store)', () => {
  it('runAt: one run, not before the time asked, at the end of its slice; times within one slice share it, also with another process', async ({ jobs }) => {
    const wake = recorder();
    const a = await jobs.engine('a', (e) => e.define('wake', wake.run('a'), { oneOff: true }));
    const b = await jobs.engine('b', (e) => e.define('wake', wake.run('b'), { oneOff: true }));
    expect([a.ready, b.ready]).toEqual([true, true]);

    const at = midSlice(400);
    const sliceEnd = at.getTime() + PICKUP_MS / 2;
    a.runAt('wake', at);
    a.runAt('wake', new Date(at.getTime() + 30));
    await waitFor(async () => (await jobs.records('wake')).length === 1, { what: 'the wake-up saved' });
    // another process asks for the same time once it is saved (two saves at the same moment
    // may both insert: the job store's unique check is a select, then an insert)
    b.runAt('wake', at);
    await waitFor(() => wake.runs.length > 0, { what: 'the wake-up to run' });
    expect(wake.runs[0]!.at).toBeGreaterThanOrEqual(sliceEnd);
    // a one-off: its record is deleted once it ran, so nothing is left that could run again
    await waitFor(async () => (await jobs.records('wake')).length === 0, { what: 'the one-off record deleted' });
    expect(wake.runs).toHaveLength(1);
    expect(jobs.errors).toEqual([]);
  });

  it('runAt: times in different slices are separate runs, each at its own time', async ({ jobs }) => {
    const wake = recorder();
    const engine = await jobs.engine('a', (e) => e.define('wake', wake.run('a'), { oneOff: true }));
    const first = midSlice(300);
    const second = new Date(first.getTime() + 3 * PICKUP_MS);
    engine.runAt('wake', second);
    engine.runAt('wake', first);
    await waitFor(async () => wake.runs.length === 2 && (await jobs.records('wake')).length === 0, { what: 'two runs, their records deleted' });
    expect(wake.runs[0]!.at).toBeGreaterThanOrEqual(first.getTime());
    expect(wake.runs[1]!.at).toBeGreaterThanOrEqual(second.getTime());
    expect(jobs.errors).toEqual([]);
  });

  it('every: runs at start and again each interval, one run at a time across processes', async ({ jobs }) => {
    // each run outlasts a pickup, so that a second process taking it meanwhile would overlap
    const sweep = recorder(3 * PICKUP_MS);
    // when the first engine's start() is called (its creation, which sets up the job store, is not timed)
    let startedAt: number | undefined;
    for (const by of ['a', 'b']) {
      await jobs.engine(by, (e) => {
        e.define('sweep', sweep.run(by));
        e.every('sweep', 1_000);
        startedAt ??= Date.now();
      });
    }
    await waitFor(() => sweep.runs.length >= 3, { what: 'three runs of the sweep' });
    expect(sweep.runs[0]!.at - startedAt!).toBeLessThan(1_000); // from start() on, not an interval later
    expect(sweep.maxActive).toBe(1);
    expect(await jobs.records('sweep')).toHaveLength(1); // one schedule, whatever the number of processes
    const gaps = sweep.runs.slice(1).map((r, i) => r.at - sweep.runs[i]!.at);
    // a run started late (its pickup, then a loaded event loop) shortens the gap to the next
    // by as much; runs once per pickup would be 300-400 ms apart (each lasts 300)
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1_000 - 3 * PICKUP_MS);
    expect(jobs.errors).toEqual([]);
  });

  it('a repeating job locked by a process that died runs again once its lock expires: seconds, not a minute (its runs are wake-ups)', async ({ jobs }) => {
    const sweep = recorder();
    await jobs.engine('a', (e) => {
      e.define('orphaned', sweep.run('a'));
      e.every('orphaned', 1_000);
    });
    await waitFor(() => sweep.runs.length >= 1, { what: 'a first run' });
    // as a killed process leaves it: due now, locked, never unlocked
    await jobs.pool.query(`update agenda_jobs set locked_at = now(), next_run_at = now(), last_modified_by = 'dead' where name = 'orphaned'`);
    const lockedAt = Date.now();
    const before = sweep.runs.length;
    await waitFor(() => sweep.runs.length > before, { what: 'a run after the dead lock expired', timeoutMs: 20_000 });
    // a job's lock lasts two pickups plus 5 s (jobs.ts)
    expect(Date.now() - lockedAt).toBeLessThan(5_000 + 2 * PICKUP_MS + 2_000);
  });

  it('a failing job does not stop the engine: the failure is kept in the job store, the job runs again, and other jobs run', async ({ jobs }) => {
    let failures = 0;
    const wake = recorder();
    const engine = await jobs.engine('a', (e) => {
      e.define('broken', () => {
        failures++;
        throw new Error('the sweep broke');
      });
      e.every('broken', 1_000);
      e.define('wake', wake.run('a'), { oneOff: true });
    });
    await waitFor(() => failures >= 1, { what: 'the broken job to run' });
    engine.runAt('wake', new Date());
    await waitFor(() => wake.runs.length === 1, { what: 'another job to run after the failure' });
    await waitFor(() => failures >= 2, { what: 'the broken job to run again' });
    expect(engine.ready).toBe(true);
    const [record] = await jobs.records('broken');
    expect(record).toMatchObject({ fail_reason: 'the sweep broke' });
    expect(record!.fail_count).toBeGreaterThanOrEqual(1);
    expect(jobs.errors).toContain('job broken failed: the sweep broke');
  });

  it("a run that outlasts its lock is cancelled by the job engine: the log line (values redacted as in production) names the job", async ({ jobs }) => {
    const lines: string[] = [];
    const log = createLogger('error', 'deskhooks', { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      const engine = await jobs.engine('a', (e) => e.define('held.sweep', () => held, { oneOff: true }), log);
      engine.runAt('held.sweep', new Date());
      // a job's lock lasts two pickups plus 5 s (jobs.ts); the engine checks at half of it
      const line = await waitFor(() => lines.find((l) => l.includes('execution took more than')), { what: 'the cancelled run in the log', timeoutMs: 20_000 });
      expect(line).toMatch(/ deskhooks error job engine error in job held\.sweep: execution of held\.sweep canceled, execution took more than \d+ms\./);
    } finally {
      release();
    }
  });

  it('processes starting at once on one database all start (the job store is set up one at a time)', async ({ jobs }) => {
    const engines = await Promise.all([1, 2, 3].map((n) => jobs.engine(`starter-${n}`, (e) => e.define('noop', () => {}))));
    expect(engines.map((e) => e.ready)).toEqual([true, true, true]);
    expect(jobs.errors).toEqual([]);
  });

  it('stop() resolves once the runs under way have ended', async ({ jobs }) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started = false;
    let ended = false;
    const engine = await jobs.engine('a', (e) =>
      e.define(
        'slow',
        async () => {
          started = true;
          await released;
          ended = true;
        },
        { oneOff: true },
      ),
    );
    engine.runAt('slow', new Date());
    await waitFor(() => started, { what: 'the slow run to start' });
    let stopped = false;
    const stopping = engine.stop().then(() => (stopped = true));
    // with nothing else to wait for (no job locked but not started), Agenda's own stop ends
    // within a turn of the event loop; the engine's stop waits for the run whatever the time
    await new Promise((r) => setImmediate(r));
    expect(engine.ready).toBe(false);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(ended).toBe(true);
  });

  it('stop() resolves once the wake-ups being saved are saved (the pool may end right after it); runAt after stop() saves nothing', async ({ jobs }) => {
    const engine = await jobs.engine('a', (e) => e.define('later', () => {}, { oneOff: true }));
    engine.runAt('later', new Date(Date.now() + 60_000));
    await engine.stop();
    expect(await jobs.records('later')).toHaveLength(1);
    engine.runAt('later', new Date(Date.now() + 120_000));
    await engine.stop(); // waits for any save under way
    expect(await jobs.records('later')).toHaveLength(1);
    expect(jobs.errors).toEqual([]);
  });

  it('stop(): not ready, and no run after it; a wake-up it had scheduled runs in another process', async ({ jobs }) => {
    const sweep = recorder();
    const wake = recorder();
    const jobsOf = (by: string) => (e: JobEngine) => {
      e.define('sweep', sweep.run(by));
      e.every('sweep', 1_000);
      e.define('wake', wake.run(by), { oneOff: true });
    };
    const a = await jobs.engine('a', jobsOf('a'));
    await waitFor(() => sweep.runs.length >= 1, { what: 'the first run of the sweep' });
    a.runAt('wake', midSlice(1_500));
    await waitFor(async () => (await jobs.records('wake')).length === 1, { what: 'the wake-up saved' });
    await a.stop();
    expect(a.ready).toBe(false);
    const runsBeforeStop = sweep.runs.length;

    // another process with the same jobs: it takes both over
    await jobs.engine('b', jobsOf('b'));
    await waitFor(() => wake.runs.length === 1 && sweep.runs.filter((r) => r.by === 'b').length >= 2, { what: 'the wake-up and two sweeps in b' });
    expect(wake.runs.map((r) => r.by)).toEqual(['b']);
    expect(sweep.runs.slice(runsBeforeStop).map((r) => r.by)).toEqual(sweep.runs.slice(runsBeforeStop).map(() => 'b'));
    expect(jobs.errors).toEqual([]);
  });
});

it("with the process's listener: a wake-up saved for now runs at once, not at the engine's next pickup", async ({ jobs }) => {
  const pickupMs = 5_000;
  const log: Logger = { info: () => {}, debug: () => {}, error: (m) => void jobs.errors.push(m) };
  const listener = createListener(jobs.url, log);
  await listener.start();
  try {
    const wake = recorder();
    const engine = await createJobEngine({ pool: jobs.pool, log, name: 'heard', pickupMs, listener });
    try {
      engine.define('wake', wake.run('heard'), { oneOff: true });
      await engine.start();
      // the engine's first pickup ran at its start; its next one is pickupMs later
      const savedAt = Date.now();
      engine.runAt('wake', new Date());
      await waitFor(() => wake.runs.length === 1, { what: 'the wake-up to run', timeoutMs: 2 * pickupMs });
      // at the end of its one-second slice, heard on the channel; a pickup would be seconds later
      expect(wake.runs[0]!.at - savedAt).toBeLessThan(pickupMs - 2_000);
      expect(jobs.errors).toEqual([]);
    } finally {
      await engine.stop();
    }
  } finally {
    await listener.stop();
  }
});
