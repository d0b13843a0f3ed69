/** Small shared pieces: page titles, loading and error states, action outcomes, tables, dates, status text. */
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { Link } from 'wouter';
import { errorText, type LiveFeedState } from '../client';
import { deliveryStatusText } from '../words';

/** Sets document.title for the screen. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · deskhooks`;
  }, [title]);
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  usePageTitle(title);
  const heading = useRef<HTMLHeadingElement>(null);
  // a screen whose heading comes after its data: a navigation focused <main> meanwhile, and the heading takes that focus when it appears
  useEffect(() => {
    if (document.activeElement?.id === 'main') heading.current?.focus();
  }, []);
  return (
    <div className="page-header">
      <h1 tabIndex={-1} id="page-title" ref={heading}>
        {title}
      </h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="muted">
      Loading {what}…
    </p>
  );
}

/** The text with its first letter a capital (a sentence's start). */
export const capitalized = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

const errorKeys = new WeakMap<object, number>();
let lastErrorKey = 0;
/**
 * A key of its own for each error a reading ends with: a reading that fails again shows a
 * new alert node (said again), even when its failure came before its reading was drawn.
 */
function errorKey(error: object): number {
  let key = errorKeys.get(error);
  if (key === undefined) errorKeys.set(error, (key = ++lastErrorKey));
  return key;
}

/**
 * A query's error, as an alert. With `reread`, "Try again" follows it: the query read again
 * from the server (TryAgain). While a reading is under way (`fetching`) no error is shown:
 * one that fails again is a new alert, announced again.
 */
export function QueryError({
  error,
  fetching = false,
  reread,
  focusAfter,
}: {
  error: CombinedError | undefined;
  fetching?: boolean;
  reread?: Reread;
  focusAfter?: FocusAfterReread;
}) {
  if (!error || fetching) return null;
  return (
    <>
      <p role="alert" className="error" key={errorKey(error)}>
        {capitalized(errorText(error))}
      </p>
      {reread ? (
        <p>
          <TryAgain reread={reread} focusAfter={focusAfter} />
        </p>
      ) : null}
    </>
  );
}

/** A query's re-run (urql's): "Try again" asks the server again, not the cache. */
export type Reread = (context: { requestPolicy: 'network-only' }) => void;

/**
 * Where focus waits while "Try again" reads (the button is gone meanwhile): <main> on a page
 * whose heading the reading replaces (PageHeader takes the focus from <main> when it shows),
 * the page's heading on a page that keeps it (a list), or the id of a section's heading
 * (focusable: tabIndex -1) when the section alone is read again.
 */
export type FocusAfterReread = 'main' | 'page-title' | `${string}-heading`;

/** "Try again": focus to `focusAfter` (default <main>), then the query read again from the server. */
export function TryAgain({ reread, focusAfter = 'main' }: { reread: Reread; focusAfter?: FocusAfterReread }) {
  return (
    <button
      type="button"
      onClick={() => {
        (document.getElementById(focusAfter) ?? document.getElementById('main'))?.focus();
        reread({ requestPolicy: 'network-only' });
      }}
    >
      Try again
    </button>
  );
}

/**
 * The page in place of a ticket, delivery or definition that cannot be shown: its id names
 * nothing ("not found"), or, with `error`, the read failed (the server unreachable or
 * failing) and it is not said to name nothing: the error, and "Try again" (`reread`), focus
 * waiting on <main> for the page's heading.
 */
export function UnavailablePage({
  kind,
  id,
  list,
  listName,
  error,
  reread,
}: {
  kind: string;
  id: string;
  list: string;
  listName: string;
  error?: CombinedError;
  reread: Reread;
}) {
  return (
    <>
      <PageHeader title={error ? `${capitalized(kind)} ${id}` : `${capitalized(kind)} not found`} />
      <QueryError error={error} />
      <p>
        {error ? `The ${kind} could not be read.` : `There is no ${kind} ${id}.`}{' '}
        {error ? (
          <>
            <TryAgain reread={reread} />{' '}
          </>
        ) : null}
        <Link href={list}>Back to {listName}</Link>
      </p>
    </>
  );
}

/** A list page's header with its "New …" button (a link styled as a button). */
export function ListHeader({ title, newHref, newLabel }: { title: string; newHref: string; newLabel: string }) {
  return (
    <PageHeader title={title}>
      <Link href={newHref} className="button">
        {newLabel}
      </Link>
    </PageHeader>
  );
}

