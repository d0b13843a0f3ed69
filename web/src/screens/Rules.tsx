/** The rules in the order the dispatcher checks them, with up/down reordering and an enable switch. */
import { Fragment, useEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { errorText } from '../client';
import { graphql } from '../gql';
import { ActionOutcome, ListHeader, Loading, QueryError } from '../components/ui';
import { formOf, ruleInput, type RuleForm } from '../rules';
import { useFlash } from '../flash';

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
      ...ConsoleRuleDefinition
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

type RuleControl = 'up' | 'down' | 'switch';
const controlId = (ruleId: string, control: RuleControl) => (control === 'switch' ? `enabled-${ruleId}` : `move-${ruleId}-${control}`);

export function Rules() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: RulesQuery });
  const [, save] = useMutation(SaveRule);
  const client = useClient();
  const [status, setStatus] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const rules = data?.rules ?? [];
  // the message carried from the last page (a rule deleted)
  useFlash(setStatus);

  /**
   * The control a move or a switch was used with gets focus back once the write is done (it
   * is disabled while the write runs) and again when the list is read back in its new order;
   * a move button that is now disabled (the rule at the top or bottom) hands focus to the
   * rule's other move button. `settled` says when the list read back shows the change.
   */
  const refocus = useRef<{ ruleId: string; control: RuleControl; settled: (rs: typeof rules) => boolean } | null>(null);
  useEffect(() => {
    const want = refocus.current;
    if (!want || busy) return;
    const byId = (control: RuleControl) => document.getElementById(controlId(want.ruleId, control)) as HTMLButtonElement | HTMLInputElement | null;
    const used = byId(want.control);
    const other = want.control === 'up' ? 'down' : want.control === 'down' ? 'up' : null;
    const target = used && used.disabled && other ? byId(other) : used;
    if (target && document.activeElement !== target) target.focus();
    if (want.settled(rules)) refocus.current = null;
  });

  /** A rule found deleted while its control had focus: once the list read back is without it, the control in its place takes focus. */
  const vanished = useRef<{ at: number; control: RuleControl; gone: string } | null>(null);
  useEffect(() => {
    const g = vanished.current;
    if (!g || fetching || rules.some((r) => r.id === g.gone)) return;
    vanished.current = null;
    const rule = rules[Math.min(g.at, rules.length - 1)];
    const byId = (control: RuleControl) => (rule ? (document.getElementById(controlId(rule.id, control)) as HTMLButtonElement | HTMLInputElement | null) : null);
    // the control used, else the rule's other move button (at the top or bottom), else its switch
    const other: RuleControl[] = g.control === 'up' ? ['down', 'switch'] : g.control === 'down' ? ['up', 'switch'] : [];
    const target = [g.control, ...other].map(byId).find((el) => el && !el.disabled);
    (target ?? document.getElementById('page-title'))?.focus();
  });

  /**
   * Writes each rule with its change (its place, its switch). An update replaces the whole rule:
   * its definition is read again first, so that what another tab or admin changed in it since
   * the list was read (its actions, its name) is kept, not replaced by the list's older copy.
   */
  async function write(updates: { id: string; change: Partial<RuleForm> }[], done: string) {
    setBusy(true);
    setProblem(null);
    setStatus(null);
    const fresh = (await client.query(RulesQuery, {}, { requestPolicy: 'network-only' }).toPromise()).data?.rules;
    for (const { id, change } of updates) {
      // a rule no longer there (deleted elsewhere) is sent as listed: the API's NOT_FOUND says so below
      const rule = fresh?.find((x) => x.id === id) ?? rules.find((x) => x.id === id)!;
      const r = await save({ id, input: ruleInput({ ...formOf(rule), ...change }) });
      if (r.error) {
        const gone = r.error.graphQLErrors.some((e) => e.extensions?.code === 'NOT_FOUND');
        if (gone) {
          // deleted elsewhere (another tab, another admin): said in words, the list read again, and
          // focus on the same control of the rule now in its place (the one before it at the end; the heading with none left)
          const name = rules.find((x) => x.id === id)?.name ?? `Rule ${id}`;
          const want = refocus.current;
          refocus.current = null;
          setBusy(false);
          setProblem(`Rule “${name}” no longer exists (it was deleted elsewhere); the list was reloaded.`);
          if (want) vanished.current = { at: rules.findIndex((x) => x.id === want.ruleId), control: want.control, gone: id };
          refetch({ requestPolicy: 'network-only' });
          return;
        }
        // nothing changed: focus goes back once, whatever the list reads
        if (refocus.current) refocus.current = { ...refocus.current, settled: () => true };
        setBusy(false);
        setProblem(errorText(r.error));
        refetch({ requestPolicy: 'network-only' });
        return;
      }
    }
    setBusy(false);
    setStatus(done);
    refetch({ requestPolicy: 'network-only' });
  }

  /** Focus returns to `control` of rule `ruleId` after the write (see `refocus`). */
  function keepFocus(ruleId: string, control: RuleControl, settled: (rs: typeof rules) => boolean) {
    // only the control that had focus gets it back
    refocus.current = document.activeElement?.id === controlId(ruleId, control) ? { ruleId, control, settled } : null;
  }

  /** Moves rule i by one place; every rule gets its place as its position, so equal positions cannot tie. */
  function move(i: number, by: -1 | 1) {
    const order = [...rules];
    const [r] = order.splice(i, 1);
    order.splice(i + by, 0, r!);
    const updates = order
      .map((rule, k) => ({ rule, position: k + 1 }))
      .filter(({ rule, position }) => rule.position !== position)
      .map(({ rule, position }) => ({ id: rule.id, change: { position } }));
    keepFocus(r!.id, by < 0 ? 'up' : 'down', (rs) => rs[i + by]?.id === r!.id);
    void write(updates, `${r!.name} moved ${by < 0 ? 'up' : 'down'} to place ${i + by + 1}.`);
  }

  function toggle(i: number) {
    const rule = rules[i]!;
    keepFocus(rule.id, 'switch', (rs) => rs.find((x) => x.id === rule.id)?.enabled === !rule.enabled);
    void write([{ id: rule.id, change: { enabled: !rule.enabled } }], `${rule.name} ${rule.enabled ? 'disabled' : 'enabled'}.`);
  }

  return (
    <>
      <ListHeader title="Rules" newHref="/rules/new" newLabel="New rule" />
      <p className="muted">
        The dispatcher checks the rules from the top; the first that matches runs, and the next ones only when it continues after a match.
      </p>
      <QueryError error={error} fetching={fetching} reread={refetch} focusAfter="page-title" />
      <ActionOutcome problem={problem} status={status} />
      {fetching && !data ? <Loading what="rules" /> : null}
      {data && rules.length === 0 ? <p>No rules yet. Create one with “New rule”.</p> : null}
      {/* no empty list beside the text saying so: a screen reader would add "list, 0 items" */}
      {rules.length ? (
        <ol className="rule-list" aria-label="Rules in order">
          {rules.map((r, i) => (
            <li key={r.id} className="rule-item">
              <div className="rule-main">
                <Link href={`/rules/${r.id}`}>
                  <bdi>{r.name}</bdi>
                </Link>
                <div className="muted">
                  On {r.events.map(eventText).join(', ')} · {r.conditions.length} {r.conditions.length === 1 ? 'condition' : 'conditions'} ·{' '}
                  {r.actions.map((a, k) => (
                    <Fragment key={k}>
                      {k ? ', ' : ''}
                      {a.type === 'SEND_WEBHOOK' ? (
                        <>
                          send <bdi>{a.webhook?.name ?? 'webhook'}</bdi>
                        </>
                      ) : (
                        a.type.toLowerCase().replace(/_/g, ' ')
                      )}
                    </Fragment>
                  ))}
                  {r.continueAfterMatch ? ' · continues after a match' : ''}
                </div>
              </div>
              <label className="switch">
                <input id={controlId(r.id, 'switch')} type="checkbox" role="switch" checked={r.enabled} disabled={busy} onChange={() => toggle(i)} aria-label={`${r.name} enabled`} />
                <span aria-hidden="true">{r.enabled ? 'On' : 'Off'}</span>
              </label>
              <button
                type="button"
                id={controlId(r.id, 'up')}
                className="secondary"
                disabled={busy || i === 0}
                onClick={() => move(i, -1)}
                aria-label={`Move ${r.name} up`}
              >
                ↑
              </button>
              <button
                type="button"
                id={controlId(r.id, 'down')}
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
      ) : null}
    </>
  );
}
