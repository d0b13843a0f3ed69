/** The rules in the order the dispatcher checks them, with up/down reordering and an enable switch. */
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../gql';
import { ActionOutcome, ListHeader, Loading, QueryError } from '../components/ui';
import { formOf, ruleInput } from '../rules';

export const RulesQuery = graphql(`
  query ConsoleRules {
    rules {
      ...ConsoleRuleDefinition
    }
  }
`);

export const SaveRule = graphql(`
  mutation ConsoleUpdateRule($id: ID!, $input: RuleInput!) {
    updateRule(id: $id, input: $input) {
      id
      enabled
      position
    }
  }
`);

const EVENT_TEXT: Record<string, string> = {
  TICKET_CREATED: 'Ticket created',
  TICKET_UPDATED: 'Ticket updated',
  REPLY_ADDED: 'Reply added',
  COMMENT_ADDED: 'Comment added',
  TIMER: 'Timer',
};
export const eventText = (e: string) => EVENT_TEXT[e] ?? e;

export function Rules() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: RulesQuery });
  const [, save] = useMutation(SaveRule);
  const [status, setStatus] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const rules = data?.rules ?? [];

  async function write(updates: { id: string; input: ReturnType<typeof ruleInput> }[], done: string) {
    setBusy(true);
    setProblem(null);
    for (const u of updates) {
      const r = await save(u);
      if (r.error) {
        setBusy(false);
        setProblem(r.error.graphQLErrors[0]?.message ?? r.error.message);
        refetch({ requestPolicy: 'network-only' });
        return;
      }
    }
    setBusy(false);
    setStatus(done);
    refetch({ requestPolicy: 'network-only' });
  }

  /** Moves rule i by one place; every rule gets its place as its position, so equal positions cannot tie. */
  function move(i: number, by: -1 | 1) {
    const order = [...rules];
    const [r] = order.splice(i, 1);
    order.splice(i + by, 0, r!);
    const updates = order
      .map((rule, k) => ({ rule, position: k + 1 }))
      .filter(({ rule, position }) => rule.position !== position)
      .map(({ rule, position }) => ({ id: rule.id, input: ruleInput({ ...formOf(rule), position }) }));
    void write(updates, `${r!.name} moved ${by < 0 ? 'up' : 'down'} to place ${i + by + 1}.`).then(() => {
      document.getElementById(`move-${r!.id}-${by < 0 ? 'up' : 'down'}`)?.focus();
    });
  }

  function toggle(i: number) {
    const rule = rules[i]!;
    void write([{ id: rule.id, input: ruleInput({ ...formOf(rule), enabled: !rule.enabled }) }], `${rule.name} ${rule.enabled ? 'disabled' : 'enabled'}.`);
  }

  return (
    <>
      <ListHeader title="Rules" newHref="/rules/new" newLabel="New rule" />
      <p className="muted">
        The dispatcher checks the rules from the top; the first that matches runs, and the next ones only when it continues after a match.
      </p>
      <QueryError error={error} />
      <ActionOutcome problem={problem} status={status} />
      {fetching && !data ? <Loading what="rules" /> : null}
      {data && rules.length === 0 ? <p>No rules yet. Create one with “New rule”.</p> : null}
      <ol className="rule-list" aria-label="Rules in order">
        {rules.map((r, i) => (
          <li key={r.id} className="rule-item">
            <div className="rule-main">
              <Link href={`/rules/${r.id}`}>{r.name}</Link>
              <div className="muted">
                On {r.events.map(eventText).join(', ')} · {r.conditions.length} {r.conditions.length === 1 ? 'condition' : 'conditions'} ·{' '}
                {r.actions
                  .map((a) => (a.type === 'SEND_WEBHOOK' ? `send ${a.webhook?.name ?? 'webhook'}` : a.type.toLowerCase().replace(/_/g, ' ')))
                  .join(', ')}
                {r.continueAfterMatch ? ' · continues after a match' : ''}
              </div>
            </div>
            <label className="switch">
              <input type="checkbox" role="switch" checked={r.enabled} disabled={busy} onChange={() => toggle(i)} aria-label={`${r.name} enabled`} />
              <span aria-hidden="true">{r.enabled ? 'On' : 'Off'}</span>
            </label>
            <button
              type="button"
              id={`move-${r.id}-up`}
              className="secondary"
              disabled={busy || i === 0}
              onClick={() => move(i, -1)}
              aria-label={`Move ${r.name} up`}
            >
              ↑
            </button>
            <button
              type="button"
              id={`move-${r.id}-down`}
              className="secondary"
              disabled={busy || i === rules.length - 1}
              onClick={() => move(i, 1)}
              aria-label={`Move ${r.name} down`}
            >
              ↓
            </button>
          </li>
        ))}
      </ol>
    </>
  );
}
