import { useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../gql';
import { Loading, PageHeader, QueryError, Sparkline } from '../components/ui';

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
      <PageHeader title="Webhooks">
        <Link href="/webhooks/new" className="button">
          New webhook
        </Link>
      </PageHeader>
      <QueryError error={error} />
      {fetching && !data ? <Loading what="webhooks" /> : null}
      {data && data.webhooks.length === 0 ? <p>No webhooks yet. Create one with “New webhook”.</p> : null}
      {data && data.webhooks.length > 0 ? (
        <table>
          <caption className="visually-hidden">Webhooks</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Request</th>
              <th scope="col">State</th>
              <th scope="col">Health</th>
              <th scope="col">Last 24 h</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
      ) : null}
    </>
  );
}
