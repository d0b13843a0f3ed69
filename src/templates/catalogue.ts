/**
 * The tag catalogue: every path a template may name, written from TemplateContext
 * (types.ts). It is the allow-list the compiler checks tags against and what
 * the `templateTags` query returns. Examples are read from sampleContext(), so the
 * catalogue and the sample values cannot drift apart.
 */
import { sampleContext } from './sample-context.js';
import { lookupPath, toText } from './lookup.js';
import { FORBIDDEN_SEGMENTS } from '../domain/index.js';

/** Where a template is used; decides which roots it may read. */
export type TemplateScope = 'webhook' | 'successComment' | 'action';

export interface TemplateTagInfo {
  name: string;
  description: string;
  example: string | null;
}

/** A tag path: segments of letters, digits and `_`, the first not starting with a digit. */
export const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;
/** One free key (custom field key, temporary field name). */
export const KEY_RE = /^[A-Za-z0-9_]+$/;

/**
 * Segments that lead to JavaScript internals on ordinary objects (src/domain). The
 * render-time lookup reads own properties only, so they could not reach anything anyway;
 * refusing them at save time keeps "templates are data" obvious and tells the admin why.
 */
export { FORBIDDEN_SEGMENTS };

interface Entry {
  path: string;
  description: string;
  /** only these scopes may use it; undefined: every scope */
  scopes?: readonly TemplateScope[];
}

const user = (root: string, who: string): Entry[] => [
  { path: `${root}.id`, description: `${who}: user id` },
  { path: `${root}.name`, description: `${who}: name` },
  { path: `${root}.email`, description: `${who}: e-mail address` },
  { path: `${root}.role`, description: `${who}: role (ADMIN, AGENT or CLIENT)` },
  { path: `${root}.phone`, description: `${who}: phone number; empty if unknown` },
  { path: `${root}.telegramChatId`, description: `${who}: Telegram chat id; empty if unknown` },
];

const ticket = (root: string, what: string): Entry[] => [
  { path: `${root}.id`, description: `${what}: id` },
  { path: `${root}.title`, description: `${what}: title` },
  { path: `${root}.description`, description: `${what}: description` },
  { path: `${root}.status`, description: `${what}: status` },
  { path: `${root}.priority`, description: `${what}: priority` },
  { path: `${root}.createdAt`, description: `${what}: creation time (ISO 8601, UTC)` },
  { path: `${root}.updatedAt`, description: `${what}: time of the last change (ISO 8601, UTC)` },
  { path: `${root}.url`, description: `${what}: link to the ticket, DESKHOOKS_PUBLIC_URL/tickets/<id>; empty if that is not configured` },
  {
    path: `${root}.custom.<key>`,
    description: `${what}: the custom field with this key, e.g. {{ ${root}.custom.order_no }}`,
  },
];

const post = (root: string, what: string): Entry[] => [
  { path: `${root}.id`, description: `${what}: post id` },
  { path: `${root}.kind`, description: `${what}: REPLY (public) or COMMENT (internal)` },
  { path: `${root}.text`, description: `${what}: text` },
  { path: `${root}.createdAt`, description: `${what}: time written (ISO 8601, UTC)` },
  { path: `${root}.author.id`, description: `${what}: author's user id; empty when the system wrote it` },
  { path: `${root}.author.name`, description: `${what}: author's name` },
  { path: `${root}.author.email`, description: `${what}: author's e-mail address` },
  { path: `${root}.author.role`, description: `${what}: author's role` },
];

