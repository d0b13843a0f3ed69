/**
 * A ticket with its conversation (replies and internal comments) and the deliveries made for
 * it, which follow deliveryEvents. Staff act on it here: a reply (the client sees it) or an
 * internal comment, and its status and priority — the events the dispatcher's rules run on
 * (REPLY_ADDED, COMMENT_ADDED, TICKET_UPDATED), whose deliveries then appear in the list.
 */
import { Fragment, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../gql';
import type { TicketPriority, TicketStatus } from '../gql/graphql';
import { ActionOutcome, AttemptsAndTime, DateTime, DeliveryLink, DeliveryStatusBadge, LiveFeedStatus, Loading, UnavailablePage, PageHeader, QueryError, useLastRead, useOneAtATime } from '../components/ui';
import { useLeaveGuard } from '../components/leave';
import { Announcements, useAnnouncement, useReadingChanges } from '../components/announce';
import { Field, Hint, SelectField, describedBy, hintId } from '../components/Field';
import { DeliveryChanges, errorText, fieldProblems, useLiveFeed, type GraphQLErrorShape } from '../client';
import { webhookLabel } from './Deliveries';
import { useFlash } from '../flash';
import { TICKET_PRIORITIES, TICKET_STATUSES, deliveryStatusText, priorityText, statusText, yesNoText } from '../words';

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
    customFields {
      key
      name
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

const AddReply = graphql(`
  mutation ConsoleAddReply($ticketId: ID!, $text: String!) {
    addReply(ticketId: $ticketId, text: $text) {
      id
    }
  }
`);

const AddComment = graphql(`
  mutation ConsoleAddComment($ticketId: ID!, $text: String!) {
    addComment(ticketId: $ticketId, text: $text) {
      id
    }
  }
`);

const UpdateTicket = graphql(`
  mutation ConsoleUpdateTicket($id: ID!, $input: UpdateTicketInput!) {
    updateTicket(id: $id, input: $input) {
      id
      status
      priority
      updatedAt
    }
  }
`);



/** A field's problem as the API words it ("must not be empty") made a sentence about the field. */
const fieldSentence = (field: string, message: string) => (/^[a-z]/.test(message) ? `${field} ${message.replace(/\.?$/, '.')}` : message);

/**
 * How often the ticket's page reads the ticket again: what others write on it meanwhile (another
 * agent's reply, a rule's comment, a timer's action, a status changed elsewhere) shows without a reload.
 */
const TICKET_POLL_MS = 15_000;

export function TicketPage({ id }: { id: string }) {
  const [{ data: read, fetching, error }, refetchTicket] = useQuery({ query: TicketQuery, variables: { id } });
  // a reading again that fails (the server restarting) keeps the page as last read: the reply being written stays
  const data = useLastRead(read);
  // a tab in the background reads nothing; shown again, it reads at once
  useEffect(() => {
    const read = () => {
      if (!document.hidden) refetchTicket({ requestPolicy: 'network-only' });
    };
    const timer = setInterval(read, TICKET_POLL_MS);
    document.addEventListener('visibilitychange', read);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', read);
    };
  }, [refetchTicket]);
  const [deliveries, refetchDeliveries] = useQuery({ query: TicketDeliveriesQuery, variables: { ticketId: id } });
  const loaded = !!data?.ticket;
  // the message carried from the last page ("Ticket #7 created."), once the ticket is shown
  const [flash, setFlash] = useState<string | null>(null);
  useFlash(setFlash, loaded);
  // the deliveries of this ticket as they are queued and sent (the ones its replies, comments and changes cause included);
  // a finished one may have written to the ticket (a comment, custom fields): the ticket is read again too
  const reloadNow = (ticketToo: boolean) => {
    refetchDeliveries({ requestPolicy: 'network-only' });
    if (ticketToo) refetchTicket({ requestPolicy: 'network-only' });
  };
  const reload = useCoalesced(RELOAD_MS, reloadNow);
  const [changes, resubscribe] = useSubscription(
    { query: DeliveryChanges, variables: { filter: { ticketId: id } }, pause: !loaded },
    (_prev: number | undefined, ev) => {
      reload(ev.deliveryEvents.type !== 'QUEUED' && ev.deliveryEvents.type !== 'ATTEMPTED');
      return 0;
    },
  );
  // read again once the feed is live (a delivery queued or sent before it reached the server brings
  // no event) and once it is back: within the same window as the events' reloads
  const feed = useLiveFeed(changes.error, () => reload(true), () => resubscribe(), loaded);
  const deliveryChanges = useDeliveryChanges(deliveries.data?.deliveries.nodes);
  // the posts this page sent: said by their form ("Reply sent"), not again as new posts
  const ownPosts = useRef(new Set<string>());
  const postArrivals = usePostArrivals(data?.ticket?.posts, ownPosts.current);
  const t = data?.ticket;
  if (fetching && !t) return <Loading what="the ticket" />;
  if (!t) {
    return <UnavailablePage kind="ticket" id={id} list="/tickets" listName="tickets" error={error} reread={refetchTicket} />;
  }
  const custom = Object.entries(t.customFields);
  // a custom field is shown by the name its definition gives it (by its key when it has none)
  const fieldNames = new Map(data!.customFields.map((f) => [f.key, f.name]));
  const page = deliveries.data?.deliveries;
  return (
    <>
      <PageHeader title={`#${t.id} ${t.title}`}>
        <Link href="/tickets">All tickets</Link>
      </PageHeader>
      <div role="status">{flash ? <p className="status">{flash}</p> : null}</div>
      <dl className="facts">
        <dt>Status</dt>
        <dd>{statusText(t.status)}</dd>
        <dt>Priority</dt>
        <dd>{priorityText(t.priority)}</dd>
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
            <dt>
              <bdi>{fieldNames.get(k) ?? k}</bdi>
            </dt>
            <dd>{customValueText(v)}</dd>
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
        {/* no empty list beside the text saying so: a screen reader would add "list, 0 items" */}
        {t.posts.length === 0 ? <p className="muted">No replies or comments yet.</p> : null}
        {t.posts.length ? (
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
        ) : null}
      </section>
      {/* posts others wrote while the page is open, said politely; the list itself is not a live region */}
      <Announcements id="ticket-post-arrivals" said={postArrivals} />
      <PostForm ticketId={t.id} onPosted={(postId) => ownPosts.current.add(postId)} />
      <TicketChangeForm ticket={t} />
      <section aria-labelledby="ticket-deliveries-heading">
        <h2 id="ticket-deliveries-heading" tabIndex={-1}>
          Deliveries
        </h2>
        <LiveFeedStatus feed={feed} />
        {/* what changed since the last reload (new deliveries, new statuses), announced politely; the list itself is not a live region */}
        <Announcements id="ticket-delivery-changes" said={deliveryChanges} />
        <QueryError error={deliveries.error} fetching={deliveries.fetching} reread={refetchDeliveries} focusAfter="ticket-deliveries-heading" />
        {page && page.nodes.length === 0 ? <p className="muted">No deliveries for this ticket.</p> : null}
        {page && page.nodes.length ? (
          <ul>
            {page.nodes.map((d) => (
              <li key={d.id}>
                <DeliveryLink id={d.id}>
                  <bdi>{webhookLabel(d)}</bdi> <DeliveryStatusBadge status={d.status} />
                </DeliveryLink>{' '}
                <AttemptsAndTime attempts={d.attemptCount} at={d.createdAt} />
              </li>
            ))}
          </ul>
        ) : null}
        {page && page.totalCount > page.nodes.length ? <Link href={`/deliveries?ticket=${t.id}`}>All {page.totalCount} deliveries of this ticket</Link> : null}
      </section>
    </>
  );
}

/** A custom field's value as the new-ticket form offers it: a yes-or-no field's Yes or No, a text as it is, a number as written. */
function customValueText(value: unknown): string {
  if (typeof value === 'boolean') return yesNoText(String(value));
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** More changes than this at once are summed up rather than listed one by one. */
const CHANGES_LISTED = 3;

/**
 * What changed in a ticket's deliveries from one reload to the next, in words: a delivery new
 * in the list, or one whose status changed. The first load, and a reload that changed nothing,
 * say nothing new.
 */
function useDeliveryChanges(nodes: readonly { id: string; status: string; webhook?: { name: string } | null; request: { url: string } }[] | undefined): ReactNode {
  return useReadingChanges(
    nodes,
    (d) => d.status,
    (added, changed) => {
      if (added.length + changed.length > CHANGES_LISTED) {
        const parts = [];
        if (added.length) parts.push(`${added.length} new ${added.length === 1 ? 'delivery' : 'deliveries'}`);
        if (changed.length) parts.push(`${changed.length} ${changed.length === 1 ? 'delivery' : 'deliveries'} changed status`);
        return `${parts.join(', ')}.`;
      }
      return [
        ...added.map((d) => `New delivery to ${webhookLabel(d)}: ${deliveryStatusText(d.status).toLowerCase()}.`),
        ...changed.map((d) => `Delivery to ${webhookLabel(d)} is now ${deliveryStatusText(d.status).toLowerCase()}.`),
      ].join(' ');
    },
  );
}

/**
 * The posts new on the ticket from one reading to the next that this page did not send (another
 * agent's reply, a rule's or a timer's comment), in words: "New reply by Ada." The first reading
 * says nothing; more than CHANGES_LISTED at once are counted.
 */
function usePostArrivals(posts: readonly { id: string; kind: string; author?: { name: string } | null }[] | undefined, own: ReadonlySet<string>): ReactNode {
  return useReadingChanges(
    posts,
    // a post is not changed once written: only new ones are said
    () => '',
    (added) => {
      const others = added.filter((p) => !own.has(p.id));
      if (others.length > CHANGES_LISTED) return `${others.length} new posts.`;
      return others.map((p) => `New ${p.kind === 'COMMENT' ? 'internal comment' : 'reply'} by ${p.author?.name ?? 'System'}.`).join(' ');
    },
  );
}

/** A burst of a ticket's delivery events (a bulk redelivery) reloads its lists once per this many ms, not once per event. */
const RELOAD_MS = 300;

/**
 * `run` at most once per `ms`: the first call runs it `ms` later, the calls meanwhile join
 * that run (their flags or'ed). Nothing runs after the component has left the page.
 */
function useCoalesced(ms: number, run: (flag: boolean) => void): (flag: boolean) => void {
  const latest = useRef(run);
  latest.current = run;
  const pending = useRef<{ timer: ReturnType<typeof setTimeout>; flag: boolean } | null>(null);
  useEffect(
    () => () => {
      clearTimeout(pending.current?.timer);
      pending.current = null;
    },
    [],
  );
  return (flag: boolean) => {
    if (pending.current) {
      pending.current.flag ||= flag;
      return;
    }
    const timer = setTimeout(() => {
      const joined = pending.current!.flag;
      pending.current = null;
      latest.current(joined);
    }, ms);
    pending.current = { timer, flag };
  };
}

/** A reply (sent to the client) or an internal comment (staff only), from one text field. */
function PostForm({ ticketId, onPosted }: { ticketId: string; onPosted: (postId: string) => void }) {
  const [, addReply] = useMutation(AddReply);
  const [, addComment] = useMutation(AddComment);
  const [text, setText] = useState('');
  const [textError, setTextError] = useState<string | undefined>();
  const [problem, setProblem] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const { busy, start, done } = useOneAtATime<'reply' | 'comment'>();
  const field = useRef<HTMLTextAreaElement>(null);
  const textId = 'post-text';
  // a text written and not sent yet is not lost to a link, Sign out or a reload without a question
  useLeaveGuard(text.trim() !== '', 'Leave this page? Your reply or comment is not sent.');

  async function post(kind: 'reply' | 'comment', e?: FormEvent) {
    e?.preventDefault();
    if (busy) return;
    setProblem(null);
    setStatus(null);
    if (!text.trim()) {
      // the API refuses it too (field `text`): said here, nothing sent
      setTextError(`Write the ${kind === 'reply' ? 'reply' : 'internal comment'} first: the text must not be empty.`);
      field.current?.focus();
      return;
    }
    if (!start(kind)) return;
    const sent = text;
    // the ticket's page reads its posts again (the answer, a Post, may name no type the page has read yet)
    const refresh = { additionalTypenames: ['Ticket'] };
    const r = kind === 'reply' ? await addReply({ ticketId, text: sent }, refresh) : await addComment({ ticketId, text: sent }, refresh);
    done();
    if (r.error) {
      const atText = fieldProblems(r.error.graphQLErrors as readonly GraphQLErrorShape[]).get('text');
      if (atText) {
        setTextError(fieldSentence('The text', atText));
        field.current?.focus();
      } else {
        setProblem(`Not ${kind === 'reply' ? 'sent' : 'added'}: ${errorText(r.error)}`);
      }
      return;
    }
    onPosted('addReply' in r.data! ? r.data.addReply.id : r.data!.addComment.id);
    setTextError(undefined);
    // emptied for the next one, unless more was typed while it was sent
    setText((now) => (now === sent ? '' : now));
    setStatus(kind === 'reply' ? 'Reply sent: the client can see it.' : 'Internal comment added: only staff can see it.');
  }

  return (
    <section aria-labelledby="post-heading">
      <h2 id="post-heading">Reply or comment</h2>
      <form className="editor" noValidate onSubmit={(e) => void post('reply', e)}>
        <Field
          id={textId}
          // one box for both: the button pressed decides whether it is sent as a reply or added as an internal comment
          label="Reply or internal comment"
          error={textError}
          hint={<Hint of={textId}>“Send reply” posts it to the client (the requester sees it); “Add internal comment” keeps it among staff.</Hint>}
        >
          <textarea
            ref={field}
            {...describedBy(textId, textError, hintId(textId))}
            rows={4}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              if (textError) setTextError(undefined);
            }}
          />
        </Field>
        <div className="actions">
          {/* aria-disabled, not disabled, while it runs: a disabled button would drop the keyboard focus */}
          <button type="submit" aria-disabled={busy !== null || undefined}>
            {busy === 'reply' ? 'Sending…' : 'Send reply'}
          </button>
          <button type="button" className="secondary" aria-disabled={busy !== null || undefined} onClick={() => void post('comment')}>
            {busy === 'comment' ? 'Adding…' : 'Add internal comment'}
          </button>
        </div>
        <ActionOutcome problem={problem} status={status} />
      </form>
    </section>
  );
}

