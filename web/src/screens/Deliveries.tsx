/**
 * The delivery log and "Live deliveries": every new delivery and state change as
 * deliveryEvents reports it, without reloading; what the live list brought is said to a screen
 * reader as one short counted sentence at most every few seconds (useLiveChanges), the list
 * itself being no live region. The log's filters and its page live in the
 * address (`?webhook=&ticket=&status=&rule=&since=&until=&search=` and
 * `after=<cursor>&from=<position>`), so Back, Forward, reload and a shared link show the same
 * list, position text and filter controls; the cursors of the pages before (for "Previous
 * page") ride in the history entry's state. From and To are entered in the browser's time
 * zone and kept in the address as instants (ISO 8601, UTC), so a shared link means the same
 * moments wherever it is opened. The log is read again once the live feed has reached the
 * server (what changed before it did brings no event) and once the feed is back after a loss;
 * while "Pause live updates" is pressed the page stays as it is and that read waits for resume.
 *
 * For an admin, "Redeliver matching…" and "Cancel matching…" act on the log's applied filter
 * (BulkActions): a dry run counts first, Confirm runs it.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery, useSubscription } from 'urql';
import { Link, useLocation, useSearch } from 'wouter';
import { graphql } from '../gql';
import type { DeliveryFilter, DeliveryStatus } from '../gql/graphql';
import { errorText, fieldProblems, useLiveFeed } from '../client';
import { AttemptsAndTime, Confirmation, DateTime, DeliveryLink, DeliveryStatusBadge, LiveFeedStatus, PageHeader, QueryError, Table, dateTimeText, useFocusAfterRender, useOneAtATime } from '../components/ui';
import { flushSync } from 'react-dom';
import { useHistoryState } from 'wouter/use-browser-location';
import { Field, InputField, describedBy } from '../components/Field';
import { Announcements, useAnnouncement, usePacedAnnouncements, type Pace } from '../components/announce';
import { DELIVERY_STATUSES, deliveryStatusText } from '../words';

const DeliveriesQuery = graphql(`
  query ConsoleDeliveries($filter: DeliveryFilter, $first: Int, $after: String) {
    deliveries(filter: $filter, first: $first, after: $after) {
      nodes {
        id
        status
        event
        attemptCount
        createdAt
        completedAt
        webhook {
          id
          name
        }
        ticket {
          id
          title
        }
        request {
          method
          url
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
      totalCount
    }
  }
`);

const WebhookNamesQuery = graphql(`
  query ConsoleWebhookNames {
    webhooks {
      id
      name
    }
  }
`);

const RuleNamesQuery = graphql(`
  query ConsoleRuleNames {
    rules {
      id
      name
    }
  }
`);

/** The newest delivery a filter matches now: a bulk action counts, and then acts on, the deliveries created until then. */
const NewestMatching = graphql(`
  query ConsoleNewestMatching($filter: DeliveryFilter) {
    deliveries(filter: $filter, first: 1) {
      nodes {
        id
        createdAt
      }
    }
  }
`);

// the two bulk actions answer alike: `result`
const RedeliverMany = graphql(`
  mutation ConsoleRedeliverMany($filter: DeliveryFilter!, $dryRun: Boolean!) {
    result: redeliverMany(filter: $filter, dryRun: $dryRun) {
      matched
      queued
    }
  }
`);

const CancelMany = graphql(`
  mutation ConsoleCancelMany($filter: DeliveryFilter!, $dryRun: Boolean!) {
    result: cancelMany(filter: $filter, dryRun: $dryRun) {
      matched
      queued
    }
  }
`);

const LiveDeliveries = graphql(`
  subscription ConsoleLiveDeliveries {
    deliveryEvents {
      type
      at
      delivery {
        id
        status
        attemptCount
        webhook {
          id
          name
        }
        ticket {
          id
        }
        request {
          method
          url
        }
      }
    }
  }
`);

const PAGE_SIZE = 25;
const LIVE_LIMIT = 50;

type FilterControl = 'webhook' | 'rule' | 'ticket' | 'status' | 'since' | 'until' | 'search';
/** the controls' values: as in the address, except From and To, which the form holds as its datetime-local inputs do (local time) */
type FilterValues = Record<FilterControl, string>;
type FilterProblems = Partial<Record<FilterControl, string>>;

