/** A ticket with its conversation (replies and internal comments) and the deliveries made for it. */
import { Fragment } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../gql';
import { DateTime, DeliveryStatusBadge, Loading, NotFound, PageHeader, QueryError } from '../components/ui';
import { webhookLabel } from './Deliveries';

const TicketQuery = graphql(`
  query ConsoleTicket($id: ID!) {
    ticket(id: $id) {
      id
      title
      description
      status
      priority
      customFields
      createdAt
      updatedAt
      requester {
        id
        name
        email
      }
      assignee {
        id
        name
      }
      parent {
        id
        title
      }
      posts {
        id
        kind
        text
        createdAt
        author {
          id
          name
        }
      }
    }
  }
`);

const TicketDeliveriesQuery = graphql(`
  query ConsoleTicketDeliveries($ticketId: ID!) {
    deliveries(filter: { ticketId: $ticketId }, first: 20) {
      nodes {
        id
        status
        attemptCount
        createdAt
        webhook {
          id
          name
        }
        request {
          url
        }
      }
      totalCount
    }
  }
`);

export function TicketPage({ id }: { id: string }) {
  const [{ data, fetching, error }] = useQuery({ query: TicketQuery, variables: { id } });
  const [deliveries] = useQuery({ query: TicketDeliveriesQuery, variables: { ticketId: id } });
  const t = data?.ticket;
  if (fetching && !t) return <Loading what="the ticket" />;
  if (!t) {
    return <NotFound kind="ticket" id={id} list="/tickets" listName="tickets" error={error} />;
  }
  const custom = Object.entries(t.customFields);
  const page = deliveries.data?.deliveries;
  return (
    <>
      <PageHeader title={`#${t.id} ${t.title}`}>
        <Link href="/tickets">All tickets</Link>
      </PageHeader>
      <dl className="facts">
        <dt>Status</dt>
        <dd>{t.status}</dd>
        <dt>Priority</dt>
        <dd>{t.priority}</dd>
        <dt>Requester</dt>
        <dd>
          <bdi>{t.requester.name}</bdi>
          {t.requester.email ? ` <${t.requester.email}>` : ''}
        </dd>
        <dt>Assignee</dt>
        <dd>{t.assignee ? <bdi>{t.assignee.name}</bdi> : 'unassigned'}</dd>
        {t.parent ? (
          <>
            <dt>Parent</dt>
            <dd>
              <Link href={`/tickets/${t.parent.id}`}>
                #{t.parent.id} <bdi>{t.parent.title}</bdi>
              </Link>
            </dd>
          </>
        ) : null}
        {custom.map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
          </Fragment>
        ))}
        <dt>Created</dt>
        <dd>
          <DateTime value={t.createdAt} />
        </dd>
      </dl>
      <section aria-labelledby="description-heading">
        <h2 id="description-heading">Description</h2>
        <p className="prewrap">{t.description}</p>
      </section>
      <section aria-labelledby="posts-heading">
        <h2 id="posts-heading">Posts</h2>
        {t.posts.length === 0 ? <p className="muted">No replies or comments yet.</p> : null}
        <ol className="posts">
          {t.posts.map((p) => (
            <li key={p.id} className={p.kind === 'COMMENT' ? 'post comment' : 'post'}>
              <p className="post-meta">
                <strong>
                  <bdi>{p.author?.name ?? 'System'}</bdi>
                </strong> · {p.kind === 'COMMENT' ? 'internal comment' : 'reply'} · <DateTime value={p.createdAt} />
              </p>
              <p className="prewrap">{p.text}</p>
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="ticket-deliveries-heading">
        <h2 id="ticket-deliveries-heading">Deliveries</h2>
        <QueryError error={deliveries.error} />
        {page && page.nodes.length === 0 ? <p className="muted">No deliveries for this ticket.</p> : null}
        {page && page.nodes.length ? (
          <ul>
            {page.nodes.map((d) => (
              <li key={d.id}>
                <Link href={`/deliveries/${d.id}`}>
                  <bdi>{webhookLabel(d)}</bdi> <DeliveryStatusBadge status={d.status} />
                </Link>{' '}
                <span className="muted">
                  {d.attemptCount} {d.attemptCount === 1 ? 'attempt' : 'attempts'} · <DateTime value={d.createdAt} />
                </span>
              </li>
            ))}
          </ul>
        ) : null}
        {page && page.totalCount > page.nodes.length ? <Link href={`/deliveries?ticket=${t.id}`}>All {page.totalCount} deliveries of this ticket</Link> : null}
      </section>
    </>
  );
}
