/**
 * One deskhooks of role `api` for a benchmark, from the BUILT code: on an embedded
 * PostgreSQL in a temporary folder (or BENCH_DATABASE_URL), with an admin key, a pool of
 * two connections to its database and a GraphQL caller that throws on errors.
 * `stop()` ends them all and removes the folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../dist/config.js';
import { startDeskhooks } from '../dist/main.js';
import { startEmbeddedPostgres } from '../dist/db/embedded.js';

/** `name`: the benchmark's, in the folder, key and secret */
export async function startBenchApp(name) {
  const dir = mkdtempSync(join(tmpdir(), `deskhooks-bench-${name}-`));
  let embedded = null;
  let databaseUrl = process.env.BENCH_DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
    databaseUrl = embedded.url;
  }
  const key = `${name}-bench-admin-key-0123456789`;
  const config = loadConfig({
    DATABASE_URL: databaseUrl, DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', DESKHOOKS_ROLE: 'api',
    BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: key, DESKHOOKS_SECRET_KEY: `${name}-bench-secret-0123456789`,
    DESKHOOKS_LOG_LEVEL: 'error',
  });
  const app = await startDeskhooks(config);
  const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
  const gql = async (query, variables = {}) => {
    const r = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
    const body = await r.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const stop = async () => {
    await pool.end();
    await app.stop();
    await embedded?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { app, pool, gql, key, stop };
}