/** What a screen's live updates are doing (client.ts useLiveFeed), announced; Reconnect once they stopped. */
export function LiveFeedStatus({ feed }: { feed: LiveFeedState }) {
  return (
    <>
      <p aria-live="polite" className={feed.stopped ? 'error live-state' : 'muted live-state'}>
        {feed.message}
      </p>
      {feed.stopped ? (
        <button type="button" onClick={feed.reconnect}>
          Reconnect
        </button>
      ) : null}
    </>
  );
}

/**
 * The outcome of an action on the page: its problem as an alert, what it did as a status. The
 * status region is always in the page and never hidden (a hidden region is not in the
 * accessibility tree), so that a message put into it later is announced. `status` is a sentence,
 * or useAnnouncement's node for an outcome that may repeat (a new node each time: said again).
 */
export function ActionOutcome({ problem, status }: { problem: string | null; status: ReactNode }) {
  return (
    <>
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
      <div role="status">{status ? <p className="status">{status}</p> : null}</div>
    </>
  );
}

/**
 * An action asked again before it is done (Cancel delivery, Delete rule): a group named by the
 * question, what the action does, "Confirm" (focused when it opens; "busyLabel" while the action
 * runs, aria-disabled rather than disabled so that it keeps the focus) and `keepLabel`. Escape
 * anywhere in it is `onKeep`; the caller puts focus back on the button that opened it. Without
 * `canConfirm` (nothing to act on) there is no Confirm, and `keepLabel` takes the focus.
 */
export function Confirmation({
  question,
  detail,
  busy,
  busyLabel,
  keepLabel = 'Keep it',
  danger = true,
  canConfirm = true,
  onConfirm,
  onKeep,
}: {
  question: string;
  detail?: string;
  busy: boolean;
  canConfirm?: boolean;
  /** Confirm looks dangerous (deleting, cancelling); false for an action that loses nothing */
  danger?: boolean;
  busyLabel: string;
  keepLabel?: string;
  onConfirm: () => void;
  onKeep: () => void;
}) {
  const questionId = useId();
  const detailId = useId();
  function onKeyDown(e: KeyboardEvent) {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    onKeep();
  }
  return (
    <span role="group" aria-labelledby={questionId} aria-describedby={detail ? detailId : undefined} className="confirm" onKeyDown={onKeyDown}>
      <span>
        <span id={questionId}>{question}</span> {detail ? <span id={detailId}>{detail}</span> : null}
      </span>
      {canConfirm ? (
        <button type="button" className={danger ? 'danger' : undefined} onClick={onConfirm} aria-disabled={busy || undefined} autoFocus>
          {busy ? busyLabel : 'Confirm'}
        </button>
      ) : null}
      <button type="button" className="secondary" onClick={onKeep} aria-disabled={busy || undefined} autoFocus={!canConfirm}>
        {keepLabel}
      </button>
    </span>
  );
}

/** One request at a time: `start` answers false while one runs (a ref sees a second press before a render does); `busy` names the one running. */
export function useOneAtATime<Action extends string>() {
  const running = useRef(false);
  const [busy, setBusy] = useState<Action | null>(null);
  return {
    busy,
    start(action: Action): boolean {
      if (running.current) return false;
      running.current = true;
      setBusy(action);
      return true;
    },
    done() {
      running.current = false;
      setBusy(null);
    },
    /** true from `start` to `done`, before the render that shows it */
    running: () => running.current,
  };
}

/**
 * Focus for an element that the next renders show (an outcome, the button back after a
 * confirmation): `focusAfterRender(get)` focuses `get()` after the first render in which it
 * is on the page (`select`: its text selected too).
 */
export function useFocusAfterRender(): (get: () => HTMLElement | null | undefined, opts?: { select?: boolean }) => void {
  const [target, setTarget] = useState<{ get: () => HTMLElement | null | undefined; select: boolean } | null>(null);
  useEffect(() => {
    const el = target?.get();
    if (!el) return;
    el.focus();
    if (target!.select && el instanceof HTMLInputElement) el.select();
    setTarget(null);
  });
  return (get, opts) => setTarget({ get, select: opts?.select ?? false });
}

/**
 * What a query has read, kept through a reading again that fails (the server restarting): a
 * screen read once stays on the page, its forms with what is typed in them, rather than turning
 * into the "could not be read" page. `null` (there is none) is a reading, and is shown as such.
 */
export function useLastRead<T>(value: T | null | undefined): T | null | undefined {
  const last = useRef(value);
  if (value !== undefined) last.current = value;
  return value === undefined ? last.current : value;
}

