/**
 * Where a benchmark phase's CPU went, from Linux's /proc: the CPU time (user + system) of
 * every process of the machine, and of each thread of the processes named, between two
 * snapshots. A benchmark on a shared machine sees its figures move with the machine's
 * load; this shows which process paid for the work. Other systems: no figures (null).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ, the unit of /proc's utime and stime: 100 on Linux's architectures

/** { comm, cpuSeconds } of /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat; null when gone */
function readStat(path) {
  try {
    const text = readFileSync(path, 'utf8');
    const close = text.lastIndexOf(')'); // comm may hold spaces and parentheses
    const fields = text.slice(close + 2).split(' ');
    return { comm: text.slice(text.indexOf('(') + 1, close), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

const numeric = (dir) => {
  try {
    return readdirSync(dir).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
};

/** Every process's CPU seconds so far, and the threads' of `pids` (e.g. a server's); null off Linux. */
export function cpuSnapshot(pids = []) {
  if (process.platform !== 'linux') return null;
  const processes = new Map();
  for (const pid of numeric('/proc')) {
    const s = readStat(`/proc/${pid}/stat`);
    if (s) processes.set(Number(pid), s);
  }
  const threads = new Map();
  for (const pid of pids) {
    const own = new Map();
    for (const tid of numeric(`/proc/${pid}/task`)) {
      const s = readStat(`/proc/${pid}/task/${tid}/stat`);
      if (s) own.set(Number(tid), s);
    }
    threads.set(pid, own);
  }
  return { processes, threads };
}

/**
 * Busy and idle jiffies of the whole machine (/proc/stat), and stolen ones (a virtual
 * machine's cores waiting while its host ran something else); null off Linux.
 */
function machineJiffies() {
  if (process.platform !== 'linux') return null;
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = v;
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/**
 * The share of the machine's core time, in %, that its host took (steal) from now until the
 * returned function is called; null off Linux. A latency measured while the host takes a
 * large share says more about the host than about deskhooks.
 */
export function stealMeter() {
  const before = machineJiffies();
  return () => {
    const after = machineJiffies();
    if (!before || !after) return null;
    const steal = after.steal - before.steal;
    const all = steal + after.busy - before.busy + after.idle - before.idle;
    return all > 0 ? +((100 * steal) / all).toFixed(1) : 0;
  };
}

/**
 * Waits until the machine has been quiet (under `belowCores` cores busy) for a whole
 * `windowMs`, at most `maxMs`; resolves to whether it got quiet. What a part leaves behind
 * (PostgreSQL's autovacuum, a server's background work) then does not slow the next part.
 */
export async function waitForQuiet({ belowCores = 0.25, windowMs = 1_000, maxMs = 30_000 } = {}) {
  const start = Date.now();
  let was = machineJiffies();
  if (!was) return true;
  while (Date.now() - start < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const is = machineJiffies();
    const busy = is.busy - was.busy;
    const all = busy + is.idle - was.idle;
    was = is;
    if (all > 0 && (busy / all) * cpus().length < belowCores) return true;
  }
  return false;
}

/** CPU seconds of `key` (a pid or tid) between two maps of readStat results; 0 for one that ended meanwhile */
const spent = (before, after, key) => Math.max(0, (after.get(key)?.cpuSeconds ?? 0) - (before.get(key)?.cpuSeconds ?? 0));

/**
 * Milliseconds of CPU per `count` (e.g. per mutation) between two snapshots, by part:
 * `roles` names processes ({ server: pid, receiver: pid, ... }); PostgreSQL is every
 * process named postgres; `other` is the rest of the machine. The server's threads: its
 * main thread and the others (worker threads, garbage collection, compilation), busiest first.
 * A process that ended between the snapshots is not counted (the benchmarks' keep theirs).
 */
export function cpuPerUnit(before, after, count, roles) {
  if (!before || !after || count <= 0) return null;
  const per = (seconds) => +((seconds * 1000) / count).toFixed(2);
  const named = new Set(Object.values(roles));
  const out = {};
  for (const [role, pid] of Object.entries(roles)) out[role] = per(spent(before.processes, after.processes, pid));
  let postgres = 0;
  let other = 0;
  for (const [pid, s] of after.processes) {
    if (named.has(pid)) continue;
    const d = spent(before.processes, after.processes, pid);
    if (s.comm === 'postgres') postgres += d;
    else other += d;
  }
  out.postgres = per(postgres);
  out.other = per(other);
  out.total = +Object.values(out).reduce((a, b) => a + b, 0).toFixed(2);
  const server = roles.server;
  const threads = after.threads.get(server);
  if (threads) {
    const was = before.threads.get(server) ?? new Map();
    const others = [...threads.keys()].filter((tid) => tid !== server).map((tid) => per(spent(was, threads, tid))).filter((ms) => ms > 0).sort((a, b) => b - a);
    out.serverThreads = { main: per(spent(was, threads, server)), others };
  }
  return out;
}

/**
 * cpuPerUnit's results of several measured parts ([{ cpu, count }]) as one: each figure
 * weighted by its part's count (the other threads matched busiest with busiest).
 */
export function mergeCpuPerUnit(parts) {
  const measured = parts.filter((p) => p.cpu && p.count > 0);
  if (!measured.length) return null;
  const n = measured.reduce((sum, p) => sum + p.count, 0);
  const weighted = (pick) => +(measured.reduce((sum, p) => sum + (pick(p.cpu) ?? 0) * p.count, 0) / n).toFixed(2);
  const out = {};
  for (const key of Object.keys(measured[0].cpu)) if (key !== 'serverThreads') out[key] = weighted((c) => c[key]);
  if (measured.every((p) => p.cpu.serverThreads)) {
    const width = Math.max(...measured.map((p) => p.cpu.serverThreads.others.length));
    out.serverThreads = { main: weighted((c) => c.serverThreads.main), others: Array.from({ length: width }, (_, i) => weighted((c) => c.serverThreads.others[i])) };
  }
  return out;
}

/** One line of the human report: "server 2.41 (main 1.23; others 0.55 0.15 …) · postgres 2.33 · … = 5.24 ms". */
export function describeCpu(cpu) {
  if (!cpu) return 'not measured (Linux /proc only)';
  const parts = [];
  for (const [k, v] of Object.entries(cpu)) {
    if (k === 'total' || k === 'serverThreads') continue;
    if (k === 'server' && cpu.serverThreads) {
      const t = cpu.serverThreads;
      parts.push(`${k} ${v.toFixed(2)} (main thread ${t.main.toFixed(2)}; other threads ${t.others.slice(0, 6).map((x) => x.toFixed(2)).join(' ') || '0'})`);
    } else parts.push(`${k} ${v.toFixed(2)}`);
  }
  return `${parts.join(' · ')} = ${cpu.total.toFixed(2)} ms`;
}
