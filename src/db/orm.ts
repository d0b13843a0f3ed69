/**
 * MikroORM on PostgreSQL. Migrations are committed TypeScript classes listed in
 * src/db/migrations/index.ts and applied at start.
 */
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';
import { SESSION_SETTINGS } from './session-settings.js';

export type Orm = MikroORM;

export function ormOptions(clientUrl: string, extra: Partial<Options> = {}): Options {
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
    driverOptions: { ...extra.driverOptions, connection: { ...extra.driverOptions?.connection, ...SESSION_SETTINGS } },
  };
}

export async function openOrm(clientUrl: string, extra: Partial<Options> = {}): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(clientUrl, extra));
  await orm.getMigrator().up();
  return orm;
}
