/** Small shared pieces: page titles, loading and error states, action outcomes, tables, dates, status text. */
import { useEffect, type ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { Link } from 'wouter';

/** Sets document.title for the screen. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · deskhooks`;
  }, [title]);
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  usePageTitle(title);
  return (
    <div className="page-header">
      <h1 tabIndex={-1} id="page-title">
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

export function QueryError({ error }: { error: CombinedError | undefined }) {
  if (!error) return null;
  const message = error.graphQLErrors[0]?.message ?? error.networkError?.message ?? error.message;
  return (
    <p role="alert" className="error">
      {message}
    </p>
  );
}

/** The page of an id that names nothing: its title, the query's error if any, and the way back to the list. */
export function NotFound({ kind, id, list, listName, error }: { kind: string; id: string; list: string; listName: string; error?: CombinedError }) {
  return (
    <>
      <PageHeader title={`${kind[0]!.toUpperCase()}${kind.slice(1)} not found`} />
      <QueryError error={error} />
      <p>
        There is no {kind} {id}. <Link href={list}>Back to {listName}</Link>
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

/** The outcome of an action on the page: its problem as an alert, what it did as a status (kept in the page, so it is announced). */
export function ActionOutcome({ problem, status }: { problem: string | null; status: string | null }) {
  return (
    <>
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
      <p role="status" className="status">
        {status}
      </p>
    </>
  );
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

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function DateTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return <time dateTime={value}>{dateFormat.format(new Date(value))}</time>;
}

const STATUS_TEXT: Record<string, string> = {
  PENDING: 'Pending',
  RETRYING: 'Retrying',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

/** A delivery's status as text (its colour is decoration only). The enum value itself is the text. */
export function DeliveryStatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`} title={STATUS_TEXT[status] ?? status}>
      {status}
    </span>
  );
}

/** Pretty-prints a JSON or XML body; anything else is shown as it came. */
export function prettyBody(body: string | null | undefined): string {
  if (!body) return '';
  const text = body.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return body;
    }
  }
  if (text.startsWith('<')) return prettyXml(text);
  return body;
}

function prettyXml(xml: string): string {
  const tokens = xml.replace(/>\s+</g, '><').match(/<[^>]+>|[^<]+/g) ?? [];
  const indent = (n: number) => '  '.repeat(n);
  const lines: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      lines.push(indent(depth) + t);
    } else if (t.startsWith('<') && !/^<[?!]/.test(t) && !t.endsWith('/>')) {
      const after = tokens[i + 2];
      if (next !== undefined && !next.startsWith('<') && after?.startsWith('</')) {
        // <a>text</a> stays on one line
        lines.push(indent(depth) + t + next + after);
        i += 2;
      } else if (next?.startsWith('</')) {
        lines.push(indent(depth) + t + next);
        i += 1;
      } else {
        lines.push(indent(depth) + t);
        depth++;
      }
    } else {
      lines.push(indent(depth) + t.trim());
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
