/**
 * Which part of a search the trigram index looks up. GIN finds `ILIKE '%text%'` by
 * intersecting the posting lists of the text's trigrams, and its cost grows with the
 * number of trigrams times the matches of the rarest one: a search such as
 * `customer12345@example.org` spends most of its time in trigrams that every delivery
 * has (`cus`, `tom`, `exa`, `org`). So the index is asked for a short window of the search
 * (WINDOW characters: a few trigrams, enough that few rows hold them all) that is rare in
 * a sample of the deliveries' texts, and the whole search is checked on the rows it finds
 * (filter.ts). Among windows equally rare in the sample, the one with more digits (an
 * identifier's distinctive part), then the later one (where identifiers differ) wins. The window is a substring of the
 * search, so the result is the same whichever window is chosen: only the time differs.
 * Only a search that is itself rare in the sample is looked up by a window: a common one
 * is left whole, for PostgreSQL to estimate and answer by walking the newest deliveries
 * until a page is full.
 *
 * The sample: about SAMPLE_SIZE deliveries' texts (cut to SAMPLE_CHARS) from random
 * pages of delivery_texts (TABLESAMPLE SYSTEM), read again at most once a minute, in the
 * background once there is one.
 */
import type { Queryable } from './store.js';

const WINDOW = 8;
const SAMPLE_SIZE = 300;
const SAMPLE_CHARS = 1_024;
const SAMPLE_MAX_AGE_MS = 60_000;
/** windows tried at most (evenly spread over a long search) */
const MAX_WINDOWS = 32;
/** found in at most this many sampled texts: rare */
const RARE = 1;
const TRIGRAM_RUN = /[\p{L}\p{N}]{3}/u;

const digits = (text: string) => text.replace(/\D/g, '').length;

const occurrences = (lower: string, sample: readonly string[], atMost: number): number => {
  let count = 0;
  for (const text of sample) if (text.includes(lower) && ++count > atMost) break;
  return count;
};

/**
 * The part of `search` for the index: its window found in the fewest `sample` texts
 * (lower-cased) when the search and that window are rare in the sample; else `search`.
 */
export function rarestWindow(search: string, sample: readonly string[]): string {
  if (search.length <= WINDOW + 1 || !sample.length) return search;
  if (occurrences(search.toLowerCase(), sample, RARE) > RARE) return search;
  const starts = search.length - WINDOW + 1;
  const step = Math.max(1, Math.ceil(starts / MAX_WINDOWS));
  let best = search;
  let bestCount = Infinity;
  for (let i = 0; i < starts; i += step) {
    const window = search.slice(i, i + WINDOW);
    if (!TRIGRAM_RUN.test(window)) continue;
    const count = occurrences(window.toLowerCase(), sample, Math.min(bestCount, sample.length));
    if (count < bestCount || (count === bestCount && digits(window) >= digits(best))) {
      best = window;
      bestCount = count;
    }
  }
  return bestCount <= RARE ? best : search;
}

export interface SearchWindows {
  /** the part of `search` for the index to look up */
  windowOf(db: Queryable, search: string): Promise<string>;
}

export function createSearchWindows(now: () => number = Date.now): SearchWindows {
  let sample: string[] | null = null;
  let readAt = 0;
  let reading: Promise<void> | null = null;
  const read = (db: Queryable) =>
    (reading ??= (async () => {
      const { rows: [size] } = await db.query(`select reltuples from pg_class where oid = 'delivery_texts'::regclass`);
      // four times the pages' share of SAMPLE_SIZE rows (pages are sampled whole), all of a small table
      const rows = Number(size?.reltuples ?? -1);
      const percent = rows < 10 * SAMPLE_SIZE ? 100 : Math.max(0.001, Math.min(100, (400 * SAMPLE_SIZE) / rows));
      return db.query(
        `select lower(left(url, $2)) as u, lower(left(coalesce(body, ''), $2)) as b, lower(left(coalesce(last_response, ''), $2)) as r
           from delivery_texts tablesample system ($3) limit $1`,
        [SAMPLE_SIZE, SAMPLE_CHARS, percent],
      );
    })()
      .then(({ rows }) => {
        sample = rows.map((r) => `${r.u}\n${r.b}\n${r.r}`);
        readAt = now();
      })
      .catch(() => {})
      .finally(() => (reading = null)));
  return {
    async windowOf(db, search) {
      if (search.length <= WINDOW + 1) return search;
      if (!sample) await read(db);
      else if (now() - readAt > SAMPLE_MAX_AGE_MS) void read(db);
      return rarestWindow(search, sample ?? []);
    },
  };
}
