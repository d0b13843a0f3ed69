import type { EntityManager } from '@mikro-orm/postgresql';
import { coalesced, User } from '../db/index.js';
import { isId, type FieldProblem, type Role } from '../domain/index.js';
import { badInput, forbidden, invalidInput, notFound } from '../errors.js';
import { generateApiKey, hashApiKey } from './api-keys.js';
import { checkText, TEXT_LIMITS } from './text-input.js';
import type { Actor } from './actor.js';
import type { Queryable } from '../queue/index.js';

export interface CreateUserInput {
  name: string;
  email: string;
  role: Role;
  phone?: string | null;
  telegramChatId?: string | null;
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$|^[^\s@]+@localhost$/;

/** What Telegram's sendMessage takes as chat_id: a user's or group's number (groups negative), or a public @channelname. */
const TELEGRAM_CHAT_ID = /^-?[0-9]{1,20}$|^@[A-Za-z][A-Za-z0-9_]{3,31}$/;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function createUser(em: EntityManager, input: CreateUserInput, apiKey = generateApiKey()): Promise<{ user: User; apiKey: string }> {
  const problems: FieldProblem[] = [];
  // limits first: the patterns below never see oversized text
  checkText(problems, 'name', input.name, TEXT_LIMITS.name);
  checkText(problems, 'email', input.email, TEXT_LIMITS.email);
  checkText(problems, 'phone', input.phone, TEXT_LIMITS.name);
  checkText(problems, 'telegramChatId', input.telegramChatId, TEXT_LIMITS.name);
  if (problems.length) throw invalidInput(problems);
  const name = input.name.trim();
  const email = normaliseEmail(input.email);
  if (!name) problems.push({ field: 'name', message: 'must not be empty' });
  if (!EMAIL.test(email)) problems.push({ field: 'email', message: `"${input.email}" is not a valid email address` });
  if (input.phone != null && !/^\+?[0-9 ()-]{3,32}$/.test(input.phone.trim())) {
    problems.push({ field: 'phone', message: `"${input.phone}" is not a phone number (digits, spaces, + ( ) -)` });
  }
  if (input.telegramChatId != null && input.telegramChatId.trim() !== '' && !TELEGRAM_CHAT_ID.test(input.telegramChatId.trim())) {
    problems.push({ field: 'telegramChatId', message: `"${input.telegramChatId}" is not a Telegram chat id (a number, -100… for a group, or @channelname)` });
  }
  if (problems.length) throw invalidInput(problems);
  if (await em.count(User, { email })) throw badInput('email', `a user with email ${email} already exists`);
  const user = em.create(User, {
    name,
    email,
    role: input.role,
    phone: input.phone?.trim() || null,
    telegramChatId: input.telegramChatId?.trim() || null,
    apiKeyHash: hashApiKey(apiKey),
    createdAt: new Date(),
  });
  try {
    await em.flush();
  } catch (err) {
    // a concurrent create with the same email lost the race against the unique index
    if ((err as { code?: string }).code === '23505') throw badInput('email', `a user with email ${email} already exists`);
    throw err;
  }
  return { user, apiKey };
}

/** The users holding these key hashes, in their order (null: no user holds it); one indexed statement. */
async function usersByKeyHash(db: Queryable, hashes: readonly string[]): Promise<(User | null)[]> {
  const { rows } = await db.query(
    `select id::text as id, name, email, role, phone, telegram_chat_id, api_key_hash, created_at from users where api_key_hash = any($1::text[])`,
    [hashes],
  );
  const byHash = new Map(rows.map((row) => [row.api_key_hash as string, row]));
  return hashes.map((hash) => {
    const row = byHash.get(hash);
    if (!row) return null;
    return Object.assign(new User(), {
      id: row.id,
      name: row.name,
      email: row.email,
      role: row.role,
      phone: row.phone,
      telegramChatId: row.telegram_chat_id,
      apiKeyHash: row.api_key_hash,
      createdAt: row.created_at,
    });
  });
}

/**
 * Finds the user whose key this is. Every request pays it: the lookups of concurrent
 * requests share one statement (coalesced), each read afresh, so a rotated key stops
 * working at once. The entities are not managed by any EntityManager: a request's own
 * merges it (see resolvers/context.ts); each call gets its own object.
 */
function userByApiKeyFinder(db: Queryable): (apiKey: string) => Promise<User | null> {
  const byHash = coalesced((hashes: readonly string[]) => usersByKeyHash(db, hashes));
  return (apiKey) => byHash(hashApiKey(apiKey));
}

/** NOTIFY channel of key rotations; the payload is the user's id. */
export const API_KEY_ROTATED_CHANNEL = 'deskhooks_api_key_rotated';

/**
 * A new key for `userId` (default: the caller; another user's: ADMIN only). The old key
 * stops working when this commits; the NOTIFY in the same transaction tells every process
 * to close the websockets made with it.
 */
export async function rotateApiKey(em: EntityManager, caller: User, userId?: string | null): Promise<{ user: User; apiKey: string }> {
  const targetId = userId ?? caller.id;
  if (targetId !== caller.id && caller.role !== 'ADMIN') throw forbidden(`userId: only an ADMIN rotates another user's key; you are ${caller.role}`, 'userId');
  const apiKey = generateApiKey();
  const user = await em.transactional(async (tem) => {
    const found = isId(targetId) ? await tem.findOne(User, { id: targetId }) : null;
    if (!found) throw notFound('user', targetId, 'userId');
    found.apiKeyHash = hashApiKey(apiKey);
    await tem.flush();
    await tem.execute('select pg_notify(?, ?)', [API_KEY_ROTATED_CHANNEL, found.id]);
    return found;
  });
  return { user, apiKey };
}

/**
 * Parses `Basic base64(email:key)` or `Bearer key`; null when the header is absent or wrong.
 * Keys hold no whitespace: whitespace around the decoded key is not part of it (Basic
 * credentials made with `echo email:key | base64` end in a newline).
 */
export async function authenticate(findByKey: (apiKey: string) => Promise<User | null>, authorization: string | undefined | null): Promise<User | null> {
  if (!authorization) return null;
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === 'bearer') return findByKey(value);
  if (scheme.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const user = await findByKey(decoded.slice(colon + 1).trim());
  return user && user.email === normaliseEmail(decoded.slice(0, colon)) ? user : null;
}

export interface BootstrapResult {
  created: boolean;
  email?: string;
  /** set only when the key was generated here and must be shown once */
  generatedKey?: string;
}

/**
 * With BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_API_KEY, create that ADMIN if no user has
 * the email; with neither and no users at all, create admin@localhost and return its key
 * to print once.
 */
export async function bootstrapAdmin(em: EntityManager, email: string | undefined, key: string | undefined): Promise<BootstrapResult> {
  if (email && key) {
    if (await em.count(User, { email: normaliseEmail(email) })) return { created: false };
    await createUser(em, { name: 'Administrator', email, role: 'ADMIN' }, key);
    return { created: true, email: normaliseEmail(email) };
  }
  if (await em.count(User, {})) return { created: false };
  const { apiKey } = await createUser(em, { name: 'Administrator', email: 'admin@localhost', role: 'ADMIN' });
  return { created: true, email: 'admin@localhost', generatedKey: apiKey };
}

export interface UserServiceDeps {
  /** the pool every request's identification reads */
  db: Queryable;
  /**
   * Whether `deliveryId` names a delivery whose attempt is in flight now: a request
   * carrying it comes from that attempt's receiver (src/delivery's isAttemptInFlight).
   */
  attemptInFlight(db: Queryable, deliveryId: string): Promise<boolean>;
}

/** Users and their keys: who calls, who exists, new users, new keys. */
export interface UserService {
  /**
   * The caller of a request: the user its Authorization header names (null when absent
   * or wrong), and `automated` when X-Deskhooks-Delivery (`deliveryId`) names a delivery
   * whose attempt is in flight, so that its receiver's changes raise no events. Any other
   * value of the header, from anyone, is ignored.
   */
  identify(authorization: string | undefined | null, deliveryId?: string | null): Promise<Actor>;
  list(em: EntityManager): Promise<User[]>;
  create(em: EntityManager, input: CreateUserInput): Promise<{ user: User; apiKey: string }>;
  /** See rotateApiKey. */
  rotateKey(em: EntityManager, caller: User, userId?: string | null): Promise<{ user: User; apiKey: string }>;
}

export function createUserService(deps: UserServiceDeps): UserService {
  const findByKey = userByApiKeyFinder(deps.db);
  return {
    async identify(authorization, deliveryId) {
      const user = await authenticate(findByKey, authorization);
      const automated = user !== null && typeof deliveryId === 'string' && (await deps.attemptInFlight(deps.db, deliveryId));
      return { user, automated };
    },
    list: (em) => em.find(User, {}, { orderBy: { id: 'asc' } }),
    create: (em, input) => createUser(em, input),
    rotateKey: rotateApiKey,
  };
}
