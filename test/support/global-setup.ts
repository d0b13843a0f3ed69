/**
 * One PostgreSQL for the whole test run. With TEST_DATABASE_URL set, that server is used
 * (the "another PostgreSQL" case); otherwise an embedded server is started in a temp dir.
 * Each test file then creates its own database on it (see test/support/db.ts).
 */
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/embedded.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let server: EmbeddedServer | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dir = mkdtempSync(join(tmpdir(), 'deskhooks-test-pg-'));
    server = await startEmbeddedPostgres({ dataDir: dir, log: () => {} });
    adminUrl = server.url;
  }
  project.provide('pgAdminUrl', adminUrl);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
