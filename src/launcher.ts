/**
 * Run by a package manager (`npm start`), deskhooks belongs to that command: whoever
 * stops it signals the package manager's pid. npm forwards SIGTERM and SIGINT to its
 * child (package.json execs node, so the child is this process), but when npm itself is
 * killed outright, or a shell between npm and node dies without passing the signal on,
 * nobody is left to stop the server. So the chain of processes from this one up to the
 * package manager is watched, and a broken link means that the command is gone.
 *
 * A process that dies hands its children to another parent (init or a subreaper), so a
 * link is intact exactly while the child's parent pid is still the one recorded at start;
 * a reused pid cannot make a dead link look alive.
 */
import { readFileSync } from 'node:fs';

export interface ProcessTable {
  /** the parent pid of `pid`, null when it cannot be read (gone, or no /proc) */
  parentOf(pid: number): number | null;
  /** whether `pid` was started by a package manager running a script; null when unknown */
  startedByScript(pid: number): boolean | null;
}

/** Linux /proc; elsewhere every answer is null and only the own parent is watched. */
export const procTable: ProcessTable = {
  parentOf(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return Number.isInteger(ppid) ? ppid : null;
    } catch {
      return null;
    }
  },
  startedByScript(pid) {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((v) => v.startsWith('npm_lifecycle_event='));
    } catch {
      return null;
    }
  },
};

const MAX_CHAIN = 8;

/**
 * The pids from this process's parent up to the package manager that ran the script, or
 * [] when no package manager started this process (`node dist/cli.js` stays up when its
 * shell goes away, as `nohup` users expect). Processes that a package manager spawned for
 * the script (a `sh -c` wrapper, a nested `npm run`) carry `npm_lifecycle_event` in their
 * environment; the first ancestor without it is the package manager.
 */
export function launcherChain(env: NodeJS.ProcessEnv = process.env, ppid = process.ppid, table: ProcessTable = procTable): number[] {
  // a parent that is init (a container's first process) outlives this one anyway
  if (!env.npm_lifecycle_event || ppid <= 1) return [];
  const chain = [ppid];
  while (chain.length < MAX_CHAIN) {
    const last = chain.at(-1)!;
    if (table.startedByScript(last) !== true) break;
    const parent = table.parentOf(last);
    if (parent === null || parent <= 1) break;
    chain.push(parent);
  }
  return chain;
}

/** The first broken link of `chain` (the pid that is gone), or null while all hold. */
export function brokenLink(chain: readonly number[], ppid: number, table: ProcessTable = procTable): number | null {
  if (chain.length === 0) return null;
  if (ppid !== chain[0]) return chain[0]!;
  for (let i = 1; i < chain.length; i++) {
    if (table.parentOf(chain[i - 1]!) !== chain[i]) return chain[i]!;
  }
  return null;
}

/**
 * Calls `onGone(pid)` once, within `intervalMs`, after a process of the chain is gone.
 * Returns a function that stops watching. The timer never keeps the process alive.
 * A signal that reached this process with the launcher's end (a closed terminal sends SIGHUP to
 * the whole group, and npm dies of it) is handled first: the call waits for the event loop's
 * pending I/O, where signals are read, so the stop is named after the signal.
 */
export function watchLauncher(chain: readonly number[], onGone: (pid: number) => void, opts: { intervalMs?: number; table?: ProcessTable; ppid?: () => number } = {}): () => void {
  if (chain.length === 0) return () => {};
  const ppid = opts.ppid ?? (() => process.ppid);
  const timer = setInterval(() => {
    const gone = brokenLink(chain, ppid(), opts.table);
    if (gone === null) return;
    clearInterval(timer);
    setImmediate(() => onGone(gone));
  }, opts.intervalMs ?? 200);
  timer.unref();
  return () => clearInterval(timer);
}
