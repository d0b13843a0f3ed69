/**
 * Once per test run: one PostgreSQL, one migrated template database, one temp folder.
 *
 * - PostgreSQL: the server named by TEST_DATABASE_URL, or an embedded one started here.
 * - The template `<run>_template` holds the schema as a first start leaves it (migrations,
 *   the job engine's table), without rows; every test database is a copy of it
 *   (`create database … template …`, test/support/db.ts), so a fresh database per test
 *   costs a copy, not a migration.
 * - Every file and folder a test makes goes under the run's temp folder (test/support/temp.ts).
 * Teardown drops every database of the run that a test left behind and removes the folder:
 * a run leaves nothing in PostgreSQL or in the OS temp directory.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type { TestProject } from 'vitest/node';
import { openOrm, startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/index.js';

let server: EmbeddedServer | undefined;
let runDir: string | undefined;
let adminUrl: string | undefined;
let prefix: string | undefined;

const databaseUrl = (admin: string, name: string) => {
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
};

export async function setup(project: TestProject): Promise<void> {
  runDir = mkdtempSync(join(tmpdir(), 'deskhooks-test-'));
  adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    // autovacuum at PostgreSQL's pace: the suite's hundreds of small databases would each be
    // visited every 5 s (QUEUE_SETTINGS), at a cost the suite's CPU budget has no room for.
    // fsync off: a commit is written to the OS, not waited for on the disk (milliseconds each,
    // tens of thousands in a run); what a test sees is the same, and a PostgreSQL process that
    // crashes loses nothing — only an OS crash could, and a run's cluster is thrown away at its end
    server = await startEmbeddedPostgres({ dataDir: join(runDir, 'pg'), log: () => {}, settings: { autovacuum_naptime: '60s', fsync: 'off' } });
    adminUrl = server.url;
  }
  // names of this run's databases: another run on the same server never sees them
  prefix = `dh${randomBytes(4).toString('hex')}`;
  const template = `${prefix}_template`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${template}"`);
  } finally {
    await admin.end();
  }
  await prepareTemplate(databaseUrl(adminUrl, template));
  project.provide('pgAdminUrl', adminUrl);
  project.provide('testDatabasePrefix', prefix);
  project.provide('testRunDir', runDir);
}

/**
 * The schema as a first start leaves it, without starting an app (whose job engine leaves
 * timers behind in this process): the migrations, and the job engine's table as
 * src/queue/jobs.ts names it.
 */
async function prepareTemplate(url: string): Promise<void> {
  const orm = await openOrm(url);
  await orm.close(); // a template must have no connection when it is copied
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await new PostgresBackend({ pool, tableName: 'agenda_jobs', channelName: 'agenda_jobs' }).connect();
  } finally {
    await pool.end();
  }
}

export async function teardown(): Promise<void> {
  if (adminUrl && prefix) {
    const admin = new pg.Client({ connectionString: adminUrl });
    try {
      await admin.connect();
      const { rows } = await admin.query(`select datname from pg_database where datname like $1`, [`${prefix}\\_%`]);
      for (const { datname } of rows) await admin.query(`drop database if exists "${datname}" with (force)`);
    } finally {
      await admin.end().catch(() => {});
    }
  }
  await server?.stop();
  if (runDir) rmSync(runDir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    /** every database of this run is named `<prefix>_…` */
    testDatabasePrefix: string;
    /** the run's temp folder, removed at the end of the run */
    testRunDir: string;
  }
}
