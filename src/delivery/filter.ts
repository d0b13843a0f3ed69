/**
 * The delivery log's filter (`DeliveryFilter`: `deliveries`, `redeliverMany`,
 * `cancelMany`) as SQL conditions on `deliveries d` and, for `search`, on its texts
 * `delivery_texts t`, each part answered from an index
 * (src/db/migrations/Migration20261130000700DeliverySearch.ts):
 *
 * - webhookId, ticketId, ruleId, status: equality;
 * - since (created at or after), until (created before): the (created_at, id) order;
 * - search: a case-insensitive substring (`ILIKE '%…%'`, with `%`, `_` and `\` taken
 *   literally) of the rendered URL, the rendered body or the last answer's body, through
 *   the GIN trigram index. A trigram index finds a substring by the runs of three letters
 *   or digits it contains; a search without such a run (`ab`, `a-b`, `://`) could only be
 *   answered by reading every delivery, so it is refused (BAD_USER_INPUT, filter.search).
 *   The index may be asked for a part of the search only (`indexText`, a substring of it:
 *   search-window.ts), the whole search then being checked on the rows it finds.
 *
 * Input errors name the field as `filter.<name>`.
 */
import { badInput } from '../errors.js';
import { DELIVERY_STATUSES, isId, type DeliveryStatus } from '../domain/index.js';

export interface DeliveryListFilter {
  webhookId?: string | null;
  ticketId?: string | null;
  ruleId?: string | null;
  status?: DeliveryStatus | null;
  /** created at or after */
  since?: Date | null;
  /** created before */
  until?: Date | null;
  /** case-insensitive substring of the rendered URL or body, or of the last answer's body */
  search?: string | null;
}

/** The longest search accepted (characters). */
export const MAX_SEARCH_LENGTH = 1_000;

/** what gives a trigram index something to look up: three letters or digits in a row */
const TRIGRAM_RUN = /[\p{L}\p{N}]{3}/u;

/** `text` as an ILIKE pattern matching it anywhere, its wildcards and escape character literal. */
export function substringPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface FilterSql {
  /** the conditions on `deliveries d` (`true` for none) */
  where: string;
  /** the search, a condition on `delivery_texts t`; null without one */
  textWhere: string | null;
}

/**
 * Throws BAD_USER_INPUT naming the field for an id or status no delivery can have, a
 * time range that holds nothing, or a search over MAX_SEARCH_LENGTH: the log's filter
 * (filterSql) and the live feed's (deliveryEvents) are checked alike.
 */
export function checkFilterValues(filter: DeliveryListFilter): void {
  for (const key of ['webhookId', 'ticketId', 'ruleId'] as const) {
    const id = filter[key];
    if (id && !isId(id)) throw badInput(`filter.${key}`, `"${id}" is not an id`);
  }
  if (filter.status && !DELIVERY_STATUSES.includes(filter.status)) throw badInput('filter.status', `"${filter.status}" is not a delivery status`);
  for (const key of ['since', 'until'] as const) {
    const at = filter[key];
    if (at && Number.isNaN(at.getTime())) throw badInput(`filter.${key}`, 'is not a date and time');
  }
  if (filter.since && filter.until && filter.since.getTime() >= filter.until.getTime()) {
    throw badInput('filter.until', 'must be later than filter.since');
  }
  if (filter.search && filter.search.length > MAX_SEARCH_LENGTH) throw badInput('filter.search', `is longer than ${MAX_SEARCH_LENGTH} characters`);
}

/**
 * The filter as SQL, its values appended to `params` (as `$n` from params.length + 1
 * on). Throws BAD_USER_INPUT naming the field for a value that cannot match anything
 * sensibly (checkFilterValues, and a search too long or too short for the index).
 */
export function filterSql(filter: DeliveryListFilter, params: unknown[], indexText?: string): FilterSql {
  checkFilterValues(filter);
  const parts: string[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  for (const [key, column] of [['webhookId', 'webhook_id'], ['ticketId', 'ticket_id'], ['ruleId', 'rule_id']] as const) {
    const id = filter[key];
    if (id) parts.push(`d.${column} = ${param(id)}::bigint`);
  }
  if (filter.status) parts.push(`d.status = ${param(filter.status)}`);
  if (filter.since) parts.push(`d.created_at >= ${param(filter.since)}::timestamptz`);
  if (filter.until) parts.push(`d.created_at < ${param(filter.until)}::timestamptz`);
  const search = filter.search ?? '';
  let textWhere: string | null = null;
  if (search !== '') {
    if (!TRIGRAM_RUN.test(search)) {
      throw badInput('filter.search', 'needs at least three letters or digits in a row (the search is answered from a trigram index)');
    }
    const p = param(substringPattern(search));
    textWhere = `(t.url ilike ${p} or t.body ilike ${p} or t.last_response ilike ${p})`;
    if (indexText && indexText.length < search.length && search.includes(indexText)) {
      // the part for the index; the whole on expressions the index does not serve
      const w = param(substringPattern(indexText));
      textWhere = `(t.url ilike ${w} or t.body ilike ${w} or t.last_response ilike ${w})
        and ((t.url || '') ilike ${p} or (t.body || '') ilike ${p} or (t.last_response || '') ilike ${p})`;
    }
  }
  return { where: parts.length ? parts.join(' and ') : 'true', textWhere };
}

/** The filter as one condition on `deliveries d` (a search as a semi-join on its texts). */
export function filterCondition(filter: DeliveryListFilter, params: unknown[], indexText?: string): string {
  const { where, textWhere } = filterSql(filter, params, indexText);
  return textWhere ? `${where} and d.id in (select t.delivery_id from delivery_texts t where ${textWhere})` : where;
}