/** `.current` is true while the component is on the page: an answer that arrives after the user has left it changes nothing there. */
export function useMounted(): { readonly current: boolean } {
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  return mounted;
}

/**
 * A button `label` whose action is confirmed in place (Confirmation): "Confirm" takes focus;
 * Escape or "Keep it" closes it and focus goes back to the button. `onConfirm` runs once per
 * press ("busyLabel" while it runs); it answers 'trigger' to have focus back on the button (a
 * refusal), 'done' when it has put focus where the outcome is (or left the page).
 */
export function ConfirmAction({
  label,
  question,
  detail,
  busyLabel,
  onConfirm,
  danger = true,
}: {
  label: string;
  question: string;
  detail?: string;
  busyLabel: string;
  onConfirm: () => Promise<'trigger' | 'done'>;
  danger?: boolean;
}) {
  const [confirming, setConfirming] = useState(false);
  const { busy, start, done, running } = useOneAtATime<'confirm'>();
  const trigger = useRef<HTMLButtonElement>(null);
  const focusAfterRender = useFocusAfterRender();
  const mounted = useMounted();

  async function confirm() {
    if (!start('confirm')) return;
    const next = await onConfirm();
    if (!mounted.current) return;
    done();
    setConfirming(false);
    if (next === 'trigger') focusAfterRender(() => trigger.current);
  }

  function keep() {
    if (running()) return;
    setConfirming(false);
    focusAfterRender(() => trigger.current);
  }

  if (!confirming) {
    return (
      <button type="button" className="secondary" ref={trigger} onClick={() => setConfirming(true)}>
        {label}
      </button>
    );
  }
  return <Confirmation question={question} detail={detail} busy={busy !== null} busyLabel={busyLabel} danger={danger} onConfirm={() => void confirm()} onKeep={keep} />;
}

/** A table with a caption for assistive technology only and a header cell per column; the rows are the children. */
export function Table({ caption, columns, children }: { caption: string; columns: readonly string[]; children: ReactNode }) {
  return (
    <table>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c} scope="col">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

// timeStyle 'long' names the time zone ("10:30:00 AM GMT+5:30"): a time read by staff in other zones, or beside a UTC log, is not ambiguous
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' });
/** An ISO instant as the console writes dates and times: the browser's locale and time zone, the zone named. */
export const dateTimeText = (iso: string) => dateFormat.format(new Date(iso));

export function DateTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return <time dateTime={value}>{dateTimeText(value)}</time>;
}

/** A delivery's attempts so far and a time of it, as the delivery lists show them beside its link. */
export function AttemptsAndTime({ attempts, at }: { attempts: number; at: string | null | undefined }) {
  return (
    <span className="muted">
      {attempts} {attempts === 1 ? 'attempt' : 'attempts'} · <DateTime value={at} />
    </span>
  );
}

/**
 * A link to a delivery in a list of them (a ticket's, the live one): `children` say what it is
 * (its webhook, its status), and its name ends with the delivery's short id, the name of its
 * page, so that the links to two deliveries alike (same webhook, same status) are told apart.
 */
export function DeliveryLink({ id, children }: { id: string; children: ReactNode }) {
  return (
    <Link href={`/deliveries/${id}`}>
      {children}
      <span className="visually-hidden"> (delivery {id.slice(0, 8)})</span>
    </Link>
  );
}

/** A delivery's status in words (its colour is decoration only). */
export function DeliveryStatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{deliveryStatusText(status)}</span>;
}

/**
 * A body for reading: JSON and XML re-indented, anything else (HTML, text, a form, a body that
 * does not parse, e.g. a truncated one) exactly as it came. Re-indenting copies every token
 * verbatim — numbers, strings with their escapes, duplicate keys, tags, text — and changes only
 * the whitespace between tokens. `contentType` (a Content-Type, when known) decides which it
 * is; without one, a body that parses as JSON is JSON and one with an XML declaration is XML.
 */
export function prettyBody(body: string | null | undefined, contentType?: string | null): string {
  if (!body) return '';
  const kind = bodyKind(body, contentType);
  const pretty = kind === 'json' ? reindentJson(body) : kind === 'xml' ? reindentXml(body) : null;
  return pretty ?? body;
}

/** The value of the header `name` (any case) in a request's headers. */
export function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : String(headers[key]);
}

