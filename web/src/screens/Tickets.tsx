import { useEffect } from 'react';
import { useQuery } from 'urql';
import { Link, useLocation, useSearch } from 'wouter';
import { graphql } from '../gql';
import { DateTime, ListHeader, Loading, QueryError, Table } from '../components/ui';
import { Announcements, useAnnouncement } from '../components/announce';
import { TICKET_STATUSES, priorityText, statusText } from '../words';

const TicketsQuery = graphql(`
  query ConsoleTickets($status: TicketStatus, $first: Int, $offset: Int) {
    tickets(status: $status, first: $first, offset: $offset) {
      id
      title
      status
      priority
      updatedAt
      requester {
        id
        name
      }
      assignee {
        id
        name
      }
    }
  }
`);

const PAGE_SIZE = 50;

export function Tickets() {
  const params = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const named = params.get('status') || null;
  // a status the address names that is none (a link edited by hand): every status, and said so, rather than the API's refusal
  const status = TICKET_STATUSES.find((s) => s === named);
  const unknownStatus = named !== null && !status ? named : null;
  const offset = Math.max(0, Number(params.get('offset') ?? 0) || 0);
  const [{ data, fetching, error }, reread] = useQuery({ query: TicketsQuery, variables: { status, first: PAGE_SIZE, offset } });
  const go = (next: { status?: string; offset?: number }) => {
    const q = new URLSearchParams();
    const s = next.status ?? status ?? '';
    if (s) q.set('status', s);
    if (next.offset) q.set('offset', String(next.offset));
    navigate(`/tickets${q.size ? `?${q}` : ''}`);
  };
  const tickets = data?.tickets ?? [];
  // a paging button pressed at the first or last page says so (focus stays on it); another page or filter says nothing of it
  const [pageEnd, sayPageEnd] = useAnnouncement();
  useEffect(() => sayPageEnd(''), [offset, status, sayPageEnd]);
  const previous = () => (offset > 0 ? go({ offset: Math.max(0, offset - PAGE_SIZE) }) : sayPageEnd('This is the first page.'));
  const next = () => (!data ? undefined : tickets.length < PAGE_SIZE ? sayPageEnd('This is the last page.') : go({ offset: offset + PAGE_SIZE }));
  const which = status ? ` with status ${statusText(status)}` : '';
  // what the list shows, in a status region: a filter or a page changed is announced
  const shown = !data
    ? ''
    : tickets.length
      ? `Showing tickets ${offset + 1}–${offset + tickets.length}${which}.`
      : offset
        ? `No more tickets${which}.`
        : status
          ? `No tickets${which}.`
          : 'No tickets yet. Create one with “New ticket”.';
  return (
    <>
      <ListHeader title="Tickets" newHref="/tickets/new" newLabel="New ticket" />
      <div className="filters row">
        <div className="field">
          <label htmlFor="ticket-status">Status</label>
          <select id="ticket-status" value={status ?? ''} onChange={(e) => go({ status: e.target.value, offset: 0 })}>
            <option value="">Any status</option>
            {TICKET_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusText(s)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {unknownStatus ? (
        <p role="alert" className="error">
          The address names no ticket status “<bdi>{unknownStatus}</bdi>”: showing tickets of any status.
        </p>
      ) : null}
      <QueryError error={error} fetching={fetching} reread={reread} focusAfter="page-title" />
      {fetching && !data ? <Loading what="tickets" /> : null}
      <p role="status">{shown}</p>
      {tickets.length ? (
        <div className="table-scroll" role="region" aria-label="Tickets table" tabIndex={0}>
          <Table caption="Tickets" columns={['Ticket', 'Status', 'Priority', 'Requester', 'Assignee', 'Updated']}>
            {tickets.map((t) => (
              <tr key={t.id}>
                <th scope="row">
                  <Link href={`/tickets/${t.id}`}>
                    #{t.id} <bdi>{t.title}</bdi>
                  </Link>
                </th>
                <td>{statusText(t.status)}</td>
                <td>{priorityText(t.priority)}</td>
                <td>
                  <bdi>{t.requester.name}</bdi>
                </td>
                <td>{t.assignee ? <bdi>{t.assignee.name}</bdi> : <span className="muted">unassigned</span>}</td>
                <td>
                  <DateTime value={t.updatedAt} />
                </td>
              </tr>
            ))}
          </Table>
        </div>
      ) : null}
      {/* aria-disabled rather than disabled: the button pressed keeps the keyboard focus on the first or last page */}
      <nav aria-label="Ticket pages" className="pager">
        <button type="button" className="secondary" aria-disabled={offset === 0 || undefined} onClick={previous}>
          Previous page
        </button>
        <button type="button" className="secondary" aria-disabled={tickets.length < PAGE_SIZE || undefined} onClick={next}>
          Next page
        </button>
        <Announcements id="ticket-page-end" said={pageEnd} />
      </nav>
    </>
  );
}
