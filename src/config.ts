/**
 * Every environment variable deskhooks reads, with its default and meaning, parsed and
 * validated once at start. A bad value throws a ConfigError whose message is one line
 * naming the variable and what it accepts. Imports nothing from src.
 */
import { createServer, isIP } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  /** HTTP and websocket port */
  readonly port: number;
  /** listen address */
  readonly host: string;
  /** PostgreSQL URL; undefined: embedded PostgreSQL in dataDir */
  readonly databaseUrl: string | undefined;
  /** embedded database files and generated keys */
  readonly dataDir: string;
  /** keep the job queue in MongoDB instead of PostgreSQL */
  readonly mongodbUrl: string | undefined;
  readonly bootstrapAdminEmail: string | undefined;
  readonly bootstrapAdminApiKey: string | undefined;
  /** api: GraphQL, REST, dispatcher; worker: deliveries; all: both */
  readonly role: Role;
  /** role all under `npm start`: the deliveries run in a thread of their own (a second core) */
  readonly deliveryThread: boolean;
  /** ms between attempts of a failing delivery */
  readonly retryIntervalMs: number;
  /** ms after the first attempt after which no attempt starts */
  readonly retryWindowMs: number;
  /** ms for one attempt, connect to last byte */
  readonly requestTimeoutMs: number;
  /** ms an API request waits for the database's answer to one statement (or for a connection) before it answers SERVICE_UNAVAILABLE */
  readonly databaseTimeoutMs: number;
  /** webhooks may target non-public addresses */
  readonly allowPrivateNetworks: boolean;
  /** where people reach this deskhooks (its console), without a trailing slash: templates link tickets as <publicUrl>/tickets/<id>; undefined: ticket.url is empty */
  readonly publicUrl: string | undefined;
  /** key that encrypts stored webhook credentials; undefined: generated into dataDir */
  readonly secretKey: string | undefined;
  /** deliveries one worker sends at once */
  readonly workerConcurrency: number;
  /** how often the recovery sweep runs (ms) */
  readonly sweepIntervalMs: number;
  /** how often an open breaker sends a webhook's oldest held delivery as a probe (ms) */
  readonly breakerProbeIntervalMs: number;
  /** the built admin console the api role serves at `/` (web/dist, made by `npm run build:web`) */
  readonly consoleDir: string;
  /** log level */
  readonly logLevel: 'silent' | 'error' | 'info' | 'debug';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/**
 * `500ms`, `2s`, `30m`, `24h`, `1d`, or `0`. A number needs its unit: a bare `30` would be
 * read as milliseconds by one reader and as minutes by another (a rule's duration), and
 * `DESKHOOKS_RETRY_INTERVAL=30` meant as minutes would retry every 30 ms for a day.
 */
export function parseDuration(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] === undefined && n !== 0) return undefined;
  const unit = m[2] ?? 'ms';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
  return Math.round(n * factor);
}

/**
 * The longest wait a timer can hold: Node.js (setTimeout, AbortSignal.timeout, the pg
 * driver's query timeout) takes any longer one as 1 ms, so it would end at once.
 */
export const MAX_TIMER_DURATION = '24d';

/** `timer`: the value is waited for with a timer, so it may not exceed MAX_TIMER_DURATION. */
function duration(env: Env, name: string, fallback: string, min = 1, { timer = false } = {}): number {
  const raw = env[name] ?? fallback;
  const ms = parseDuration(raw);
  if (ms === undefined || ms < min) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a duration: use a number with its unit, ms, s, m, h or d (e.g. 500ms, 2s, 30m, 24h)`);
  }
  if (timer && ms > parseDuration(MAX_TIMER_DURATION)!) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is too long: use at most ${MAX_TIMER_DURATION}`);
  }
  return ms;
}

/** Decimal digits only (spaces around them allowed): `Number()` would also read " " as 0, "0x50" as 80 and "8e3" as 8000. */
function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: use a whole number from ${min} to ${max}`);
  }
  return n;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: use true or false`);
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: use one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: use ${protocols[0]}//user:password@host:port/database`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => p + '//').join(' or ')}`);
  }
  return raw;
}

