/**
 * loadConfig as tables: every variable's default, the values it accepts, and the one-line
 * ConfigError naming the variable for a value it refuses.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkListenHost, ConfigError, loadConfig, parseDuration, type Config } from '../../src/config.js';

describe('loadConfig', () => {
  it('with no variable set: every default', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: resolve('./.deskhooks'),
      mongodbUrl: undefined,
      bootstrapAdminEmail: undefined,
      bootstrapAdminApiKey: undefined,
      role: 'all',
      deliveryThread: true,
      retryIntervalMs: 30 * 60_000,
      retryWindowMs: 24 * 3_600_000,
      requestTimeoutMs: 15_000,
      databaseTimeoutMs: 15_000,
      allowPrivateNetworks: false,
      publicUrl: undefined,
      secretKey: undefined,
      workerConcurrency: 64,
      sweepIntervalMs: 5_000,
      breakerProbeIntervalMs: 30_000,
      consoleDir: resolve('web/dist'),
      logLevel: 'info',
    } satisfies Config);
  });

  it('the config is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
  });

  const accepted: [variable: string, value: string, key: keyof Config, expected: unknown][] = [
    ['PORT', '8080', 'port', 8080],
    ['PORT', '0', 'port', 0],
    ['PORT', '65535', 'port', 65535],
    ['PORT', '', 'port', 4000],
    ['HOST', '127.0.0.1', 'host', '127.0.0.1'],
    ['HOST', '', 'host', '0.0.0.0'],
    ['DESKHOOKS_DELIVERY_THREAD', 'false', 'deliveryThread', false],
    ['DATABASE_URL', 'postgres://u:p@db:5432/deskhooks', 'databaseUrl', 'postgres://u:p@db:5432/deskhooks'],
    ['DATABASE_URL', 'postgresql://db/deskhooks', 'databaseUrl', 'postgresql://db/deskhooks'],
    ['DATABASE_URL', '', 'databaseUrl', undefined],
    ['DATA_DIR', '/var/lib/deskhooks', 'dataDir', '/var/lib/deskhooks'],
    ['DATA_DIR', 'relative/data', 'dataDir', resolve('relative/data')],
    ['DATA_DIR', '', 'dataDir', resolve('./.deskhooks')],
    ['DESKHOOKS_CONSOLE_DIR', '/srv/console', 'consoleDir', '/srv/console'],
    ['DESKHOOKS_CONSOLE_DIR', 'build/web', 'consoleDir', resolve('build/web')],
    ['MONGODB_URL', 'mongodb://mongo:27017/jobs', 'mongodbUrl', 'mongodb://mongo:27017/jobs'],
    ['MONGODB_URL', 'mongodb+srv://cluster.example/jobs', 'mongodbUrl', 'mongodb+srv://cluster.example/jobs'],
    ['MONGODB_URL', '', 'mongodbUrl', undefined],
    ['DESKHOOKS_ROLE', 'api', 'role', 'api'],
    ['DESKHOOKS_ROLE', 'worker', 'role', 'worker'],
    ['HOST', '::', 'host', '::'],
    ['HOST', 'localhost', 'host', 'localhost'],
    ['HOST', 'helpdesk-1.internal', 'host', 'helpdesk-1.internal'],
    ['DESKHOOKS_PUBLIC_URL', 'https://helpdesk.example.com/', 'publicUrl', 'https://helpdesk.example.com'],
    ['DESKHOOKS_PUBLIC_URL', 'http://10.0.0.5:4000/desk', 'publicUrl', 'http://10.0.0.5:4000/desk'],
    ['DESKHOOKS_PUBLIC_URL', '', 'publicUrl', undefined],
    ['DESKHOOKS_ROLE', 'all', 'role', 'all'],
    ['DESKHOOKS_ROLE', '', 'role', 'all'],
    ['DESKHOOKS_RETRY_INTERVAL', '1500ms', 'retryIntervalMs', 1500],
    ['DESKHOOKS_RETRY_INTERVAL', '2s', 'retryIntervalMs', 2000],
    ['DESKHOOKS_RETRY_INTERVAL', '1m', 'retryIntervalMs', 60_000],
    ['DESKHOOKS_RETRY_INTERVAL', '2h', 'retryIntervalMs', 7_200_000],
    ['DESKHOOKS_RETRY_INTERVAL', '1d', 'retryIntervalMs', 86_400_000],
    ['DESKHOOKS_RETRY_INTERVAL', ' 0.5s ', 'retryIntervalMs', 500],
    ['DESKHOOKS_RETRY_WINDOW', '10m', 'retryWindowMs', 600_000],
    ['DESKHOOKS_RETRY_WINDOW', '0', 'retryWindowMs', 0],
    ['DESKHOOKS_REQUEST_TIMEOUT', '2s', 'requestTimeoutMs', 2000],
    ['DESKHOOKS_DATABASE_TIMEOUT', '500ms', 'databaseTimeoutMs', 500],
    ['DESKHOOKS_REQUEST_TIMEOUT', '24d', 'requestTimeoutMs', 2_073_600_000],
    ['DESKHOOKS_DATABASE_TIMEOUT', '24d', 'databaseTimeoutMs', 2_073_600_000],
    ['DESKHOOKS_BREAKER_PROBE_INTERVAL', '24d', 'breakerProbeIntervalMs', 2_073_600_000],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', 'true', 'allowPrivateNetworks', true],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', 'YES', 'allowPrivateNetworks', true],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', ' on ', 'allowPrivateNetworks', true],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', '1', 'allowPrivateNetworks', true],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', 'false', 'allowPrivateNetworks', false],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', 'off', 'allowPrivateNetworks', false],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', 'no', 'allowPrivateNetworks', false],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', '0', 'allowPrivateNetworks', false],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', '', 'allowPrivateNetworks', false],
    ['DESKHOOKS_SECRET_KEY', 'sixteen-chars-ok', 'secretKey', 'sixteen-chars-ok'],
    ['DESKHOOKS_SECRET_KEY', '', 'secretKey', undefined],
    ['DESKHOOKS_WORKER_CONCURRENCY', '1', 'workerConcurrency', 1],
    ['DESKHOOKS_WORKER_CONCURRENCY', '1000', 'workerConcurrency', 1000],
    ['DESKHOOKS_WORKER_CONCURRENCY', '', 'workerConcurrency', 64],
    ['DESKHOOKS_SWEEP_INTERVAL', '100ms', 'sweepIntervalMs', 100],
    ['DESKHOOKS_SWEEP_INTERVAL', '1m', 'sweepIntervalMs', 60_000],
    ['DESKHOOKS_LOG_LEVEL', 'silent', 'logLevel', 'silent'],
    ['DESKHOOKS_LOG_LEVEL', 'error', 'logLevel', 'error'],
    ['DESKHOOKS_LOG_LEVEL', 'debug', 'logLevel', 'debug'],
    ['DESKHOOKS_LOG_LEVEL', '', 'logLevel', 'info'],
  ];

  it.each(accepted)('%s=%j → %s %j', (variable, value, key, expected) => {
    expect(loadConfig({ [variable]: value })[key]).toEqual(expected);
  });

  it('BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_API_KEY together', () => {
    const config = loadConfig({ BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: '0123456789abcdef' });
    expect([config.bootstrapAdminEmail, config.bootstrapAdminApiKey]).toEqual(['admin@example.com', '0123456789abcdef']);
  });

  const refused: [variable: string, value: string, message: RegExp][] = [
    ['HOST', '999.1.1.1', /^HOST="999.1.1.1" is not valid: use an address of this machine or a name that resolves to one, e\.g\. 0\.0\.0\.0/],
    ['HOST', 'two words', /^HOST="two words" is not valid/],
    ['DESKHOOKS_PUBLIC_URL', 'helpdesk.example.com', /^DESKHOOKS_PUBLIC_URL="helpdesk.example.com" is not valid: use the http\(s\) address people open deskhooks at/],
    ['DESKHOOKS_PUBLIC_URL', 'ftp://helpdesk.example.com', /^DESKHOOKS_PUBLIC_URL="ftp:\/\/helpdesk.example.com" is not valid/],
    ['DESKHOOKS_PUBLIC_URL', 'https://helpdesk.example.com/?a=1', /is not valid/],
    ['HOST', 'http://localhost', /^HOST="http:\/\/localhost" is not valid/],
    ['PORT', '65536', /^PORT="65536" is not valid: use a whole number from 0 to 65535$/],
    ['PORT', '-1', /^PORT="-1" is not valid: use a whole number from 0 to 65535$/],
    ['PORT', '80.5', /^PORT="80.5" is not valid/],
    ['PORT', 'http', /^PORT="http" is not valid/],
    // only decimal digits: Number() would read these as 0, 80 and 8000
    ['PORT', ' ', /^PORT=" " is not valid: use a whole number from 0 to 65535$/],
    ['PORT', '0x50', /^PORT="0x50" is not valid/],
    ['PORT', '8e3', /^PORT="8e3" is not valid/],
    ['DESKHOOKS_WORKER_CONCURRENCY', '0b11', /^DESKHOOKS_WORKER_CONCURRENCY="0b11" is not valid/],
    ['DATABASE_URL', 'not a url', /^DATABASE_URL is not a valid URL: use postgres:\/\/user:password@host:port\/database$/],
    ['DATABASE_URL', 'mysql://db/deskhooks', /^DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/$/],
    ['MONGODB_URL', 'postgres://db/jobs', /^MONGODB_URL must start with mongodb:\/\/ or mongodb\+srv:\/\/$/],
    ['MONGODB_URL', '::', /^MONGODB_URL is not a valid URL/],
    ['DESKHOOKS_ROLE', 'both', /^DESKHOOKS_ROLE="both" is not valid: use one of api, worker, all$/],
    ['DESKHOOKS_ROLE', 'API', /^DESKHOOKS_ROLE="API" is not valid/],
    ['DESKHOOKS_RETRY_INTERVAL', '30 minutes', /^DESKHOOKS_RETRY_INTERVAL="30 minutes" is not a duration: use a number with its unit, ms, s, m, h or d/],
    // a bare number has no unit: 30 meant as minutes is not taken as 30 ms
    ['DESKHOOKS_RETRY_INTERVAL', '30', /^DESKHOOKS_RETRY_INTERVAL="30" is not a duration: use a number with its unit/],
    ['DESKHOOKS_REQUEST_TIMEOUT', '15', /^DESKHOOKS_REQUEST_TIMEOUT="15" is not a duration/],
    ['DESKHOOKS_DATABASE_TIMEOUT', '10', /^DESKHOOKS_DATABASE_TIMEOUT="10" is not a duration/],
    ['DESKHOOKS_RETRY_INTERVAL', '0', /^DESKHOOKS_RETRY_INTERVAL="0" is not a duration/],
    ['DESKHOOKS_RETRY_INTERVAL', '-5s', /^DESKHOOKS_RETRY_INTERVAL="-5s" is not a duration/],
    // an empty duration is not the default: it is refused
    ['DESKHOOKS_RETRY_INTERVAL', '', /^DESKHOOKS_RETRY_INTERVAL="" is not a duration/],
    ['DESKHOOKS_RETRY_WINDOW', '1w', /^DESKHOOKS_RETRY_WINDOW="1w" is not a duration/],
    ['DESKHOOKS_REQUEST_TIMEOUT', '0s', /^DESKHOOKS_REQUEST_TIMEOUT="0s" is not a duration/],
    // waited for with timers, which take anything over 2^31 - 1 ms (24.8 days) as 1 ms: every attempt or query would time out at once
    ['DESKHOOKS_REQUEST_TIMEOUT', '30d', /^DESKHOOKS_REQUEST_TIMEOUT="30d" is too long: use at most 24d$/],
    ['DESKHOOKS_DATABASE_TIMEOUT', '25d', /^DESKHOOKS_DATABASE_TIMEOUT="25d" is too long: use at most 24d$/],
    // an open breaker's next probe is waited for with a timer: over 24.8 days it would fire at once, and the worker claim again and again
    ['DESKHOOKS_BREAKER_PROBE_INTERVAL', '30d', /^DESKHOOKS_BREAKER_PROBE_INTERVAL="30d" is too long: use at most 24d$/],
    ['DESKHOOKS_ALLOW_PRIVATE_NETWORKS', 'maybe', /^DESKHOOKS_ALLOW_PRIVATE_NETWORKS="maybe" is not valid: use true or false$/],
    ['DESKHOOKS_SECRET_KEY', 'too-short', /^DESKHOOKS_SECRET_KEY is too short: use at least 16 characters/],
    ['DESKHOOKS_WORKER_CONCURRENCY', '0', /^DESKHOOKS_WORKER_CONCURRENCY="0" is not valid: use a whole number from 1 to 1000$/],
    ['DESKHOOKS_WORKER_CONCURRENCY', '1001', /^DESKHOOKS_WORKER_CONCURRENCY="1001" is not valid/],
    ['DESKHOOKS_SWEEP_INTERVAL', '99ms', /^DESKHOOKS_SWEEP_INTERVAL="99ms" is not a duration/],
    ['DESKHOOKS_LOG_LEVEL', 'verbose', /^DESKHOOKS_LOG_LEVEL="verbose" is not valid: use one of silent, error, info, debug$/],
  ];

  it.each(refused)('%s=%j → ConfigError naming the variable', (variable, value, message) => {
    const load = () => loadConfig({ [variable]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });

  const refusedTogether: [what: string, env: Record<string, string>, message: RegExp][] = [
    ['an email without a key', { BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com' }, /^BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_API_KEY go together: set both or neither$/],
    ['a key without an email', { BOOTSTRAP_ADMIN_API_KEY: '0123456789abcdef' }, /^BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_API_KEY go together/],
    ['an email that is not one', { BOOTSTRAP_ADMIN_EMAIL: 'admin', BOOTSTRAP_ADMIN_API_KEY: '0123456789abcdef' }, /^BOOTSTRAP_ADMIN_EMAIL="admin" is not an email address$/],
    ['a key under 16 characters', { BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: 'short' }, /^BOOTSTRAP_ADMIN_API_KEY is too short: use at least 16 characters$/],
    // a key that `Authorization: Bearer <key>` cannot carry would make an admin no one can sign in as
    ['a key with a space', { BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: 'my secret key 1234' }, /^BOOTSTRAP_ADMIN_API_KEY has a space, a control or a non-ASCII character/],
    ['a key with a trailing newline', { BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: '0123456789abcdef\n' }, /^BOOTSTRAP_ADMIN_API_KEY has a space/],
    ['a key with a non-ASCII character', { BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: '0123456789abcdéf' }, /^BOOTSTRAP_ADMIN_API_KEY has a space/],
  ];

  it.each(refusedTogether)('%s → ConfigError naming the variable', (_what, env, message) => {
    const load = () => loadConfig(env);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });

  it('a refused value gives one line', () => {
    expect(() => loadConfig({ PORT: 'x\ny' })).toThrow(/^PORT="x\\ny" is not valid/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['1d', 86_400_000],
    [' 2 s ', 2000],
    ['0', 0],
  ])('%j → %d ms', (value, ms) => {
    expect(parseDuration(value)).toBe(ms);
  });

  it.each(['', 's', '2 days', '1w', '-1s', '1e3', '2S', '500', '0.5'])('%j → undefined', (value) => {
    expect(parseDuration(value)).toBeUndefined();
  });
});

describe('checkListenHost', () => {
  it('an address of this machine can be listened on; another machine\'s address is a ConfigError naming HOST', async () => {
    await expect(checkListenHost('127.0.0.1')).resolves.toBeUndefined();
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: EADDRNOTAVAIL, without any name lookup
    const refused = checkListenHost('192.0.2.1');
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(/^HOST="192\.0\.2\.1" cannot be listened on \(EADDRNOTAVAIL\): use an address of this machine/);
  });
});
