/** The database: entities, the ORM with its committed migrations, embedded PostgreSQL, the LISTEN connection. */
export * from './entities/index.js';
export { openOrm, openRequestOrm, ormOptions, type Orm } from './orm.js';
export { createListener, type Listener, type NotificationHandler } from './listener.js';
export { freePort, startEmbeddedPostgres, type EmbeddedOptions, type EmbeddedServer } from './embedded.js';
export { cancelledOnAbort, closeOnQueryTimeout, connectionLost, databaseOutOfReach, sessionOf, statementCancelled, statementCanceller, type CancelStatement, poolEnd, poolTransactions, prepareStatementsOf, reportConnectionErrors, SET_BASED_STATEMENT_TIMEOUT_MS, sqlLiteral, sqlOf, UUID_PATTERN, withStatementOnError, type Statement, type Transactions, type TransactionOptions } from './sql.js';
export { coalesced, COALESCED_BATCH_MAX } from './coalesce.js';
export { DELIVERY_SESSION_SETTINGS, DISPATCH_SESSION_SETTINGS, SESSION_SETTINGS } from './session-settings.js';