/** The ticket's status and priority; only what changed is sent (the answer, the Ticket, refreshes the page's reads of it). */
function TicketChangeForm({ ticket }: { ticket: { id: string; status: TicketStatus; priority: TicketPriority } }) {
  const [, update] = useMutation(UpdateTicket);
  // what the selects show: the ticket's values until changed here
  const [draft, setDraft] = useState<{ status?: TicketStatus; priority?: TicketPriority }>({});
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [problem, setProblem] = useState<string | null>(null);
  // each outcome a new node in the status region: "Nothing to save" pressed again is said again
  const [status, say] = useAnnouncement();
  const { busy, start, done } = useOneAtATime<'save'>();
  const statusValue = draft.status ?? ticket.status;
  const priorityValue = draft.priority ?? ticket.priority;
  // a status or priority chosen and not saved is not lost to a link, Sign out or a reload without a question
  useLeaveGuard(statusValue !== ticket.status || priorityValue !== ticket.priority, 'Leave this page? The status and priority you chose are not saved.');

  async function save(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setProblem(null);
    say('');
    const input: { status?: TicketStatus; priority?: TicketPriority } = {};
    if (statusValue !== ticket.status) input.status = statusValue;
    if (priorityValue !== ticket.priority) input.priority = priorityValue;
    if (!input.status && !input.priority) {
      say('Nothing to save: the status and priority are as they were.');
      return;
    }
    if (!start('save')) return;
    const r = await update({ id: ticket.id, input });
    done();
    if (r.error) {
      const problems = fieldProblems(r.error.graphQLErrors as readonly GraphQLErrorShape[]);
      setErrors(problems);
      const placed = ['status', 'priority'].filter((f) => problems.has(f));
      if (placed.length) document.getElementById(`ticket-${placed[0]}`)?.focus();
      else setProblem(`Not saved: ${errorText(r.error)}`);
      return;
    }
    setErrors(new Map());
    setDraft({});
    const saved = r.data!.updateTicket;
    say(`Saved: status ${statusText(saved.status)}, priority ${priorityText(saved.priority)}.`);
  }

  const err = (f: string) => (errors.has(f) ? fieldSentence(f === 'status' ? 'The status' : 'The priority', errors.get(f)!) : undefined);
  return (
    <section aria-labelledby="change-heading">
      <h2 id="change-heading">Status and priority</h2>
      <form className="editor" noValidate onSubmit={(e) => void save(e)}>
        <div className="row">
          <SelectField id="ticket-status" label="Status" error={err('status')} value={statusValue} options={TICKET_STATUSES} optionText={statusText} onChange={(status) => setDraft((d) => ({ ...d, status }))} />
          <SelectField
            id="ticket-priority"
            label="Priority"
            error={err('priority')}
            value={priorityValue}
            options={TICKET_PRIORITIES}
            optionText={priorityText}
            onChange={(priority) => setDraft((d) => ({ ...d, priority }))}
          />
        </div>
        <div className="actions">
          <button type="submit" aria-disabled={busy !== null || undefined}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
        <ActionOutcome problem={problem} status={status} />
      </form>
    </section>
  );
}
