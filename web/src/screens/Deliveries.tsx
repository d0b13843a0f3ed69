/**
 * The delivery log (filters in the address, cursor paging) and "Live deliveries": every new
 * delivery and state change as deliveryEvents reports it, without reloading.
 */
import { useState, type FormEvent } from 'react';
import { useQuery, useSubscription } from 'urql';
import { Link, useLocation, useSearch } from 'wouter';
import { graphql } from '../gql';
import type { DeliveryStatus } from '../gql/graphql';
import { DateTime, DeliveryStatusBadge, Loading, PageHeader, QueryError, Table } from '../components/ui';

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
  const filter = {
    webhookId: params.get('webhook') || undefined,
    ticketId: params.get('ticket') || undefined,
    status: (params.get('status') as DeliveryStatus | null) || undefined,
  };
  // the cursors of the pages before this one, for "Previous page"
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const after = params.get('after');

  const [log, refetch] = useQuery({ query: DeliveriesQuery, variables: { filter, first: PAGE_SIZE, after } });
  const [names] = useQuery({ query: WebhookNamesQuery, pause: !admin });

  const [live] = useSubscription({ query: LiveDeliveries }, (entries: LiveEntry[] = [], event): LiveEntry[] => {
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

  const [draft, setDraft] = useState({ webhook: filter.webhookId ?? '', ticket: filter.ticketId ?? '', status: filter.status ?? '' });

  function apply(e: FormEvent) {
    e.preventDefault();
    const q = new URLSearchParams();
    if (draft.webhook) q.set('webhook', draft.webhook);
    if (draft.ticket.trim()) q.set('ticket', draft.ticket.trim());
    if (draft.status) q.set('status', draft.status);
    setCursors([]);
    navigate(`/deliveries${q.size ? `?${q}` : ''}`);
  }

  function page(to: string | null, back: boolean) {
    const q = new URLSearchParams(search);
    if (to) q.set('after', to);
    else q.delete('after');
    setCursors((c) => (back ? c.slice(0, -1) : [...c, after]));
    navigate(`/deliveries${q.size ? `?${q}` : ''}`);
  }

  const data = log.data?.deliveries;
  const firstShown = cursors.length * PAGE_SIZE + 1;

  return (
    <>
      <PageHeader title="Deliveries" />
      <section aria-labelledby="live-heading" className="live">
        <h2 id="live-heading">Live deliveries</h2>
        {live.error ? (
          <p role="alert" className="error">
            The live feed stopped: {live.error.graphQLErrors[0]?.message ?? live.error.message}
          </p>
        ) : null}
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
        {(live.data ?? []).length === 0 ? <p className="muted">Waiting for deliveries…</p> : null}
      </section>

      <section aria-labelledby="log-heading">
        <h2 id="log-heading">Log</h2>
        <form className="filters row" onSubmit={apply} aria-label="Filter deliveries">
          {admin ? (
            <div className="field">
              <label htmlFor="filter-webhook">Webhook</label>
              <select id="filter-webhook" value={draft.webhook} onChange={(e) => setDraft({ ...draft, webhook: e.target.value })}>
                <option value="">All webhooks</option>
                {(names.data?.webhooks ?? []).map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="filter-ticket">Ticket number</label>
            <input id="filter-ticket" inputMode="numeric" value={draft.ticket} onChange={(e) => setDraft({ ...draft, ticket: e.target.value })} size={8} />
          </div>
          <div className="field">
            <label htmlFor="filter-status">Status</label>
            <select id="filter-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value as DeliveryStatus })}>
              <option value="">Any status</option>
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </div>
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={() => refetch({ requestPolicy: 'network-only' })}>
            Refresh
          </button>
        </form>
        <QueryError error={log.error} />
        {log.fetching && !data ? <Loading what="deliveries" /> : null}
        {data ? (
          <>
            <p role="status" className="muted">
              {data.totalCount === 0
                ? 'No deliveries match.'
                : `Showing ${firstShown}–${firstShown + data.nodes.length - 1} of ${data.totalCount} deliveries, newest first.`}
            </p>
            {data.nodes.length ? (
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
            ) : null}
            <nav aria-label="Delivery pages" className="pager">
              <button
                type="button"
                className="secondary"
                disabled={cursors.length === 0 && !after}
                onClick={() => page(cursors[cursors.length - 1] ?? null, true)}
              >
                Previous page
              </button>
              <button type="button" className="secondary" disabled={!data.pageInfo.hasNextPage} onClick={() => page(data.pageInfo.endCursor ?? null, false)}>
                Next page
              </button>
            </nav>
          </>
        ) : null}
      </section>
    </>
  );
}
