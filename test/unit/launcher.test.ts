/**
 * Which processes stand for the `npm start` command, and when it is gone; the process
 * table is a fake: pid → [parent, started by a package manager's script].
 */
import { describe, expect, it } from 'vitest';
import { brokenLink, launcherChain, watchLauncher, type ProcessTable } from '../../src/launcher.js';
import { waitFor } from '../support/wait.js';

function table(rows: Record<number, [parent: number, fromScript: boolean]>): ProcessTable & { rows: typeof rows } {
  return {
    rows,
    parentOf: (pid) => rows[pid]?.[0] ?? null,
    startedByScript: (pid) => (rows[pid] ? rows[pid]![1] : null),
  };
}

const npmEnv = { npm_lifecycle_event: 'start' };

describe('launcherChain', () => {
  it.each([
    ['not started by a package manager: nothing to watch', {}, 100, {}, []],
    ['npm execs node: npm', npmEnv, 100, { 100: [50, false] }, [100]],
    ['npm runs sh -c, sh runs node: sh and npm', npmEnv, 101, { 101: [100, true], 100: [50, false] }, [101, 100]],
    ['nested npm run: up to the outer npm', npmEnv, 103, { 103: [102, true], 102: [101, true], 101: [100, true], 100: [50, false] }, [103, 102, 101, 100]],
    ['parent is init (npm as a container’s first process)', npmEnv, 1, {}, []],
    ['no /proc: the parent alone', npmEnv, 100, {}, [100]],
  ] as const)('%s', (_name, env, ppid, rows, chain) => {
    expect(launcherChain(env, ppid, table(rows as Record<number, [number, boolean]>))).toEqual(chain);
  });
});

describe('brokenLink', () => {
  const t = table({ 101: [100, true], 100: [50, false] });
  it('all links hold', () => expect(brokenLink([101, 100], 101, t)).toBeNull());
  it('own parent gone (reparented)', () => expect(brokenLink([101, 100], 1, t)).toBe(101));
  it('grandparent gone: the shell was reparented', () => {
    const after = table({ 101: [1, true] });
    expect(brokenLink([101, 100], 101, after)).toBe(100);
  });
  it('a reused pid does not restore a link: the child’s parent is what counts', () => {
    const after = table({ 101: [1, true], 100: [7, false] });
    expect(brokenLink([101, 100], 101, after)).toBe(100);
  });
  it('nothing to watch', () => expect(brokenLink([], 1, t)).toBeNull());
});

describe('watchLauncher', () => {
  it('calls back once when a link breaks, not before', async () => {
    const t = table({ 101: [100, true], 100: [50, false] });
    const gone: number[] = [];
    const stop = watchLauncher([101, 100], (pid) => gone.push(pid), { intervalMs: 5, table: t, ppid: () => 101 });
    await new Promise((r) => setTimeout(r, 30));
    expect(gone).toEqual([]);
    t.rows[101] = [1, true];
    await waitFor(() => gone.length > 0, { timeoutMs: 2_000, what: 'the callback' });
    await new Promise((r) => setTimeout(r, 30));
    expect(gone).toEqual([100]);
    stop();
  });

  it('a signal that came with the launcher’s end is handled first (a closed terminal: SIGHUP to the group)', async () => {
    const order: string[] = [];
    const onSignal = () => order.push('signal');
    process.on('SIGWINCH', onSignal);
    let parent = 101;
    const stop = watchLauncher([101], () => order.push('gone'), { intervalMs: 5, table: table({}), ppid: () => parent });
    try {
      // from the check phase: the loop's next timers phase finds the launcher gone, its poll phase reads the signal
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          process.kill(process.pid, 'SIGWINCH');
          parent = 1;
          const until = Date.now() + 30;
          while (Date.now() < until); // both are pending once the loop turns
          resolve();
        }),
      );
      await waitFor(() => order.length === 2, { timeoutMs: 2_000, what: 'both callbacks' });
      expect(order).toEqual(['signal', 'gone']);
    } finally {
      stop();
      process.off('SIGWINCH', onSignal);
    }
  });
});