function bodyKind(body: string, contentType: string | null | undefined): 'json' | 'xml' | 'raw' {
  if (contentType) {
    const mime = contentType.split(';')[0]!.trim().toLowerCase();
    if (mime === 'application/json' || mime.endsWith('+json')) return 'json';
    if (mime === 'application/xml' || mime === 'text/xml' || mime.endsWith('+xml')) return 'xml';
    return 'raw';
  }
  const start = body.trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'json';
  if (start.startsWith('<?xml')) return 'xml';
  return 'raw';
}

const indent = (n: number) => '  '.repeat(n);

// one JSON token after optional JSON whitespace: punctuation, a string (escapes as written), a number or a literal
const JSON_TOKEN = /[ \t\n\r]*([{}[\],:]|"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/y;

/** JSON laid out as JSON.stringify(…, null, 2) lays it out, each token as written; null when it is not JSON. */
function reindentJson(text: string): string | null {
  const tokens: string[] = [];
  JSON_TOKEN.lastIndex = 0;
  let end = 0;
  for (let m = JSON_TOKEN.exec(text); m; m = JSON_TOKEN.exec(text)) {
    tokens.push(m[1]!);
    end = JSON_TOKEN.lastIndex;
  }
  if (/[^ \t\n\r]/.test(text.slice(end))) return null;
  const out: string[] = [];
  let i = 0;
  const value = (depth: number): boolean => {
    const t = tokens[i++];
    if (t === '{' || t === '[') {
      const close = t === '{' ? '}' : ']';
      if (tokens[i] === close) {
        i++;
        out.push(t + close);
        return true;
      }
      out.push(t);
      for (;;) {
        out.push(`\n${indent(depth + 1)}`);
        if (t === '{') {
          const key = tokens[i++];
          if (!key?.startsWith('"') || tokens[i++] !== ':') return false;
          out.push(key, ': ');
        }
        if (!value(depth + 1)) return false;
        const next = tokens[i++];
        if (next === close) {
          out.push(`\n${indent(depth)}${close}`);
          return true;
        }
        if (next !== ',') return false;
        out.push(',');
      }
    }
    if (t === undefined || '{}[],:'.includes(t)) return false;
    out.push(t);
    return true;
  };
  return value(0) && i === tokens.length ? out.join('') : null;
}

// one XML token: a comment, CDATA, a processing instruction or declaration, a tag (quoted attribute values may hold '>'), text, or a lone '<'
const XML_TOKEN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<![^>]*>|<\/[^>]*>|<(?:[^>"']|"[^"]*"|'[^']*')*>|[^<]+|</g;

/** XML with an element per line, indented by depth; whitespace-only text between tokens dropped, everything else as written. */
function reindentXml(xml: string): string {
  const tokens = (xml.match(XML_TOKEN) ?? []).filter((t) => t.trim() !== '');
  const isOpen = (t: string | undefined) => t !== undefined && /^<[^/!?]/.test(t) && !t.endsWith('/>') && t.length > 1;
  const isClose = (t: string | undefined) => t?.startsWith('</') ?? false;
  const isText = (t: string | undefined) => t !== undefined && (!t.startsWith('<') || t === '<' || t.startsWith('<![CDATA['));
  const lines: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isClose(t)) {
      depth = Math.max(0, depth - 1);
      lines.push(indent(depth) + t);
    } else if (isOpen(t)) {
      if (isText(tokens[i + 1]) && isClose(tokens[i + 2])) {
        // <a>text</a> stays on one line
        lines.push(indent(depth) + t + tokens[i + 1] + tokens[i + 2]);
        i += 2;
      } else if (isClose(tokens[i + 1])) {
        lines.push(indent(depth) + t + tokens[i + 1]);
        i += 1;
      } else {
        lines.push(indent(depth) + t);
        depth++;
      }
    } else {
      lines.push(indent(depth) + t);
    }
  }
  return lines.join('\n');
}

/** A 24 h sparkline of succeeded and failed deliveries per hour; the numbers are in its label. */
export function Sparkline({ buckets, label }: { buckets: readonly { succeeded: number; failed: number }[]; label: string }) {
  const w = 96;
  const h = 24;
  const max = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed));
  const step = buckets.length ? w / buckets.length : w;
  return (
    <svg className="sparkline" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      {buckets.map((b, i) => {
        const sh = (b.succeeded / max) * h;
        const fh = (b.failed / max) * h;
        return (
          <g key={i}>
            <rect x={i * step} y={h - sh - fh} width={Math.max(1, step - 1)} height={fh} className="spark-failed" />
            <rect x={i * step} y={h - sh} width={Math.max(1, step - 1)} height={sh} className="spark-ok" />
          </g>
        );
      })}
    </svg>
  );
}
