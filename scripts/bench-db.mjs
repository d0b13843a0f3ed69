/**
 * What the benchmarks that run deskhooks' parts in their own process share: a database of
 * their own, and the receiver that answers at once in a process of its own.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres } from '../dist/db/embedded.js';

/** Runs `work` with a client of `url`'s database, closed afterwards whatever happens. */
export async function withClient(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the database `name` on `adminUrl`'s server; returns its URL. */
export async function createDatabase(adminUrl, name) {
  await withClient(adminUrl, (admin) => admin.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A new database `bench_<name>_<time>` on BENCH_DATABASE_URL's server, or on an embedded
 * PostgreSQL in a temporary folder. `stop()` stops the embedded server and removes the folder.
 */
export async function benchDatabase(name) {
  const dir = mkdtempSync(join(tmpdir(), `deskhooks-bench-${name}-`));
  let embedded = null;
  let adminUrl = process.env.BENCH_DATABASE_URL;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: dir });
    adminUrl = embedded.url;
  }
  return {
    url: await createDatabase(adminUrl, `bench_${name}_${Date.now()}`),
    async stop() {
      await embedded?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * scripts/bench-receiver.mjs in its own process: `port`, `ask(message)` for its answer,
 * `exit()` (it closes and exits; no answer to wait for).
 */
export async function forkReceiver() {
  const proc = fork(fileURLToPath(new URL('./bench-receiver.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (msg) =>
    new Promise((resolve) => {
      proc.once('message', resolve);
      proc.send(msg);
    });
  const { port } = await new Promise((resolve) => proc.once('message', resolve));
  return { port, ask, exit: () => proc.send('exit') };
}