const ENTRIES: readonly Entry[] = [
  ...ticket('ticket', 'Ticket'),
  ...user('requester', 'Requester'),
  ...user('assignee', 'Assignee (empty when none)'),
  ...ticket('parent', 'Parent ticket (empty when none)'),
  ...post('lastReply', 'Last public reply'),
  ...post('lastComment', 'Last internal comment'),
  ...post('lastPost', 'Last post of either kind'),
  { path: 'event.type', description: 'The event that triggered the rule' },
  { path: 'rule.id', description: 'Rule id' },
  { path: 'rule.name', description: 'Rule name' },
  { path: 'webhook.id', description: 'Webhook id' },
  { path: 'webhook.name', description: 'Webhook name' },
  { path: 'delivery.id', description: 'Delivery id, the same on every attempt' },
  {
    path: 'temp.<name>',
    description: 'Temporary field set by the response mapping of an earlier webhook, e.g. {{ temp.sms_id }}',
  },
  {
    path: 'response.status',
    description: 'HTTP status of the response (successComment only)',
    scopes: ['successComment'],
  },
  {
    path: 'response.body',
    description: 'Response body as text, at most 1 MiB (successComment only)',
    scopes: ['successComment'],
  },
  { path: 'now', description: 'Time of rendering (ISO 8601, UTC)' },
];

/** HelpDeskEddy tags (`{name}`, single braces) and the path each one stands for. */
export const HDE_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  ticket_id: 'ticket.id',
  parent_ticket_id: 'parent.id',
  answer_last: 'lastReply.text',
  last_answer_author: 'lastReply.author.name',
  last_post_user_id: 'lastPost.author.id',
  last_post_date: 'lastPost.createdAt',
});

/** Prefixes followed by exactly one free key. */
const OPEN_PREFIXES = ['ticket.custom.', 'parent.custom.', 'temp.'] as const;

const FIXED = new Map<string, Entry>(ENTRIES.filter((e) => !e.path.includes('<')).map((e) => [e.path, e]));

const SAMPLE = sampleContext();
const exampleOf = (path: string): string | null =>
  FIXED.has(path) ? toText(lookupPath(SAMPLE, path.split('.'))) : null;

/** Every tag the `templateTags` query lists: the paths, then the HelpDeskEddy aliases. */
export const TEMPLATE_TAGS: readonly TemplateTagInfo[] = Object.freeze([
  ...ENTRIES.map((e) => ({ name: e.path, description: e.description, example: exampleOf(e.path) })),
  ...Object.entries(HDE_ALIASES).map(([alias, path]) => ({
    name: `{${alias}}`,
    description: `HelpDeskEddy tag, same as {{ ${path} }}`,
    example: exampleOf(path),
  })),
]);

/** A custom field as the catalogue names it. */
export interface CatalogueField {
  key: string;
  name: string;
  type: string;
}

const CUSTOM_ENTRY = /^(ticket|parent)\.custom\.<key>$/;

/**
 * The catalogue with a tag of its own for every custom field that exists
 * (`ticket.custom.order_no`, `parent.custom.order_no`), each after the `<key>` entry it
 * instantiates: `<key>` only tells how the tag is written, and a template holding it as
 * written is refused, so an admin picks the tag from the list as for any other.
 */
export function templateTagsWith(fields: readonly CatalogueField[]): TemplateTagInfo[] {
  return TEMPLATE_TAGS.flatMap((tag) => {
    const root = CUSTOM_ENTRY.exec(tag.name)?.[1];
    if (!root) return [tag];
    const what = root === 'ticket' ? 'Ticket' : 'Parent ticket (empty when none)';
    return [tag, ...fields.map((f) => ({ name: `${root}.custom.${f.key}`, description: `${what}: custom field "${f.name}" (${f.type})`, example: null }))];
  });
}

/**
 * Whether templates of `scope` may read `path`, a dotted path without braces
 * (`ticket.id`, `ticket.custom.order_no`, `temp.sms_id`).
 */
export function isKnownPath(path: string, scope: TemplateScope): boolean {
  if (!PATH_RE.test(path)) return false;
  const fixed = FIXED.get(path);
  if (fixed) return !fixed.scopes || fixed.scopes.includes(scope);
  for (const prefix of OPEN_PREFIXES) {
    if (path.startsWith(prefix)) {
      const key = path.slice(prefix.length);
      return KEY_RE.test(key) && !FORBIDDEN_SEGMENTS.has(key);
    }
  }
  return false;
}

/** The scopes that may read `path`; empty when no scope may (an unknown path). */
export function scopesOf(path: string): TemplateScope[] {
  return (['webhook', 'successComment', 'action'] as const).filter((s) => isKnownPath(path, s));
}