/** the controls in the form's order: the first with a problem takes the focus */
const CONTROLS: FilterControl[] = ['webhook', 'rule', 'ticket', 'status', 'since', 'until', 'search'];
/** the element id of a filter control */
const controlId = (c: FilterControl) => `filter-${c}`;
const TIME_HINT = 'filter-time-hint';
const SEARCH_HINT = 'filter-search-hint';
/** the longest search the API takes (src/delivery/filter.ts MAX_SEARCH_LENGTH) */
const MAX_SEARCH = 1000;
/** what the API's trigram index needs of a search: three letters or digits in a row (src/delivery/filter.ts) */
const SEARCH_RUN = /[\p{L}\p{N}]{3}/u;
const PROBLEM_TEXT: Record<FilterControl, string> = {
  webhook: 'Choose a webhook from the list.',
  rule: 'Choose a rule from the list.',
  ticket: 'Ticket number must be a whole number, such as 42.',
  status: 'Choose a status from the list.',
  since: 'Enter a full date and time.',
  until: 'Enter a full date and time.',
  search: 'Search needs at least three letters or digits in a row, such as inv.',
};
const UNTIL_BEFORE_SINCE = 'To must be later than From.';
/** the most digits an id has (the API refuses a longer one as not an id): a longer ticket number names no ticket */
const MAX_ID_DIGITS = 18;
const TICKET_TOO_LARGE = `Ticket number is too large: no ticket has it (ticket numbers have at most ${MAX_ID_DIGITS} digits).`;
const TICKET_ZERO = 'Ticket numbers start at 1: no ticket has number 0.';
const SEARCH_TOO_LONG = `Search can be at most ${MAX_SEARCH.toLocaleString('en-US')} characters.`;
/** the API's names of the filter's fields, for its field errors */
const API_FIELDS: Record<string, FilterControl> = {
  'filter.webhookId': 'webhook',
  'filter.ruleId': 'rule',
  'filter.ticketId': 'ticket',
  'filter.status': 'status',
  'filter.since': 'since',
  'filter.until': 'until',
  'filter.search': 'search',
};

/** history.state of a log page: the cursors of the pages before it (null for the first page), oldest first */
interface PagingState {
  before?: (string | null)[];
}

const ID = /^[1-9]\d{0,17}$/;

/** An instant from the address (ISO 8601), or null when it is not one. */
function fromAddress(value: string): Date | null {
  const t = Date.parse(value);
  return /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(t) ? new Date(t) : null;
}

const HOUR_MS = 3_600_000;
const localTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The instant a datetime-local value names in the browser's time zone, or null when it names none (localTimeProblem says why). */
function fromLocal(value: string): Date | null {
  return localTimeProblem(value) ? null : new Date(value);
}

/**
 * Why a datetime-local value names no one instant in the browser's time zone: not a full date
 * and time; a time the clocks skipped (moving forward: the Date would be another time); a time
 * they showed twice (moving back: an hour either way reads the same). Undefined when it names one.
 */
function localTimeProblem(value: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/.exec(value);
  if (!m) return PROBLEM_TEXT.since;
  const d = new Date(value); // a date and time without an offset: local time
  if (Number.isNaN(d.getTime())) return PROBLEM_TEXT.since;
  const wall = m.slice(1, 7).map((n) => Number(n ?? 0));
  const reads = (at: Date) => [at.getFullYear(), at.getMonth() + 1, at.getDate(), at.getHours(), at.getMinutes(), at.getSeconds()].every((n, i) => n === wall[i]);
  const shown = value.replace('T', ' ');
  if (!reads(d)) return `${shown} does not exist in your time zone (${localTimeZone()}): the clocks skip it. Enter another time.`;
  if (reads(new Date(d.getTime() - HOUR_MS)) || reads(new Date(d.getTime() + HOUR_MS))) {
    return `${shown} happens twice in your time zone (${localTimeZone()}): the clocks go back over it. Enter another time.`;
  }
  return undefined;
}

/** An instant as a datetime-local value in the browser's time zone (seconds only when there are some); '' for none. */
function toLocal(at: Date | null): string {
  if (!at) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  const base = `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}T${p(at.getHours())}:${p(at.getMinutes())}`;
  return at.getSeconds() || at.getMilliseconds() ? `${base}:${p(at.getSeconds())}` : base;
}

/**
 * The filter the values make, and the values that cannot be sent (checked before the API sees
 * them): a ticket number is a whole number ("#42" meaning 42), a rule an id, From and To dates
 * and times with To later than From, a search something the API's index can look up.
 * `instant` reads From and To (the address's form or the inputs'); `instantProblem` says why one named no instant.
 */
