/**
 * The delivery log and "Live deliveries": every new delivery and state change as
 * deliveryEvents reports it, without reloading. The log's filters and its page live in the
 * address (`?webhook=&ticket=&status=` and `after=<cursor>&from=<position>`), so Back,
 * Forward, reload and a shared link show the same list, position text and filter controls;
 * the cursors of the pages before (for "Previous page") ride in the history entry's state.
 */
import { useState, type FormEvent } from 'react';
import { useQuery, useSubscription } from 'urql';
import { Link, useLocation, useSearch } from 'wouter';
import { graphql } from '../gql';
import type { DeliveryStatus } from '../gql/graphql';
import { useLiveFeed } from '../client';
import { DateTime, DeliveryStatusBadge, LiveFeedStatus, Loading, PageHeader, QueryError, Table } from '../components/ui';
import { flushSync } from 'react-dom';
import { useHistoryState } from 'wouter/use-browser-location';
import { fieldProblems } from '../client';
import { FieldError, describedBy } from '../components/Field';

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

const STATUSES: DeliveryStatus[] = ['PENDING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const PAGE_SIZE = 25;
const LIVE_LIMIT = 50;

type FilterControl = 'webhook' | 'ticket' | 'status';
type FilterValues = Record<FilterControl, string>;
type FilterProblems = Partial<Record<FilterControl, string>>;

const CONTROL_IDS: Record<FilterControl, string> = { webhook: 'filter-webhook', ticket: 'filter-ticket', status: 'filter-status' };
const PROBLEM_TEXT: Record<FilterControl, string> = {
  webhook: 'Choose a webhook from the list.',
  ticket: 'Ticket number must be a whole number, such as 42.',
  status: 'Choose a status from the list.',
};
/** the API's names of the filter's fields, for its field errors */
const API_FIELDS: Record<string, FilterControl> = { 'filter.webhookId': 'webhook', 'filter.ticketId': 'ticket', 'filter.status': 'status' };

/** history.state of a log page: the cursors of the pages before it (null for the first page), oldest first */
interface PagingState {
  before?: (string | null)[];
}

/** The filter values that cannot be sent (checked before the API sees them): a ticket number is a whole number, "#42" meaning 42. */
function filterProblems(values: FilterValues): FilterProblems {
  const problems: FilterProblems = {};
  if (values.ticket.trim() && !/^#?\d+$/.test(values.ticket.trim())) problems.ticket = PROBLEM_TEXT.ticket;
  if (values.status && !STATUSES.includes(values.status as DeliveryStatus)) problems.status = PROBLEM_TEXT.status;
  return problems;
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

export function Deliveries({ admin }: { admin: boolean }) {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const inAddress: FilterValues = { webhook: params.get('webhook') ?? '', ticket: params.get('ticket') ?? '', status: params.get('status') ?? '' };
  const addressProblems = filterProblems(inAddress);
  const filter = {
    webhookId: inAddress.webhook || undefined,
    ticketId: inAddress.ticket.trim().replace(/^#/, '') || undefined,
    status: (inAddress.status as DeliveryStatus) || undefined,
  };
  const after = params.get('after');
  const from = after ? position(params.get('from')) : 1;
  const before = useHistoryState<PagingState | null>()?.before ?? [];

  // an address with a filter the API would refuse is not asked for: its problem is shown at the control
  const unsendable = Object.keys(addressProblems).length > 0;
  const variables = { filter, first: PAGE_SIZE, after };
  const [log, refetch] = useQuery({ query: DeliveriesQuery, variables, pause: unsendable });
  const [names] = useQuery({ query: WebhookNamesQuery, pause: !admin });

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
    const i = entries.findIndex((e) => e.id === d.id);
    if (i === -1) return [entry, ...entries].slice(0, LIVE_LIMIT);
    const next = [...entries];
    next[i] = entry;
    return next;
  });
  // while the feed was away the log is what shows the deliveries it missed
  const feed = useLiveFeed(live.error, () => refetch({ requestPolicy: 'network-only' }), () => resubscribe());

  // the form's values follow the address: set from it whenever it changes (Back, Forward, a link), edited in between
  const [form, setForm] = useState<{ search: string; values: FilterValues; problems: FilterProblems | null }>({ search, values: inAddress, problems: null });
  if (form.search !== search) setForm({ search, values: inAddress, problems: null });
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
    const found = filterProblems(draft);
    const bad = (Object.keys(CONTROL_IDS) as FilterControl[]).find((c) => found[c]);
    if (bad) {
      // shown at the control, then focus goes to it (its message is read as its description)
      flushSync(() => setForm((f) => ({ ...f, problems: found })));
      document.getElementById(CONTROL_IDS[bad])?.focus();
      return;
    }
    const q = new URLSearchParams();
    if (draft.webhook) q.set('webhook', draft.webhook);
    if (draft.ticket.trim()) q.set('ticket', draft.ticket.trim().replace(/^#/, ''));
    if (draft.status) q.set('status', draft.status);
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

  // the list shown is the address's: while another page or filter loads, the last one's rows are not shown under this one's position
  const current = !unsendable && JSON.stringify(log.operation?.variables) === JSON.stringify(variables);
  const data = current ? log.data?.deliveries : undefined;
  // "Previous page" needs the cursor of the page before; an address opened without it (a shared link) goes back to the first page
  const previousKnown = after !== null && from !== null && before.length > 0 && before.length === (from - 1) / PAGE_SIZE;
  const goPrevious = () => (previousKnown ? page(before[before.length - 1]!, from! - PAGE_SIZE, before.slice(0, -1)) : page(null, 1, []));
  const goNext = () => data && page(data.pageInfo.endCursor ?? null, from === null ? null : from + data.nodes.length, from === null ? [] : [...before, after]);

  return (
    <>
      <PageHeader title="Deliveries" />
      <section aria-labelledby="live-heading" className="live">
        <h2 id="live-heading">Live deliveries</h2>
        <LiveFeedStatus feed={feed} />
        <ol aria-live="polite" aria-relevant="additions text" className="live-list">
          {(live.data ?? []).map((e) => (
            <li key={e.id}>
              <Link href={`/deliveries/${e.id}`}>
                <span className="live-webhook">{e.webhook}</span> <span>{e.ticketId ? `#${e.ticketId}` : 'no ticket'}</span>{' '}
                <DeliveryStatusBadge status={e.status} />
              </Link>{' '}
              <span className="muted">
                {e.attempts} {e.attempts === 1 ? 'attempt' : 'attempts'} · <DateTime value={e.at} />
              </span>
            </li>
          ))}
        </ol>
        {(live.data ?? []).length === 0 && !feed.stopped ? <p className="muted">Waiting for deliveries…</p> : null}
      </section>

      <section aria-labelledby="log-heading">
        <h2 id="log-heading">Log</h2>
        <form className="filters row" onSubmit={apply} aria-label="Filter deliveries">
          {admin ? (
            <div className="field">
              <label htmlFor="filter-webhook">Webhook</label>
              <select {...describedBy(CONTROL_IDS.webhook, problems.webhook)} value={draft.webhook} onChange={(e) => edit('webhook', e.target.value)}>
                <option value="">All webhooks</option>
                {(names.data?.webhooks ?? []).map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
              <FieldError id={CONTROL_IDS.webhook} error={problems.webhook} />
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="filter-ticket">Ticket number</label>
            <input
              {...describedBy(CONTROL_IDS.ticket, problems.ticket)}
              inputMode="numeric"
              value={draft.ticket}
              onChange={(e) => edit('ticket', e.target.value)}
              size={8}
            />
            <FieldError id={CONTROL_IDS.ticket} error={problems.ticket} />
          </div>
          <div className="field">
            <label htmlFor="filter-status">Status</label>
            <select {...describedBy(CONTROL_IDS.status, problems.status)} value={draft.status} onChange={(e) => edit('status', e.target.value)}>
              <option value="">Any status</option>
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
            <FieldError id={CONTROL_IDS.status} error={problems.status} />
          </div>
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={() => refetch({ requestPolicy: 'network-only' })}>
            Refresh
          </button>
        </form>
        {apiMapped ? null : <QueryError error={log.error} />}
        {!data && !unsendable && !log.error ? <Loading what="deliveries" /> : null}
        {unsendable || apiMapped ? <p className="muted">Correct the filter to see deliveries.</p> : null}
        {data ? (
          <>
            <p role="status" className="muted">
              {data.totalCount === 0
                ? 'No deliveries match.'
                : from === null
                  ? `Showing ${data.nodes.length} of ${data.totalCount} deliveries (a later page), newest first.`
                  : `Showing ${from}–${from + data.nodes.length - 1} of ${data.totalCount} deliveries, newest first.`}
            </p>
            {data.nodes.length ? (
              <div className="table-scroll" role="region" aria-label="Deliveries table" tabIndex={0}>
                <Table caption="Deliveries, newest first" columns={['Delivery', 'Webhook', 'Ticket', 'Status', 'Attempts', 'Created']}>
                  {data.nodes.map((d) => (
                    <tr key={d.id}>
                      <th scope="row">
                        <Link href={`/deliveries/${d.id}`}>Delivery {d.id.slice(0, 8)}</Link>
                      </th>
                      <td>{webhookLabel(d)}</td>
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
            <nav aria-label="Delivery pages" className="pager">
              <button type="button" className="secondary" disabled={!after} onClick={goPrevious}>
                {after && !previousKnown && from !== PAGE_SIZE + 1 ? 'First page' : 'Previous page'}
              </button>
              <button type="button" className="secondary" disabled={!data.pageInfo.hasNextPage} onClick={goNext}>
                Next page
              </button>
            </nav>
          </>
        ) : null}
      </section>
    </>
  );
}
