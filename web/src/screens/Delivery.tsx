/**
 * One delivery: the request as sent (credentials redacted by the server), the attempt
 * timeline, the response data, "Redeliver" and "Cancel delivery" (confirmed). Its state
 * changes arrive through deliveryEvents.
 */
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { Link, useLocation } from 'wouter';
import { graphql } from '../gql';
import { ActionOutcome, Confirmation, DateTime, DeliveryStatusBadge, LiveFeedStatus, Loading, UnavailablePage, PageHeader, headerValue, prettyBody, useFocusAfterRender, useLastRead, useOneAtATime } from '../components/ui';
import { Announcements, useAnnouncement } from '../components/announce';
import { webhookLabel } from './Deliveries';
import { eventText } from './Rules';
import { setFlash, useFlash } from '../flash';
import { DeliveryChanges, errorText, useLiveFeed } from '../client';
import { deliveryStatusText } from '../words';

const DeliveryQuery = graphql(`
  query ConsoleDelivery($id: ID!) {
    delivery(id: $id) {
      id
      status
      event
      attemptCount
      nextAttemptAt
      createdAt
      completedAt
      responseData
      webhook {
        id
        name
      }
      ticket {
        id
        title
      }
      rule {
        id
        name
      }
      request {
        method
        url
        headers
        body
      }
      attempts {
        number
        startedAt
        durationMs
        statusCode
        error
        responseBody
      }
    }
  }
`);

const Redeliver = graphql(`
  mutation ConsoleRedeliver($id: ID!) {
    redeliver(deliveryId: $id) {
      id
    }
  }
`);

const CancelDelivery = graphql(`
  mutation ConsoleCancelDelivery($id: ID!) {
    cancelDelivery(id: $id) {
      id
      status
    }
  }
`);

const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/**
 * The sentence that says what changed in the delivery since the page last read it: its status
 * and, with a new attempt, that attempt's outcome ("Now retrying. Attempt 2: HTTP 500 Internal Server Error.").
 * Empty at first; a status the user's own Cancel answered (`answered`) is said by that action.
 * The live region's content: each sentence a node of its own (components/announce).
 */
function useChangeSentence(d: { status: string; attempts: readonly { number: number; statusCode?: number | null; error?: string | null }[] } | null | undefined, answered: string | null): ReactNode {
  const seen = useRef<{ status: string; attempts: number } | null>(null);
  const [sentence, setSentence] = useAnnouncement();
  const status = d?.status;
  const attempts = d?.attempts.length ?? 0;
  useEffect(() => {
    if (!d || !status) return;
    const before = seen.current;
    seen.current = { status, attempts };
    if (!before || (before.status === status && before.attempts === attempts)) return;
    const last = attempts > before.attempts ? d.attempts[attempts - 1] : undefined;
    const outcome = last ? ` Attempt ${last.number}: ${(last.error ?? (last.statusCode ? `HTTP ${last.statusCode}` : 'no response')).replace(/\.$/, '')}.` : '';
    if (!outcome && status === answered) return;
    setSentence(`Now ${deliveryStatusText(status).toLowerCase()}.${outcome}`);
  }, [d, status, attempts, answered, setSentence]);
  return sentence;
}