function readFilter(
  values: FilterValues,
  instant: (value: string) => Date | null,
  instantProblem?: (value: string) => string | undefined,
): { filter: DeliveryFilter; problems: FilterProblems } {
  const problems: FilterProblems = {};
  const ticketText = values.ticket.trim();
  // the number as the API takes it: an id of at most 18 digits, without leading zeros (src/delivery/filter.ts ID)
  const ticket = ticketText.replace(/^#/, '').replace(/^0+(?=\d)/, '');
  if (ticketText && !/^#?\d+$/.test(ticketText)) problems.ticket = PROBLEM_TEXT.ticket;
  else if (ticket === '0') problems.ticket = TICKET_ZERO;
  else if (ticket.length > MAX_ID_DIGITS) problems.ticket = TICKET_TOO_LARGE;
  if (values.status && !DELIVERY_STATUSES.includes(values.status as DeliveryStatus)) problems.status = PROBLEM_TEXT.status;
  if (values.rule && !ID.test(values.rule)) problems.rule = PROBLEM_TEXT.rule;
  const since = values.since ? instant(values.since) : null;
  const until = values.until ? instant(values.until) : null;
  if (values.since && !since) problems.since = instantProblem?.(values.since) ?? PROBLEM_TEXT.since;
  if (values.until && !until) problems.until = instantProblem?.(values.until) ?? PROBLEM_TEXT.until;
  if (since && until && until.getTime() <= since.getTime()) problems.until = UNTIL_BEFORE_SINCE;
  const search = values.search.trim() ? values.search : '';
  if (search.length > MAX_SEARCH) problems.search = SEARCH_TOO_LONG;
  else if (search && !SEARCH_RUN.test(search)) problems.search = PROBLEM_TEXT.search;
  const filter: DeliveryFilter = {
    webhookId: values.webhook || undefined,
    ruleId: values.rule || undefined,
    ticketId: ticket || undefined,
    status: (values.status as DeliveryStatus) || undefined,
    since: since?.toISOString(),
    until: until?.toISOString(),
    search: search || undefined,
  };
  return { filter, problems };
}

/** The address's filter values (From and To as the instants written there). */
function addressValues(params: URLSearchParams): FilterValues {
  const get = (name: string) => params.get(name) ?? '';
  return { webhook: get('webhook'), rule: get('rule'), ticket: get('ticket'), status: get('status'), since: get('since'), until: get('until'), search: get('search') };
}

/** The form's values for the address's: From and To in local time (empty when the address's is not a date). */
function formValues(address: FilterValues): FilterValues {
  return { ...address, since: toLocal(fromAddress(address.since)), until: toLocal(fromAddress(address.until)) };
}

/** A 1-based position from the address, or null when it is not one. */
function position(value: string | null): number | null {
  return value && /^[1-9]\d*$/.test(value) ? Number(value) : null;
}

interface LiveEntry {
  id: string;
  status: DeliveryStatus;
  webhook: string;
  ticketId: string | null;
  attempts: number;
  at: string;
}

/** A delivery's webhook by name (null for AGENT callers, who see the request's host instead). */
export function webhookLabel(d: { webhook?: { name: string } | null; request: { url: string } }): string {
  if (d.webhook) return d.webhook.name;
  try {
    return new URL(d.request.url).host;
  } catch {
    return 'webhook';
  }
}

/**
 * The live list's changes are said at most once per 5 s; a burst is gathered for 1 s into one
 * sentence (components/announce).
 */
const LIVE_PACE: Pace = { gatherMs: 1_000, gapMs: 5_000 };
/** how many deliveries' last status said is remembered (the latest): an older one's next change is said as a change of a delivery not said before */
const SAID_REMEMBERED = 1_000;

/** a status as a sentence says it: "failed" */
const statusWord = (status: DeliveryStatus) => deliveryStatusText(status).toLowerCase();

/** "(CRM, ticket #12)": which delivery, for a sentence about one. */
const whichDelivery = (e: LiveEntry) => `(${e.webhook}, ${e.ticketId ? `ticket #${e.ticketId}` : 'no ticket'})`;

/** The statuses of several deliveries counted, most first: "2 succeeded, 1 failed"; "all pending" (or "both") when they share one. */
function statusCounts(entries: readonly LiveEntry[]): string {
  const counts = new Map<DeliveryStatus, number>();
  for (const e of entries) counts.set(e.status, (counts.get(e.status) ?? 0) + 1);
  if (counts.size === 1) return `${entries.length === 2 ? 'both' : 'all'} ${statusWord(entries[0]!.status)}`;
  return [...counts]
    .sort(([a, m], [b, n]) => n - m || DELIVERY_STATUSES.indexOf(a) - DELIVERY_STATUSES.indexOf(b))
    .map(([status, n]) => `${n.toLocaleString()} ${statusWord(status)}`)
    .join(', ');
}

/**
 * The sentence for the deliveries new to the list (`added`, with the status they have now) and
 * those whose status changed (`changed`), all since the last sentence; '' for none. One
 * delivery is named ("1 delivery now failed (CRM, ticket #12)."); more are counted ("3 new
 * deliveries: 2 succeeded, 1 failed. 2 deliveries changed: both failed.").
 */
function liveSentence(added: readonly LiveEntry[], changed: readonly LiveEntry[]): string {
  // the one delivery of a sentence about one is named
  const which = added.length + changed.length === 1 ? ` ${whichDelivery([...added, ...changed][0]!)}` : '';
  const parts: string[] = [];
  if (added.length === 1) parts.push(`1 new delivery: ${statusWord(added[0]!.status)}${which}.`);
  if (added.length > 1) parts.push(`${added.length.toLocaleString()} new deliveries: ${statusCounts(added)}.`);
  if (changed.length === 1) parts.push(`1 delivery now ${statusWord(changed[0]!.status)}${which}.`);
  if (changed.length > 1) parts.push(`${changed.length.toLocaleString()} deliveries changed: ${statusCounts(changed)}.`);
  return parts.join(' ');
}

/**
 * What the live list brought, said politely in one sentence at a time (LIVE_PACE): the
 * deliveries new since the last sentence and those whose status changed, counted. A delivery
 * whose status is what was last said of it is not said again (a new attempt alone is not a
 * change); its intermediate statuses are not said either, only the one it has now.
 *
 * `note` takes each event of the feed, in the subscription's handler: it only records the
 * delivery's latest state (idempotent, so the handler may run again for the same event);
 * `due` after a render that the feed changed asks for a sentence. While `paused` nothing is
 * said; on resume what came meanwhile is said at once in one sentence starting "Resumed." (the
 * list has just moved: its user hears what it brought), or nothing when nothing came.
 */
function useLiveChanges(paused: boolean) {
  // the deliveries changed since the last sentence, each as it is now; queued: new (its QUEUED event came)
  const unsaid = useRef(new Map<string, { entry: LiveEntry; queued: boolean }>());
  // the status last said of each delivery, oldest first
  const said = useRef(new Map<string, DeliveryStatus>());
  const compose = (resumed: boolean): string => {
    const added: LiveEntry[] = [];
    const changed: LiveEntry[] = [];
    for (const [id, { entry, queued }] of unsaid.current) {
      const before = said.current.get(id);
      said.current.delete(id);
      said.current.set(id, entry.status);
      if (before === undefined && queued) added.push(entry);
      else if (before !== entry.status) changed.push(entry);
    }
    unsaid.current.clear();
    for (const id of said.current.keys()) {
      if (said.current.size <= SAID_REMEMBERED) break;
      said.current.delete(id);
    }
    const sentence = liveSentence(added, changed);
    return sentence && resumed ? `Resumed. ${sentence}` : sentence;
  };
  const { said: sentence, changed } = usePacedAnnouncements(compose, LIVE_PACE, paused);
  const note = useCallback((entry: LiveEntry, queued: boolean) => {
    unsaid.current.set(entry.id, { entry, queued: queued || unsaid.current.get(entry.id)?.queued === true });
  }, []);
  const due = useCallback(() => {
    if (unsaid.current.size) changed();
  }, [changed]);
  return { sentence, note, due };
}

export function Deliveries({ admin }: { admin: boolean }) {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const inAddress = addressValues(params);
  const { filter, problems: addressProblems } = readFilter(inAddress, fromAddress);
  const after = params.get('after');
  const from = after ? position(params.get('from')) : 1;
  const before = useHistoryState<PagingState | null>()?.before ?? [];

  // an address with a filter the API would refuse is not asked for: its problem is shown at the control
  const unsendable = Object.keys(addressProblems).length > 0;
  const variables = { filter, first: PAGE_SIZE, after };
  const [log, refetch] = useQuery({ query: DeliveriesQuery, variables, pause: unsendable });
  const client = useClient();
  const [names] = useQuery({ query: WebhookNamesQuery, pause: !admin });
  // rules are the admin's to read (the API refuses `rules` to an agent): an agent sees the Rule control only for a rule the address names
  const [rules] = useQuery({ query: RuleNamesQuery, pause: !admin });

  // "Pause live updates" (WCAG 2.2.2): the list shown stays as it was and nothing is said, the feed keeps counting behind it
  const [frozen, setFrozen] = useState<LiveEntry[] | null>(null);
  const liveChanges = useLiveChanges(frozen !== null);
  const [live, resubscribe] = useSubscription({ query: LiveDeliveries }, (entries: LiveEntry[] = [], event): LiveEntry[] => {
    const d = event.deliveryEvents.delivery;
    const entry: LiveEntry = {
      id: d.id,
      status: d.status,
      webhook: webhookLabel(d),
      ticketId: d.ticket?.id ?? null,
      attempts: d.attemptCount,
      at: event.deliveryEvents.at,
    };
    liveChanges.note(entry, event.deliveryEvents.type === 'QUEUED');
    const i = entries.findIndex((e) => e.id === d.id);
    if (i === -1) return [entry, ...entries].slice(0, LIVE_LIMIT);
    const next = [...entries];
    next[i] = entry;
    return next;
  });
  // each change of the feed noted, its sentence is due (scheduled as the list shows it: a layout effect)
  const { due: liveChangesDue } = liveChanges;
  useLayoutEffect(() => liveChangesDue(), [live.data, liveChangesDue]);
  const liveEntries = frozen ?? live.data ?? [];
  // the log is read again once the feed is live (a delivery made before the feed reached the server brings no event) and once
  // the feed is back after a loss (it shows what the feed missed); while paused the page stays as it is: the read waits for resume
  const pausedNow = useRef(false);
  const readHeld = useRef(false);
  const readAgain = () => refetch({ requestPolicy: 'network-only' });
  const feed = useLiveFeed(
    live.error,
    () => {
      if (unsendable) return;
      if (pausedNow.current) readHeld.current = true;
      else readAgain();
    },
    () => resubscribe(),
    true,
  );
  // "Refresh" reads the log again (the list shown follows the answer) and says what it found
  const [refreshed, sayRefreshed] = useAnnouncement();
  const refresh = async () => {
    if (unsendable) return;
    const r = await client.query(DeliveriesQuery, variables, { requestPolicy: 'network-only' }).toPromise();
    if (r.error) sayRefreshed(`Not refreshed: ${errorText(r.error)}`);
    else if (r.data) sayRefreshed(`Log refreshed: ${plural(r.data.deliveries.totalCount, 'delivery matches', 'deliveries match')}.`);
  };
  const togglePause = () => {
    const pausing = frozen === null;
    pausedNow.current = pausing;
    setFrozen(pausing ? (live.data ?? []) : null);
    if (pausing || !readHeld.current) return;
    readHeld.current = false;
    if (!unsendable) readAgain();
  };

  // the form's values follow the address: set from it whenever it changes (Back, Forward, a link), edited in between
  const [form, setForm] = useState<{ search: string; values: FilterValues; problems: FilterProblems | null }>(() => ({ search, values: formValues(inAddress), problems: null }));
  if (form.search !== search) setForm({ search, values: formValues(inAddress), problems: null });
  const draft = form.values;
  const edit = (control: FilterControl, value: string) =>
    setForm((f) => ({ ...f, values: { ...f.values, [control]: value }, problems: f.problems && { ...f.problems, [control]: undefined } }));

  // the problems shown at the controls: the form's (after Apply), else the address's, else the API's field errors in plain words
  const apiProblems: FilterProblems = {};
  for (const field of fieldProblems(log.error?.graphQLErrors).keys()) {
    const control = API_FIELDS[field];
    if (control) apiProblems[control] = PROBLEM_TEXT[control];
  }
  const problems: FilterProblems = form.problems ?? { ...apiProblems, ...addressProblems };
  const apiMapped = Object.keys(apiProblems).length > 0;

  function apply(e: FormEvent) {
    e.preventDefault();
    const { filter: wanted, problems: found } = readFilter(draft, fromLocal, localTimeProblem);
    // a date and time half typed in: the input's value is empty, its validity says so
    for (const c of ['since', 'until'] as const) {
      const input = document.getElementById(controlId(c)) as HTMLInputElement | null;
      if (input?.validity.badInput) found[c] = PROBLEM_TEXT[c];
    }
    const bad = CONTROLS.find((c) => found[c]);
    if (bad) {
      // shown at the control, then focus goes to it (its message is read as its description)
      flushSync(() => setForm((f) => ({ ...f, problems: found })));
      document.getElementById(controlId(bad))?.focus();
      return;
    }
    const q = new URLSearchParams();
    if (wanted.webhookId) q.set('webhook', String(wanted.webhookId));
    if (wanted.ruleId) q.set('rule', String(wanted.ruleId));
    if (wanted.ticketId) q.set('ticket', String(wanted.ticketId));
    if (wanted.status) q.set('status', wanted.status);
    if (wanted.since) q.set('since', wanted.since);
    if (wanted.until) q.set('until', wanted.until);
    if (wanted.search) q.set('search', wanted.search);
    setForm((f) => ({ ...f, problems: null }));
    navigate(`/deliveries${q.size ? `?${q}` : ''}`);
  }

  /** Another page of the same filters: its cursor and position in the address, the cursors before it in the entry's state. */
  function page(to: string | null, at: number | null, earlier: (string | null)[]) {
    const q = new URLSearchParams(search);
    q.delete('after');
    q.delete('from');
    if (to) q.set('after', to);
    if (to && at !== null) q.set('from', String(at));
    navigate(`/deliveries${q.size ? `?${q}` : ''}`, { state: { before: earlier } satisfies PagingState });
  }

  // the webhooks to choose from (an admin's to read, as rules are): one the address names that is not among them (deleted, or an agent's link) by its id,
  // so that a log narrowed to it always shows that it is, and can be widened
  const webhookOptions = [...(names.data?.webhooks ?? [])];
  if (draft.webhook && !webhookOptions.some((w) => w.id === draft.webhook)) webhookOptions.push({ id: draft.webhook, name: `Webhook ${draft.webhook}` });
  // the rules to choose from; a rule the address names that is not among them (deleted, or an agent's link) by its id
  const ruleOptions = [...(rules.data?.rules ?? [])];
  if (draft.rule && !ruleOptions.some((r) => r.id === draft.rule)) ruleOptions.push({ id: draft.rule, name: `Rule ${draft.rule}` });
  const timeZone = localTimeZone();

  // the list shown is the address's: while another page or filter loads, the last one's rows are not shown under this one's position
  const current = !unsendable && JSON.stringify(log.operation?.variables) === JSON.stringify(variables);
  const data = current ? log.data?.deliveries : undefined;
  // "Previous page" needs the cursor of the page before; an address opened without it (a shared link) goes back to the first page
  const previousKnown = after !== null && from !== null && before.length > 0 && before.length === (from - 1) / PAGE_SIZE;
  const goPrevious = () => (previousKnown ? page(before[before.length - 1]!, from! - PAGE_SIZE, before.slice(0, -1)) : page(null, 1, []));
  const goNext = () => data && page(data.pageInfo.endCursor ?? null, from === null ? null : from + data.nodes.length, from === null ? [] : [...before, after]);
  // a paging button pressed at the first or last page says so (focus stays on it); while a page loads it does nothing
  const [pageEnd, sayPageEnd] = useAnnouncement();
  const pageKey = JSON.stringify(variables);
  useEffect(() => sayPageEnd(''), [pageKey, sayPageEnd]);
  const pressPrevious = () => data && (after ? goPrevious() : sayPageEnd('This is the first page.'));
  const pressNext = () => data && (data.pageInfo.hasNextPage ? goNext() : sayPageEnd('This is the last page.'));

  return (
    <>
      <PageHeader title="Deliveries" />
      <section aria-labelledby="live-heading" className="live">
        <h2 id="live-heading">Live deliveries</h2>
        <LiveFeedStatus feed={feed} />
        <button type="button" className="secondary" aria-pressed={frozen !== null} onClick={togglePause}>
          Pause live updates
        </button>
        {/* what the list brought, one counted sentence at a time; the list itself is no live region (each entry would be read out) */}
        <Announcements id="live-delivery-changes" said={liveChanges.sentence} />
        {/* the live list holds up to LIVE_LIMIT links: a keyboard user gets past them to the log in one step */}
        {liveEntries.length > 0 ? (
          <a
            href="#log-heading"
            className="skip-inline"
            onClick={(e) => {
              e.preventDefault();
              document.getElementById('log-heading')?.focus();
            }}
          >
            Skip the live list to the log
          </a>
        ) : null}
        {/* no empty list before the first delivery: a screen reader would say "list, 0 items" beside the waiting text */}
        {liveEntries.length > 0 ? (
          <ol className="live-list">
            {liveEntries.map((e) => (
              <li key={e.id}>
                <DeliveryLink id={e.id}>
                  <span className="live-webhook">{e.webhook}</span> <span>{e.ticketId ? `#${e.ticketId}` : 'no ticket'}</span>{' '}
                  <DeliveryStatusBadge status={e.status} />
                </DeliveryLink>{' '}
                <AttemptsAndTime attempts={e.attempts} at={e.at} />
              </li>
            ))}
          </ol>
        ) : null}
        {liveEntries.length === 0 && !feed.stopped && !frozen ? <p className="muted">Waiting for deliveries…</p> : null}
        {frozen ? <p className="muted">Paused: the list is as it was when paused. Press the button again to follow new deliveries.</p> : null}
      </section>

      <section aria-labelledby="log-heading">
        <h2 id="log-heading" tabIndex={-1}>
          Log
        </h2>
        <form className="filters row" onSubmit={apply} aria-label="Filter deliveries" noValidate>
          {admin || draft.webhook ? (
            <Field id={controlId('webhook')} label="Webhook" error={problems.webhook}>
              <select {...describedBy(controlId('webhook'), problems.webhook)} value={draft.webhook} onChange={(e) => edit('webhook', e.target.value)}>
                <option value="">All webhooks</option>
                {webhookOptions.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
          {admin || draft.rule ? (
            <Field id={controlId('rule')} label="Rule" error={problems.rule}>
              <select {...describedBy(controlId('rule'), problems.rule)} value={draft.rule} onChange={(e) => edit('rule', e.target.value)}>
                <option value="">All rules</option>
                {ruleOptions.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
          <InputField id={controlId('ticket')} label="Ticket number" error={problems.ticket} inputMode="numeric" value={draft.ticket} onChange={(e) => edit('ticket', e.target.value)} size={8} />
          <Field id={controlId('status')} label="Status" error={problems.status}>
            <select {...describedBy(controlId('status'), problems.status)} value={draft.status} onChange={(e) => edit('status', e.target.value)}>
              <option value="">Any status</option>
              {DELIVERY_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {deliveryStatusText(s)}
                </option>
              ))}
            </select>
          </Field>
          {(['since', 'until'] as const).map((c) => (
            <InputField
              key={c}
              id={controlId(c)}
              label={c === 'since' ? 'From' : 'To'}
              error={problems[c]}
              alsoDescribedBy={TIME_HINT}
              type="datetime-local"
              step={1}
              value={draft[c]}
              onChange={(e) => edit(c, e.target.value)}
            />
          ))}
          <InputField
            id={controlId('search')}
            label="Search"
            error={problems.search}
            alsoDescribedBy={SEARCH_HINT}
            type="search"
            maxLength={MAX_SEARCH}
            value={draft.search}
            onChange={(e) => edit('search', e.target.value)}
          />
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={() => void refresh()}>
            Refresh
          </button>
          {/* what Refresh found, said even when the list stays as it was (its position text then does not change) */}
          <Announcements id="log-refreshed" said={refreshed} />
        </form>
        <p className="hint">
          <span id={TIME_HINT}>From and To are in your time zone ({timeZone}); From is included, To is not.</span>{' '}
          <span id={SEARCH_HINT}>Search finds text in the request's URL or body, or in the last response.</span>
        </p>
        {admin ? (
          <BulkActions
            filter={unsendable ? null : filter}
            address={search}
            matching={data?.totalCount ?? null}
            describe={describeFilter(filter, webhookOptions, ruleOptions)}
            onDone={() => refetch({ requestPolicy: 'network-only' })}
          />
        ) : null}
        {apiMapped ? null : <QueryError error={log.error} />}
        {unsendable || apiMapped ? <p className="muted">Correct the filter to see deliveries.</p> : null}
        {unsendable || apiMapped || (log.error && !data) ? null : (
          <>
            {/* one status for the log, kept on the page while another page loads: its new position is announced */}
            <p role="status" className="muted">
              {!data
                ? 'Loading deliveries…'
                : data.totalCount === 0
                  ? 'No deliveries match.'
                  : from === null
                    ? `Showing ${data.nodes.length} of ${data.totalCount} deliveries (a later page), newest first.`
                    : `Showing ${from}–${from + data.nodes.length - 1} of ${data.totalCount} deliveries, newest first.`}
            </p>
            {data?.nodes.length ? (
              <div className="table-scroll" role="region" aria-label="Deliveries table" tabIndex={0}>
                <Table caption="Deliveries, newest first" columns={['Delivery', 'Webhook', 'Ticket', 'Status', 'Attempts', 'Created']}>
                  {data.nodes.map((d) => (
                    <tr key={d.id}>
                      <th scope="row">
                        <Link href={`/deliveries/${d.id}`}>Delivery {d.id.slice(0, 8)}</Link>
                      </th>
                      <td>
                        <bdi>{webhookLabel(d)}</bdi>
                      </td>
                      <td>{d.ticket ? <Link href={`/tickets/${d.ticket.id}`}>#{d.ticket.id}</Link> : <span className="muted">—</span>}</td>
                      <td>
                        <DeliveryStatusBadge status={d.status} />
                      </td>
                      <td>{d.attemptCount}</td>
                      <td>
                        <DateTime value={d.createdAt} />
                      </td>
                    </tr>
                  ))}
                </Table>
              </div>
            ) : null}
            {/* on the page while the next page loads, its buttons aria-disabled rather than disabled: the button pressed keeps the keyboard focus */}
            <nav aria-label="Delivery pages" className="pager">
              <button type="button" className="secondary" aria-disabled={!data || !after || undefined} onClick={pressPrevious}>
                {after && !previousKnown && from !== PAGE_SIZE + 1 ? 'First page' : 'Previous page'}
              </button>
              <button type="button" className="secondary" aria-disabled={!data?.pageInfo.hasNextPage || undefined} onClick={pressNext}>
                Next page
              </button>
              <Announcements id="log-page-end" said={pageEnd} />
            </nav>
          </>
        )}
      </section>
    </>
  );
}

const plural = (n: number, one: string, many: string) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

/** The applied filter in words, for the confirmation ("webhook Down, status Failed"); empty for none. */
function describeFilter(filter: DeliveryFilter, webhooks: readonly { id: string; name: string }[], rules: readonly { id: string; name: string }[]): string {
  const parts: string[] = [];
  if (filter.webhookId) parts.push(`webhook ${webhooks.find((w) => w.id === filter.webhookId)?.name ?? filter.webhookId}`);
  if (filter.ruleId) parts.push(`rule ${rules.find((r) => r.id === filter.ruleId)?.name ?? filter.ruleId}`);
  if (filter.ticketId) parts.push(`ticket #${filter.ticketId}`);
  if (filter.status) parts.push(`status ${deliveryStatusText(filter.status)}`);
  if (filter.since) parts.push(`from ${dateTimeText(filter.since)}`);
  if (filter.until) parts.push(`to ${dateTimeText(filter.until)}`);
  if (filter.search) parts.push(`text "${filter.search}"`);
  return parts.join(', ');
}

type BulkAction = 'redeliver' | 'cancel';

/** `filter` limited to the deliveries created until `newest` (the creation time of the newest one it matches; null: it matches none). */
function pinnedFilter(filter: DeliveryFilter, newest: string | null): DeliveryFilter {
  if (newest === null) return filter;
  const cutoff = new Date(Date.parse(newest) + 1).toISOString();
  const until = filter.until && Date.parse(filter.until) < Date.parse(cutoff) ? filter.until : cutoff;
  return { ...filter, until };
}

const LATER_LEFT_OUT = ' Deliveries made after this count are left out.';

/** A dry run's answer, waiting for Confirm: the filter it counted (the one Confirm sends) and the address it was counted for. */
interface Counted {
  action: BulkAction;
  filter: DeliveryFilter;
  address: string;
  matched: number;
  /** the log's count of the same filter, when it was shown */
  matching: number | null;
  describe: string;
}

/**
 * "Redeliver matching…" and "Cancel matching…" for the log's applied filter (`filter`; null
 * while the address's filter has a problem). A press runs the dry run and shows its count
 * with Confirm and a way back (its button, "Close" or "Keep them", or Escape); Confirm runs
 * it, announces what it did and refreshes the log (`onDone`). One request at a time: a press
 * while one runs does nothing.
 *
 * A bulk run needs at least one filter: with none it would act on the whole log, which is
 * never what a press next to the filters means (and past 10,000 deliveries the API refuses it
 * anyway); the buttons are replaced by a note saying so until a filter is applied.
 */
function BulkActions({
  filter,
  address,
  matching,
  describe,
  onDone,
}: {
  filter: DeliveryFilter | null;
  address: string;
  matching: number | null;
  describe: string;
  onDone: () => void;
}) {
  const client = useClient();
  const [, redeliverMany] = useMutation(RedeliverMany);
  const [, cancelMany] = useMutation(CancelMany);
  const [counted, setCounted] = useState<Counted | null>(null);
  // one request at a time: the dry run (`count`) or the run itself (`run`) of an action
  const work = useOneAtATime<`${BulkAction}:${'count' | 'run'}`>();
  const [problem, setProblem] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const buttons = { redeliver: useRef<HTMLButtonElement>(null), cancel: useRef<HTMLButtonElement>(null) };
  const focusAfterRender = useFocusAfterRender();

  // a count is for the filter it was made for: another filter in the address (Apply, Back) drops it
  // (the log's count of the filter, once known: the log may still be loading when the button is pressed)
  const shown = counted && counted.address === address ? { ...counted, matching: matching ?? counted.matching } : null;
  const hasFilter = !!filter && Object.values(filter).some((v) => v !== undefined && v !== null && v !== '');

  async function run(action: BulkAction, f: DeliveryFilter, dryRun: boolean) {
    const r = action === 'redeliver' ? await redeliverMany({ filter: f, dryRun }) : await cancelMany({ filter: f, dryRun });
    return { error: r.error ? errorText(r.error) : null, result: r.data?.result ?? null };
  }

  /** "Redeliver matching…" / "Cancel matching…": the dry run, then its count with Confirm. */
  async function count(action: BulkAction) {
    if (!filter || !hasFilter || !work.start(`${action}:count`)) return;
    setProblem(null);
    setStatus(null);
    setCounted(null);
    // Confirm acts on what is counted here: the filter pinned to the deliveries created until now
    // (by the server's clock: the newest one's creation), not on those that keep coming meanwhile
    const newest = await client.query(NewestMatching, { filter }, { requestPolicy: 'network-only' }).toPromise();
    const pinned = newest.error ? null : pinnedFilter(filter, newest.data?.deliveries.nodes[0]?.createdAt ?? null);
    if (pinned && !newest.data?.deliveries.nodes.length) {
      // it matches none: nothing to count, nor to act on
      work.done();
      setCounted({ action, filter: pinned, address, matched: 0, matching, describe });
      return;
    }
    const { error, result } = pinned ? await run(action, pinned, true) : { error: errorText(newest.error!), result: null };
    work.done();
    if (error || !result || !pinned) {
      setProblem(`Not counted: ${error ?? 'no answer'}`);
      return;
    }
    setCounted({ action, filter: pinned, address, matched: result.matched, matching, describe });
  }

  /** Confirm: the run itself, its outcome announced, the log refreshed, focus back on the action's button. */
  async function confirm() {
    if (!shown || shown.matched === 0 || !work.start(`${shown.action}:run`)) return;
    const { error, result } = await run(shown.action, shown.filter, false);
    work.done();
    setCounted(null);
    focusAfterRender(() => buttons[shown.action].current);
    if (error || !result) {
      setProblem(`${shown.action === 'redeliver' ? 'Not redelivered' : 'Not cancelled'}: ${error ?? 'no answer'}`);
    } else {
      setStatus(
        shown.action === 'redeliver'
          ? `Queued ${plural(result.queued, 'new delivery', 'new deliveries')}.`
          : `Cancelled ${plural(result.queued, 'delivery', 'deliveries')}.`,
      );
    }
    onDone();
  }

  /** Back out (its button, or Escape in the confirmation): nothing is done, focus returns to the action's button. */
  function back() {
    if (work.running() || !shown) return;
    setCounted(null);
    focusAfterRender(() => buttons[shown.action].current);
  }

  const question = (c: Counted): string => {
    const match = c.matching === null ? '' : `${plural(c.matching, 'delivery matches', 'deliveries match')}; `;
    if (c.action === 'redeliver') {
      return c.matched === 0
        ? `${match}none can be redelivered (only finished deliveries that were sent are).`
        : `${match}${c.matched.toLocaleString()} will be redelivered as ${c.matched === 1 ? 'a new delivery' : 'new deliveries'}.${LATER_LEFT_OUT}`;
    }
    return c.matched === 0
      ? `${match}none is pending or retrying, so none can be cancelled.`
      : `${match}${plural(c.matched, 'open one (pending or retrying)', 'open ones (pending or retrying)')} will be cancelled.${LATER_LEFT_OUT}`;
  };

  const label = { redeliver: 'Redeliver matching…', cancel: 'Cancel matching…' };
  const busyLabel = (a: BulkAction) => (work.busy === `${a}:count` ? 'Counting…' : label[a]);

  return (
    <div role="group" aria-label="Act on matching deliveries">
      {hasFilter ? (
        <div className="actions">
          {/* aria-disabled, not disabled, while a run is on: a disabled button would drop the keyboard focus */}
          {(['redeliver', 'cancel'] as const).map((a) => (
            <button
              key={a}
              type="button"
              className="secondary"
              ref={buttons[a]}
              onClick={() => void count(a)}
              aria-disabled={work.busy !== null || undefined}
              aria-expanded={shown?.action === a}
            >
              {busyLabel(a)}
            </button>
          ))}
        </div>
      ) : filter ? (
        <p className="muted">Apply at least one filter to redeliver or cancel the deliveries it matches.</p>
      ) : null}
      {shown ? (
        <Confirmation
          question={`${shown.action === 'redeliver' ? 'Redeliver' : 'Cancel'} deliveries matching ${shown.describe}: ${question(shown)}`}
          busy={work.busy !== null}
          busyLabel={shown.action === 'redeliver' ? 'Redelivering…' : 'Cancelling…'}
          // never "Cancel": it would stand beside "Cancel matching…", which means something else
          keepLabel={shown.action === 'redeliver' ? 'Close' : 'Keep them'}
          canConfirm={shown.matched > 0}
          onConfirm={() => void confirm()}
          onKeep={back}
        />
      ) : null}
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
      {/* a live region without role=status: the log's position text is the log's status */}
      <div aria-live="polite">{status ? <p className="status">{status}</p> : null}</div>
    </div>
  );
}