export function loadConfig(env: Env = process.env): Config {
  const retryIntervalMs = duration(env, 'DESKHOOKS_RETRY_INTERVAL', '30m');
  const retryWindowMs = duration(env, 'DESKHOOKS_RETRY_WINDOW', '24h', 0);
  const email = env.BOOTSTRAP_ADMIN_EMAIL || undefined;
  const key = env.BOOTSTRAP_ADMIN_API_KEY || undefined;
  if ((email === undefined) !== (key === undefined)) {
    throw new ConfigError('BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_API_KEY go together: set both or neither');
  }
  if (email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw new ConfigError(`BOOTSTRAP_ADMIN_EMAIL=${JSON.stringify(email)} is not an email address`);
  }
  if (key !== undefined && key.length < 16) {
    throw new ConfigError('BOOTSTRAP_ADMIN_API_KEY is too short: use at least 16 characters');
  }
  // the key travels in an Authorization header: `Bearer <key>` ends at the first space, and a
  // header cannot carry control or non-ASCII characters, so such a key could never sign in
  if (key !== undefined && !/^[\x21-\x7e]+$/.test(key)) {
    throw new ConfigError('BOOTSTRAP_ADMIN_API_KEY has a space, a control or a non-ASCII character (a trailing newline?): use printable ASCII characters only');
  }
  const secretKey = env.DESKHOOKS_SECRET_KEY || undefined;
  if (secretKey !== undefined && secretKey.length < 16) {
    throw new ConfigError('DESKHOOKS_SECRET_KEY is too short: use at least 16 characters (it is hashed into a 256-bit key)');
  }
  const config: Config = {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: listenHost(env),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: resolve(env.DATA_DIR || './.deskhooks'),
    mongodbUrl: url(env, 'MONGODB_URL', ['mongodb:', 'mongodb+srv:']),
    bootstrapAdminEmail: email,
    bootstrapAdminApiKey: key,
    role: oneOf(env, 'DESKHOOKS_ROLE', 'all', ['api', 'worker', 'all'] as const),
    retryIntervalMs,
    retryWindowMs,
    requestTimeoutMs: duration(env, 'DESKHOOKS_REQUEST_TIMEOUT', '15s', 1, { timer: true }),
    databaseTimeoutMs: duration(env, 'DESKHOOKS_DATABASE_TIMEOUT', '15s', 100, { timer: true }),
    allowPrivateNetworks: boolean(env, 'DESKHOOKS_ALLOW_PRIVATE_NETWORKS', false),
    publicUrl: publicUrl(env),
    deliveryThread: boolean(env, 'DESKHOOKS_DELIVERY_THREAD', true),
    secretKey,
    workerConcurrency: integer(env, 'DESKHOOKS_WORKER_CONCURRENCY', 64, 1, 1000),
    sweepIntervalMs: duration(env, 'DESKHOOKS_SWEEP_INTERVAL', '5s', 100),
    // the worker waits for an open breaker's next probe with a timer
    breakerProbeIntervalMs: duration(env, 'DESKHOOKS_BREAKER_PROBE_INTERVAL', '30s', 100, { timer: true }),
    // src/config.ts and dist/config.js both lie one folder below the package's root
    consoleDir: resolve(env.DESKHOOKS_CONSOLE_DIR || fileURLToPath(new URL('../web/dist', import.meta.url))),
    logLevel: oneOf(env, 'DESKHOOKS_LOG_LEVEL', 'info', ['silent', 'error', 'info', 'debug'] as const),
  };
  return Object.freeze(config);
}

/** DESKHOOKS_PUBLIC_URL: an http(s) URL without query or fragment; kept without its trailing slashes. */
function publicUrl(env: Env): string | undefined {
  const raw = env.DESKHOOKS_PUBLIC_URL?.trim();
  if (!raw) return undefined;
  let parsed: URL | null = null;
  try {
    parsed = new URL(raw);
  } catch {
    // refused below
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new ConfigError(`DESKHOOKS_PUBLIC_URL=${JSON.stringify(raw)} is not valid: use the http(s) address people open deskhooks at, e.g. https://helpdesk.example.com`);
  }
  return parsed.href.replace(/\/+$/, '');
}

const HOST_ACCEPTS = 'use an address of this machine or a name that resolves to one, e.g. 0.0.0.0 (every IPv4 address), :: (every address) or 127.0.0.1 (this machine only)';

/** HOST: an IP address or a host name (letters, digits and hyphens in dot-separated labels, not all digits). */
function listenHost(env: Env): string {
  const host = env.HOST || '0.0.0.0';
  const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
  const labels = host.split('.');
  const name = host.length <= 253 && labels.every((l) => label.test(l)) && !labels.every((l) => /^[0-9]+$/.test(l));
  if (!isIP(host) && !name) throw new ConfigError(`HOST=${JSON.stringify(host)} is not valid: ${HOST_ACCEPTS}`);
  return host;
}

/**
 * Whether this machine can listen on `host` (any port): a name that does not resolve, or
 * an address that is not this machine's, throws a ConfigError naming HOST — checked at
 * start, before anything else starts. With a `port` (not 0), also whether that port is
 * free there: one another process listens on (or this user may not use) throws a
 * ConfigError naming PORT, before the database is started or a first administrator (whose
 * key is shown only once the server listens) is created.
 */
export function checkListenHost(host: string, port = 0): Promise<void> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (port !== 0 && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) {
        const why = err.code === 'EADDRINUSE' ? 'another process listens there' : 'this user may not listen on it';
        fail(new ConfigError(`PORT=${port} cannot be listened on at ${host} (${err.code}: ${why}): stop that process or choose another PORT`));
        return;
      }
      fail(new ConfigError(`HOST=${JSON.stringify(host)} cannot be listened on (${err.code ?? err.message}): ${HOST_ACCEPTS}`));
    });
    probe.listen(port, host, () => probe.close(() => done()));
  });
}
