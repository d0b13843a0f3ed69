/**
 * Starts deskhooks in-process on a free port against a database of its own (a copy of the
 * run's migrated template), with the retry timings shortened, and gives a GraphQL client
 * authenticated as the admin. stop() stops it, drops the database it created and removes
 * its data folder.
 */
import { print, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { loadConfig } from '../../src/config.js';
import { startDeskhooks, type RunningApp } from '../../src/main.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createTestDatabase } from './db.js';
import { tempDir } from './temp.js';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface GraphQLResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

export interface TestApp extends RunningApp {
  /** runs an operation; `auth` defaults to the admin's Bearer key, null sends none */
  gql<T = any, V = Record<string, unknown>>(query: string | TypedDocumentNode<T, V> | DocumentNode, variables?: V, auth?: string | null, headers?: Record<string, string>): Promise<GraphQLResult<T>>;
  /** like gql, but throws on errors and returns data */
  ok<T = any, V = Record<string, unknown>>(query: string | TypedDocumentNode<T, V> | DocumentNode, variables?: V, auth?: string | null): Promise<T>;
  adminAuth: string;
}

export interface TestAppOptions {
  /** an existing database (another app's, a restarted one's); default: a new one, dropped at stop */
  databaseUrl?: string;
  /** the app's clock (test/support/clock.ts); default: real time */
  clock?: () => Date;
  /** the app's logger; default: DESKHOOKS_TEST_LOG or errors only, to the console */
  log?: Logger;
}

export const bearer = (key: string) => `Bearer ${key}`;
export const basic = (email: string, key: string) => `Basic ${Buffer.from(`${email}:${key}`).toString('base64')}`;

export async function startTestApp(env: Record<string, string> = {}, opts: TestAppOptions = {}): Promise<TestApp> {
  const db = opts.databaseUrl ? null : await createTestDatabase();
  const dataDir = tempDir('app');
  const cleanUp = async () => {
    dataDir.remove();
    await db?.drop();
  };
  let app: RunningApp;
  try {
    const config = loadConfig({
      DATABASE_URL: opts.databaseUrl ?? db!.url,
      DATA_DIR: dataDir.path,
      PORT: '0',
      HOST: '127.0.0.1',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      BOOTSTRAP_ADMIN_API_KEY: ADMIN_KEY,
      DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
      DESKHOOKS_RETRY_INTERVAL: '1s',
      DESKHOOKS_RETRY_WINDOW: '4s',
      // long enough that an answer sent at once is never timed out by a loaded machine's stall
      // (the receivers answer at once unless a test says otherwise); a test about the timeout sets its own
      DESKHOOKS_REQUEST_TIMEOUT: '10s',
      DESKHOOKS_SWEEP_INTERVAL: '1s',
      DESKHOOKS_LOG_LEVEL: process.env.DESKHOOKS_TEST_LOG ?? 'error',
      ...env,
    });
    app = await startDeskhooks(config, { log: opts.log ?? createLogger(config.logLevel), stopGraceMs: 500, clock: opts.clock });
  } catch (err) {
    await cleanUp();
    throw err;
  }
  const adminAuth = bearer(ADMIN_KEY);
  const gql: TestApp['gql'] = async (query, variables, auth = adminAuth, headers = {}) => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}), ...headers },
      body: JSON.stringify({ query: typeof query === 'string' ? query : print(query), variables }),
    });
    return (await res.json()) as GraphQLResult<any>;
  };
  const ok: TestApp['ok'] = async (query, variables, auth) => {
    const r = await gql(query, variables, auth);
    if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data as any;
  };
  const stopApp = app.stop;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      try {
        await stopApp();
      } finally {
        await cleanUp();
      }
    })());
  return Object.assign(app, { gql, ok, adminAuth, stop });
}
