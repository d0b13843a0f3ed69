import { useState } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../gql';
import { BREAKER_TEXT } from '../components/health';
import { recentText } from '../components/recent-attempts';
import { useFlash } from '../flash';
import { ActionOutcome, ListHeader, Loading, QueryError, Sparkline, Table } from '../components/ui';

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

export function Webhooks() {
  const [{ data, fetching, error }, reread] = useQuery({ query: WebhooksQuery });
  const [status, setStatus] = useState<string | null>(null);
  // the message carried from the last page (a webhook deleted)
  useFlash(setStatus);
  return (
    <>
      <ListHeader title="Webhooks" newHref="/webhooks/new" newLabel="New webhook" />
      <ActionOutcome problem={null} status={status} />
      <QueryError error={error} fetching={fetching} reread={reread} focusAfter="page-title" />
      {fetching && !data ? <Loading what="webhooks" /> : null}
      {data && data.webhooks.length === 0 ? <p>No webhooks yet. Create one with “New webhook”.</p> : null}
      {data && data.webhooks.length > 0 ? (
        <div className="table-scroll" role="region" aria-label="Webhooks table" tabIndex={0}>
          <Table caption="Webhooks" columns={['Name', 'Request', 'State', 'Health', 'Last 24 h']}>
            {data.webhooks.map((w) => {
              const s = w.stats;
              const rate = s.successRate === null || s.successRate === undefined ? 'no attempts' : `${Math.round(s.successRate * 100)}% of attempts succeeded`;
              return (
                <tr key={w.id}>
                  <th scope="row">
                    <Link href={`/webhooks/${w.id}`}>
                      <bdi>{w.name}</bdi>
                    </Link>
                  </th>
                  <td>
                    <code>
                      {w.method} {w.url}
                    </code>
                  </td>
                  <td>
                    {w.enabled ? (
                      'Enabled'
                    ) : w.health.disabledReason ? (
                      <>
                        Disabled by deskhooks: <bdi>{w.health.disabledReason}</bdi>
                      </>
                    ) : (
                      'Disabled'
                    )}
                  </td>
                  <td>
                    {BREAKER_TEXT[w.health.breaker]}
                    <span className="muted"> · {recentText(w.health.recentAttempts, w.health.recentFailureRate)}</span>
                  </td>
                  <td>
                    <Sparkline buckets={s.buckets} label={`Last 24 hours: ${s.succeeded} succeeded, ${s.failed} failed, ${rate}`} />
                  </td>
                </tr>
              );
            })}
          </Table>
        </div>
      ) : null}
    </>
  );
}
