/** An isolated database per test file on the run's PostgreSQL (see global-setup.ts). */
import pg from 'pg';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';

export async function createTestDatabase(prefix = 't'): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
