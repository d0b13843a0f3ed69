/**
 * MikroORM on PostgreSQL. Migrations are committed TypeScript classes listed in
 * src/db/migrations/index.ts and applied at start.
 */
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';
import { SESSION_SETTINGS } from './session-settings.js';
import { closeOnQueryTimeout } from './sql.js';
import type { Logger } from '../log.js';

export type Orm = MikroORM;

/**
 * The query builder's own messages (a connection's error during a database outage, a
 * deprecation) in the process's log instead of bare coloured lines on stdout.
 */
function queryBuilderLog(log: Logger) {
  return {
    warn: (message: unknown) => log.error(`database (ORM): ${String(message)}`),
    error: (message: unknown) => log.error(`database (ORM): ${String(message)}`),
    deprecate: (message: unknown) => log.debug(`database (ORM): ${String(message)}`),
    debug: (message: unknown) => log.debug(`database (ORM): ${String(message)}`),
  };
}

export function ormOptions(clientUrl: string, extra: Partial<Options> = {}, log?: Logger): Options {
  return {
    clientUrl,
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    debug: false,
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: 10 },
    ...extra,
    // the sessions' settings whatever else a caller's driverOptions set
    driverOptions: {
      ...extra.driverOptions,
      ...(log ? { log: queryBuilderLog(log) } : {}),
      connection: { ...extra.driverOptions?.connection, ...SESSION_SETTINGS },
    },
  };
}

export async function openOrm(clientUrl: string, extra: Partial<Options> = {}, log?: Logger): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(clientUrl, extra, log));
  await orm.getMigrator().up();
  return orm;
}

/**
 * The ORM that API requests use, on connections of its own: a statement without an answer
 * within `timeoutMs` (a frozen database, a network path that drops packets), a connection
 * not made within it, or no free connection within it fails as the database out of reach,
 * and the connection is closed (closeOnQueryTimeout). The ORM of openOrm, which migrations
 * and the engines' batches use, has no such bound.
 */
export async function openRequestOrm(clientUrl: string, timeoutMs: number, log?: Logger): Promise<Orm> {
  return MikroORM.init(
    ormOptions(clientUrl, {
      pool: {
        min: 0,
        max: 10,
        afterCreate: (connection: pg.Client, done: (err: Error | null, connection: pg.Client) => void) => {
          closeOnQueryTimeout(connection);
          done(null, connection);
        },
      },
      driverOptions: { acquireConnectionTimeout: timeoutMs, connection: { query_timeout: timeoutMs, connectionTimeoutMillis: timeoutMs } },
    }, log),
  );
}
