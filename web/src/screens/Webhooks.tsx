import { useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../gql';
import { ListHeader, Loading, QueryError, Sparkline, Table } from '../components/ui';

const WebhooksQuery = graphql(`
  query ConsoleWebhooks {
    webhooks {
      id
      name
      method
      url
      enabled
      health {
        breaker
        recentAttempts
        recentFailureRate
        disabledReason
      }
      stats(hours: 24) {
        succeeded
        failed
        successRate
        buckets {
          start
          succeeded
          failed
        }
      }
    }
  }
`);

const BREAKER_TEXT = { CLOSED: 'Healthy', OPEN: 'Breaker open', HALF_OPEN: 'Recovering' } as const;

export function Webhooks() {
  const [{ data, fetching, error }] = useQuery({ query: WebhooksQuery });
  return (
    <>
      <ListHeader title="Webhooks" newHref="/webhooks/new" newLabel="New webhook" />
      <QueryError error={error} />
      {fetching && !data ? <Loading what="webhooks" /> : null}
      {data && data.webhooks.length === 0 ? <p>No webhooks yet. Create one with “New webhook”.</p> : null}
      {data && data.webhooks.length > 0 ? (
        <Table caption="Webhooks" columns={['Name', 'Request', 'State', 'Health', 'Last 24 h']}>
          {data.webhooks.map((w) => {
            const s = w.stats;
            const rate = s.successRate === null || s.successRate === undefined ? 'no attempts' : `${Math.round(s.successRate * 100)}% of attempts succeeded`;
            return (
              <tr key={w.id}>
                <th scope="row">
                  <Link href={`/webhooks/${w.id}`}>{w.name}</Link>
                </th>
                <td>
                  <code>
                    {w.method} {w.url}
                  </code>
                </td>
                <td>{w.enabled ? 'Enabled' : 'Disabled'}</td>
                <td>
                  {BREAKER_TEXT[w.health.breaker]}
                  {w.health.recentAttempts > 0 ? <span className="muted"> · {Math.round(w.health.recentFailureRate * 100)}% failing (5 min)</span> : null}
                  {w.health.disabledReason ? <div className="muted">Disabled: {w.health.disabledReason}</div> : null}
                </td>
                <td>
                  <Sparkline buckets={s.buckets} label={`Last 24 hours: ${s.succeeded} succeeded, ${s.failed} failed, ${rate}`} />
                </td>
              </tr>
            );
          })}
        </Table>
      ) : null}
    </>
  );
}