/** `admin`: Redeliver and Cancel delivery are the admin's (the server refuses them to agents). */
export function DeliveryPage({ id, admin }: { id: string; admin: boolean }) {
  const [, navigate] = useLocation();
  const [{ data: read, fetching, error }, refetch] = useQuery({ query: DeliveryQuery, variables: { id }, requestPolicy: 'network-only' });
  // a reading again that fails (the server restarting) keeps the page as last read, and its live feed with it
  const data = useLastRead(read);
  // a change of this delivery (the filter cannot name one delivery: its ticket's, then matched by id)
  const ticketId = data?.delivery?.ticket?.id;
  const [changes, resubscribe] = useSubscription(
    { query: DeliveryChanges, variables: { filter: ticketId ? { ticketId } : null }, pause: !data?.delivery },
    (_prev: number | undefined, ev) => {
      if (ev.deliveryEvents.delivery.id === id) refetch({ requestPolicy: 'network-only' });
      return 0;
    },
  );
  // read again once the feed is live: a change made before it reached the server brings no event
  const feed = useLiveFeed(changes.error, () => refetch({ requestPolicy: 'network-only' }), () => resubscribe(), !!data?.delivery);
  const [, redeliver] = useMutation(Redeliver);
  const [, cancel] = useMutation(CancelDelivery);
  const [status, setStatus] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const statusFact = useRef<HTMLElement>(null);
  // one request per action: a second click while it runs does nothing
  const { busy, start, done, running } = useOneAtATime<'redeliver' | 'cancel'>();
  // focus where the page shows the action's outcome, once it does
  const focusAfterRender = useFocusAfterRender();
  const loaded = !!data?.delivery;
  // the message carried from the last page (Redeliver's), into the status region once the delivery is shown
  useFlash(setStatus, loaded);
  const [answered, setAnswered] = useState<string | null>(null);
  const change = useChangeSentence(data?.delivery, answered);

  // "Cancel delivery" (or its confirmation) goes once the delivery is final, also by a change made
  // elsewhere: focus that was in it goes to the status, which says what the delivery is now
  const cancelArea = useRef<HTMLSpanElement>(null);
  const focusInCancel = useRef(false);
  useEffect(() => {
    const track = (e: FocusEvent) => (focusInCancel.current = !!cancelArea.current?.contains(e.target as Node));
    document.addEventListener('focusin', track);
    return () => document.removeEventListener('focusin', track);
  }, []);
  // the status cancelDelivery answered, shown until the page's own query has caught up
  const shownStatus = data?.delivery ? (answered && !FINAL.includes(data.delivery.status) ? answered : data.delivery.status) : null;
  const cancellable = shownStatus !== null && !FINAL.includes(shownStatus);
  useLayoutEffect(() => {
    if (cancellable || !focusInCancel.current) return;
    focusInCancel.current = false;
    if (!document.activeElement || document.activeElement === document.body) statusFact.current?.focus();
  }, [cancellable]);

  const d = data?.delivery;
  if (fetching && !d) return <Loading what="the delivery" />;
  if (!d) {
    return <UnavailablePage kind="delivery" id={id} list="/deliveries" listName="deliveries" error={error} reread={refetch} />;
  }

  async function doRedeliver() {
    if (!start('redeliver')) return;
    setProblem(null);
    const r = await redeliver({ id });
    if (r.error) {
      done();
      setProblem(`Not redelivered: ${errorText(r.error)}`);
      return;
    }
    setFlash(`Redelivered as a new delivery of delivery ${id.slice(0, 8)}.`);
    navigate(`/deliveries/${r.data!.redeliver.id}`);
  }

  /** Confirm: "Cancelling…" while it runs, then focus goes to the delivery's status, which then says Cancelled. */
  async function doCancel() {
    if (!start('cancel')) return;
    setProblem(null);
    const r = await cancel({ id });
    done();
    setConfirming(false);
    if (r.error) {
      focusAfterRender(() => cancelButton.current);
      setProblem(`Not cancelled: ${errorText(r.error)}`);
    } else {
      setAnswered(r.data!.cancelDelivery.status);
      focusAfterRender(() => statusFact.current); // the confirmation is gone with the delivery cancelled: its status now says so
      setStatus('Delivery cancelled.');
    }
    refetch({ requestPolicy: 'network-only' });
  }

  /** Keep it, or Escape in the confirmation: back to "Cancel delivery". */
  function keep() {
    if (running()) return;
    setConfirming(false);
    focusAfterRender(() => cancelButton.current);
  }

  const headers = Object.entries(d.request.headers);
  const statusNow = shownStatus ?? d.status;

  return (
    <>
      <PageHeader title={`Delivery ${d.id.slice(0, 8)}`}>
        <Link href="/deliveries">All deliveries</Link>
      </PageHeader>
      <dl className="facts">
        <dt>Status</dt>
        <dd ref={statusFact} tabIndex={-1}>
          <DeliveryStatusBadge status={statusNow} />
          {d.nextAttemptAt && !FINAL.includes(statusNow) ? (
            <span className="muted">
              {' '}
              next attempt <DateTime value={d.nextAttemptAt} />
            </span>
          ) : null}
        </dd>
        <dt>Webhook</dt>
        <dd>{d.webhook ? <Link href={`/webhooks/${d.webhook.id}`}>{d.webhook.name}</Link> : webhookLabel(d)}</dd>
        <dt>Ticket</dt>
        <dd>{d.ticket ? <Link href={`/tickets/${d.ticket.id}`}>{`#${d.ticket.id} ${d.ticket.title}`}</Link> : '—'}</dd>
        <dt>Rule</dt>
        {/* the API hides Delivery.rule from agents (null): for them its absence says nothing */}
        <dd>
          {d.rule ? (
            admin ? (
              <Link href={`/rules/${d.rule.id}`}>
                <bdi>{d.rule.name}</bdi>
              </Link>
            ) : (
              <bdi>{d.rule.name}</bdi>
            )
          ) : admin ? (
            'none (a test or a redelivery)'
          ) : (
            <span className="muted">not shown to agents</span>
          )}
        </dd>
        <dt>Event</dt>
        <dd>{d.event ? eventText(d.event) : '—'}</dd>
        <dt>Created</dt>
        <dd>
          <DateTime value={d.createdAt} />
        </dd>
        <dt>Completed</dt>
        <dd>
          <DateTime value={d.completedAt} />
        </dd>
      </dl>
      <LiveFeedStatus feed={feed} />
      {/* what changed while the page is open (a new attempt, the status), said politely; the page's first reading is not */}
      <Announcements said={change} />

      {admin ? (
        <div className="actions">
          {/* aria-disabled, not disabled, while it runs: a disabled button would drop the keyboard focus */}
          <button type="button" onClick={doRedeliver} aria-disabled={busy === 'redeliver' || undefined}>
            {busy === 'redeliver' ? 'Redelivering…' : 'Redeliver'}
          </button>
          <span ref={cancelArea} className="contents">
            {!FINAL.includes(statusNow) ? (
              confirming ? (
                <Confirmation
                  question="Cancel this delivery?"
                  detail="Its remaining attempts are dropped."
                  busy={busy === 'cancel'}
                  busyLabel="Cancelling…"
                  onConfirm={doCancel}
                  onKeep={keep}
                />
              ) : (
                <button type="button" className="secondary" ref={cancelButton} onClick={() => setConfirming(true)}>
                  Cancel delivery
                </button>
              )
            ) : null}
          </span>
        </div>
      ) : null}
      <ActionOutcome problem={problem} status={status} />

      <section aria-labelledby="request-heading">
        <h2 id="request-heading">Request</h2>
        <pre className="request" tabIndex={0} aria-label="Request as sent">
          {`${d.request.method} ${d.request.url}\n`}
          {headers.map(([k, v]) => `${k}: ${String(v)}`).join('\n')}
          {d.request.body ? `\n\n${prettyBody(d.request.body, headerValue(d.request.headers, 'content-type') ?? null)}` : ''}
        </pre>
      </section>

      <section aria-labelledby="attempts-heading">
        <h2 id="attempts-heading">Attempts</h2>
        {/* no empty list beside the text saying so: a screen reader would add "list, 0 items" */}
        {d.attempts.length === 0 ? <p className="muted">Not tried yet.</p> : null}
        {d.attempts.length ? (
          <ol className="timeline">
            {d.attempts.map((a) => (
              <li key={a.number}>
                <h3>Attempt {a.number}</h3>
                <dl className="facts">
                  <dt>Started</dt>
                  <dd>
                    <DateTime value={a.startedAt} />
                  </dd>
                  <dt>Duration</dt>
                  <dd>{a.durationMs} ms</dd>
                  <dt>Status code</dt>
                  <dd>{a.statusCode ?? 'no response'}</dd>
                  {a.error ? (
                    <>
                      <dt>Error</dt>
                      <dd className="error-text">{a.error}</dd>
                    </>
                ) : null}
              </dl>
              {a.responseBody ? (
                <pre className="response" tabIndex={0} aria-label={`Response body of attempt ${a.number}`}>
                  {prettyBody(a.responseBody)}
                </pre>
              ) : null}
            </li>
          ))}
        </ol>
        ) : null}
      </section>

      <section aria-labelledby="data-heading">
        <h2 id="data-heading">Response data</h2>
        {d.responseData && Object.keys(d.responseData).length ? (
          <pre tabIndex={0} aria-label="Response data">
            {JSON.stringify(d.responseData, null, 2)}
          </pre>
        ) : (
          <p className="muted">No values taken from the response.</p>
        )}
      </section>
    </>
  );
}
