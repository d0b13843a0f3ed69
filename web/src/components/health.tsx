/** A webhook's health as the console words it: its breaker, and how its recent attempts went. */
import { useEffect, useRef } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { BreakerState } from '../gql/graphql';
import { DateTime } from './ui';
import { recentText } from './recent-attempts';

/** The circuit breaker's state, by itself: a closed breaker says nothing about whether attempts succeed. */
export const BREAKER_TEXT: Record<BreakerState, string> = { CLOSED: 'Breaker closed', OPEN: 'Breaker open (sending paused)', HALF_OPEN: 'Breaker half-open (trying again)' };

const HealthQuery = graphql(`
  query ConsoleWebhookHealth($id: ID!) {
    webhook(id: $id) {
      id
      health {
        breaker
        openedAt
        recentAttempts
        recentFailureRate
      }
    }
  }
`);

/** how often the webhook page reads its health again */
export const HEALTH_POLL_MS = 10_000;

/**
 * The health on a webhook's page, read again every HEALTH_POLL_MS and whenever `version`
 * changes (after Send test, Enable webhook). The breaker's state is a status region: a
 * change (opened, closed) is announced, the changing attempt counts beside it are not.
 */
export function WebhookHealthPanel({ id, version }: { id: string; version: number }) {
  const [{ data }, reread] = useQuery({ query: HealthQuery, variables: { id }, requestPolicy: 'network-only' });
  useEffect(() => {
    if (version > 0) reread({ requestPolicy: 'network-only' });
  }, [version, reread]);
  useEffect(() => {
    const timer = setInterval(() => reread({ requestPolicy: 'network-only' }), HEALTH_POLL_MS);
    return () => clearInterval(timer);
  }, [reread]);
  // a read that fails (the server restarting) leaves the last reading in place: the status region does not empty and refill
  const last = useRef(data?.webhook?.health);
  if (data?.webhook?.health) last.current = data.webhook.health;
  const health = last.current;
  return (
    <p className="webhook-health">
      <strong>Health:</strong>{' '}
      <span role="status">
        {health ? (
          <>
            {BREAKER_TEXT[health.breaker]}
            {health.breaker !== 'CLOSED' && health.openedAt ? (
              <>
                {' '}
                since <DateTime value={health.openedAt} />
              </>
            ) : null}
          </>
        ) : null}
      </span>
      {health ? <span className="muted"> · {recentText(health.recentAttempts, health.recentFailureRate)}</span> : null}
    </p>
  );
}
