/**
 * What the webhook and rule editors share: the form filled once from the stored definition,
 * the save (a refused one puts each problem next to the field the server names), the page's
 * frame, and the rows of list fields (headers, mappings, conditions, actions).
 */
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { Link, useLocation } from 'wouter';
import { errorText, fieldProblems, type GraphQLErrorShape } from '../client';
import { setFlash, useFlash } from '../flash';
import { fieldId } from './Field';
import { useLeaveGuard } from './leave';
import { Loading, UnavailablePage, PageHeader, QueryError, capitalized, useMounted, useOneAtATime, type Reread } from './ui';

/** The kinds of definition the console edits; each lists at `/${noun}s`, and its form's element ids start with the noun. */
export type DefinitionNoun = 'webhook' | 'rule';

/** What a create or update mutation answers (urql's OperationResult, as far as the save reads it). */
interface SaveResult<Data> {
  data?: Data;
  error?: CombinedError;
}

/**
 * The state of a definition's editor. `stored` is the definition read by its id (undefined
 * while it loads, and for a new one); `formOf` turns it into the form, once.
 * `summary` opens the form's alert when a save is refused with problems at some of its fields, from their number.
 * `elementIds` names the element of a field the server names that is not the form's own
 * (Send test's `ticketId`: the ticket picker beside the form). `unsavedOf` is what of the form
 * a save writes (default: all of it): while it differs from what was loaded or last saved,
 * leaving the page asks first (useLeaveGuard). `current` reads the stored definition as it is
 * now: an update replaces the whole definition, so a save first checks that what it would
 * replace is still what the form was filled from (or last saved); when another tab or admin
 * changed it since, the save is held and says so, and Save pressed again replaces it.
 * `problemText` words a problem the server names a field for, in the form saved (default: one
 * shown at its control as problemSentence words it, about that control; any other as the server says it).
 */
export function useDefinitionEditor<Stored, Form>({
  noun,
  id,
  stored,
  empty,
  formOf,
  summary,
  elementIds = {},
  unsavedOf = (f) => f,
  current,
  problemText,
}: {
  noun: DefinitionNoun;
  id: string | null;
  stored: Stored | null | undefined;
  empty: Form;
  formOf: (stored: Stored) => Form;
  summary: (fieldsNamed: number) => string;
  elementIds?: Readonly<Record<string, string>>;
  unsavedOf?: (form: Form) => unknown;
  current?: (id: string) => Promise<Stored | null | undefined>;
  problemText?: (field: string, message: string, form: Form) => string;
}) {
  const [, navigate] = useLocation();
  const [form, setForm] = useState<Form>(empty);
  const [loaded, setLoaded] = useState(id === null);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [formError, setFormError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  // a second submit while a save runs does nothing (Save stays focusable, aria-disabled, while busy)
  const saving = useOneAtATime<'save'>();
  const [removeProblem, setRemoveProblem] = useState<string | null>(null);
  const mounted = useMounted();
  // the message carried from the last page ("Webhook created."), once the definition is shown
  useFlash(setStatus, loaded);

  // what of the stored definition a save would replace, as the form was filled from it or last saved it
  const storedWritten = useRef<string | null>(null);
  const writtenOf = (s: Stored) => JSON.stringify(unsavedOf(formOf(s)));
  // a change made elsewhere that the user was told of: Save pressed again replaces it
  const overwrite = useRef<string | null>(null);

  // the stored definition fills the form once
  useEffect(() => {
    if (!stored || loaded) return;
    setForm(formOf(stored));
    storedWritten.current = writtenOf(stored);
    setLoaded(true);
  }, [stored, loaded, formOf, unsavedOf]);

  // what the form held when loaded or last saved (`saves` counts the saves): taken in the
  // render after a save, so that the save's own changes to the form (the emptied secret
  // fields) are part of it
  const [saves, setSaves] = useState(0);
  const written = JSON.stringify(unsavedOf(form));
  const [baseline, setBaseline] = useState<{ saves: number; written: string } | null>(null);
  if (loaded && baseline?.saves !== saves) setBaseline({ saves, written });
  const dirty = baseline?.saves === saves && written !== baseline.written;
  useLeaveGuard(dirty, `Leave this page? Your changes to this ${noun} are not saved.`);

  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));
  const fid = (field: string) => fieldId(noun, field);
  const err = (field: string) => errors.get(field);
  /** Drops the problems shown at `field` and at the fields under it (`conditions[0]`: its field, operator and value). */
  const clearErrors = (field: string) =>
    setErrors((current) => {
      const left = new Map([...current].filter(([f]) => f !== field && !f.startsWith(`${field}.`) && !f.startsWith(`${field}[`)));
      return left.size === current.size ? current : left;
    });

  /**
   * Row `index` of the list `list` removed: its problems go, and those of the rows after it
   * follow their row (`conditions[3].value` becomes `conditions[2].value`).
   */
  const removeRowErrors = (list: string, index: number) =>
    setErrors((current) => {
      const next = new Map<string, string>();
      for (const [field, message] of current) {
        const row = field.startsWith(`${list}[`) ? /^(\d+)\](.*)$/.exec(field.slice(list.length + 1)) : null;
        const n = row ? Number(row[1]) : -1;
        if (!row || n < index) next.set(field, message);
        else if (n > index) next.set(`${list}[${n - 1}]${row[2]}`, message);
      }
      return next;
    });

  /** Removes row `index` of the form's list `key` (named as the API names it), with its problems. */
  const removeRow = <K extends keyof Form>(key: K, index: number) => {
    setForm((f) => ({ ...f, [key]: withoutRow(f[key] as unknown as readonly unknown[], index) }));
    removeRowErrors(String(key), index);
  };

  /**
   * A refused operation: its problems shown as a refused save's are (showProblems), the alert
   * opened by `lead` ("The test was not sent:") and `count` when it is not a save's.
   */
  function refused(error: CombinedError, opts?: { lead: string; count: (n: number) => string }) {
    const problems = fieldProblems(error.graphQLErrors as readonly GraphQLErrorShape[]);
    // by default a problem shown at its control is a sentence about it; one said in the form's alert stays as the server says it
    const word = (field: string, message: string) => {
      if (problemText) return problemText(field, message, form);
      const control = fieldElement(field);
      return control ? problemSentence(controlLabel(control), message) : message;
    };
    const worded = new Map([...problems].map(([field, message]) => [field, word(field, message)]));
    showProblems(worded, errorText(error), opts);
  }

  /**
   * Each problem next to the field it names (the rest, or `message` when none, in the form's
   * alert, which counts them all); focus on the first field named (in a group, a fieldset: its
   * first control).
   */
  const fieldElement = (field: string) => document.getElementById(elementIds[field] ?? fid(field));
  function showProblems(problems: Map<string, string>, message = '', opts?: { lead: string; count: (n: number) => string }) {
    setErrors(problems);
    const unplaced = [...problems.keys()].filter((f) => !fieldElement(f));
    // the others are said here, the definition's own `id` (the mutation's argument: "webhook 7
    // not found") without its name and uncounted: it is no field needing attention
    const said = (f: string) => (f === 'id' ? problems.get(f) : `${f}: ${problems.get(f)}`);
    const placed = problems.size - unplaced.length;
    const counted = [...problems.keys()].filter((f) => f !== 'id').length;
    const lead = opts?.lead ?? `The ${noun} was not saved:`;
    setFormError(
      [placed ? (opts ? `${lead} ${opts.count(counted)}` : summary(counted)) : lead, ...unplaced.map(said), problems.size ? null : message]
        .filter(Boolean)
        .join(' '),
    );
    // the first field named goes into focus, its message read with it
    const first = [...problems.keys()].map(fieldElement).find(Boolean);
    const control = first instanceof HTMLFieldSetElement ? first.querySelector<HTMLElement>('input, select, textarea, button') : first;
    setTimeout(() => control?.focus(), 0);
  }

  /**
   * The form's submit: `create` for a new definition (whose page then opens, saying it was
   * created), else `update`. Answers the update's data once saved; null when refused or created.
   */
  async function save<Created, Updated>(
    e: FormEvent,
    {
      create,
      createdId,
      update,
      saved,
      check,
    }: {
      create: () => Promise<SaveResult<Created>>;
      createdId: (data: Created) => string;
      /** `now`: the stored definition as the save's check just read it (undefined: not read) */
      update: (id: string, now?: Stored) => Promise<SaveResult<Updated>>;
      /** the definition as the update's answer stores it (what the next save checks against) */
      saved?: (data: Updated) => Stored;
      /** problems found before sending (a value the API's types cannot carry), by field */
      check?: () => Map<string, string>;
    },
  ): Promise<Updated | null> {
    e.preventDefault();
    if (saving.running()) return null;
    const local = check?.();
    if (local?.size) {
      setStatus(null);
      showProblems(local);
      return null;
    }
    saving.start('save');
    setStatus(null);
    setFormError(null);
    let result: SaveResult<Created | Updated>;
    try {
      const now = id && current ? ((await current(id).catch(() => undefined)) ?? undefined) : undefined;
      if (id && changedElsewhere(now)) return null;
      result = id ? await update(id, now) : await create();
    } finally {
      saving.done();
    }
    if (result.error) {
      refused(result.error);
      return null;
    }
    setErrors(new Map());
    if (!id) {
      setFlash(`${capitalized(noun)} created.`);
      navigate(`/${noun}s/${createdId(result.data as Created)}`, { replace: true });
      return null;
    }
    // without the answer as stored, there is nothing to check the next save against
    storedWritten.current = saved ? writtenOf(saved(result.data as Updated)) : null;
    overwrite.current = null;
    setSaves((n) => n + 1);
    setStatus(`${capitalized(noun)} saved.`);
    return result.data as Updated;
  }

  /**
   * Whether the stored definition differs, in what a save writes, from what the form was filled
   * from or last saved (another tab, another admin): then the save is held and the form's alert
   * says so, once for that change; the next Save replaces it. A definition that could not be
   * read now (`now` undefined: deleted, the server unreachable) is left to the update, which says why.
   */
  function changedElsewhere(now: Stored | undefined): boolean {
    if (!now || storedWritten.current === null) return false;
    const written = writtenOf(now);
    if (written === storedWritten.current || written === overwrite.current) return false;
    overwrite.current = written;
    setFormError(
      `Not saved: this ${noun} was changed elsewhere (in another tab or by another admin) after this form was filled, and saving would replace those changes. Press Save again to replace them with this form, or reload the page to see them (your changes here are then lost).`,
    );
    return true;
  }

  /**
   * In place of the editor: the loading state while the stored definition loads, the not-found
   * page when its id names none, and when it could not be read its error with "Try again"
   * (`reread`), no form: a save of a form not filled from it would write over it.
   */
  function unavailable(query: { fetching: boolean; data?: unknown; error?: CombinedError }, reread: Reread): ReactNode {
    if (!id || stored) return null;
    if (query.fetching) return <Loading what={`the ${noun}`} />;
    if (query.data || query.error) return <UnavailablePage kind={noun} id={id} list={`/${noun}s`} listName={`${noun}s`} error={query.error} reread={reread} />;
    return null;
  }

  /**
   * Deletes the definition (ConfirmAction's `onConfirm`): on success back to the list, which
   * says so, unless the user has left the editor meanwhile; a refusal stays here as
   * `removeProblem`, focus back on the button. The mutation names the type whose reads are stale.
   */
  async function remove(run: () => Promise<{ error?: CombinedError }>, name: string): Promise<'trigger' | 'done'> {
    setRemoveProblem(null);
    const r = await run();
    if (r.error) {
      setRemoveProblem(`The ${noun} was not deleted: ${errorText(r.error)}`);
      return 'trigger';
    }
    if (!mounted.current) return 'done';
    setFlash(`${capitalized(noun)} “${name}” deleted.`);
    navigate(`/${noun}s`);
    return 'done';
  }

  return {
    form,
    setForm,
    set,
    loaded,
    fid,
    err,
    clearErrors,
    removeRow,
    refused,
    formError,
    setFormError,
    status,
    setStatus,
    saving: saving.busy !== null,
    save,
    remove,
    removeProblem,
    unavailable,
  };
}

/** The editor's title ("New rule", "Rule: name"), the way back to the list, and the error of the queries it reads. */
export function EditorHeader({
  noun,
  id,
  name,
  error,
}: {
  noun: DefinitionNoun;
  id: string | null;
  name: string | undefined;
  error: CombinedError | undefined;
}) {
  return (
    <>
      <PageHeader title={id ? `${capitalized(noun)}: ${name ?? ''}` : `New ${noun}`}>
        <Link href={`/${noun}s`}>All {noun}s</Link>
      </PageHeader>
      <QueryError error={error} />
    </>
  );
}

/** The editor's form, named by its kind, with the alert that says why a save was refused. */
export function EditorForm({
  noun,
  error,
  onSubmit,
  children,
}: {
  noun: DefinitionNoun;
  error: string | null;
  onSubmit: (e: FormEvent) => void;
  children: ReactNode;
}) {
  return (
    <form className="editor" onSubmit={onSubmit} noValidate aria-label={capitalized(noun)}>
      <div role="alert" className="error">
        {error}
      </div>
      {children}
    </form>
  );
}

/**
 * The editor's Save. While a save runs it is busy (aria-disabled), not disabled: a disabled
 * button would drop the keyboard's focus; a second press is ignored by the save.
 */
export function SaveButton({ saving }: { saving: boolean }) {
  return (
    <button type="submit" aria-disabled={saving || undefined}>
      Save
    </button>
  );
}

/** The list with row i changed by `patch`. */
export const patchRow = <Row,>(rows: readonly Row[], i: number, patch: Partial<Row>): Row[] => rows.map((r, j) => (j === i ? { ...r, ...patch } : r));

/** The list without row i. */
const withoutRow = <Row,>(rows: readonly Row[], i: number): Row[] => rows.filter((_, j) => j !== i);

/**
 * The button that removes a row of a list field, named with the row ("Remove header 2").
 * `list` names the list field; its "Add …" button carries `{...addRowProps(list)}`. Focus then
 * goes to the remove button of the row that took the removed one's place, else of the row
 * before it, else (no row left with one) to the "Add …" button.
 */
export function RemoveRowButton({ label, list, onRemove }: { label: string; list: string; onRemove: () => void }) {
  return (
    <button
      type="button"
      className="secondary"
      data-remove-row={list}
      onClick={(e) => {
        const form = e.currentTarget.form ?? document;
        const buttons = () => [...form.querySelectorAll<HTMLElement>(`[data-remove-row="${list}"]`)];
        const i = buttons().indexOf(e.currentTarget);
        onRemove();
        // after React has rendered the shorter list (an event's updates are committed when it ends)
        setTimeout(() => {
          const left = buttons();
          const next = left[i] ?? left[i - 1] ?? form.querySelector<HTMLElement>(`[data-add-row="${list}"]`);
          next?.focus();
        }, 0);
      }}
    >
      {label}
    </button>
  );
}

/** After an "Add …" button has added a row: focus goes to the new row's first control, `id`, once it is rendered. */
export const focusNewRow = (id: string) => setTimeout(() => document.getElementById(id)?.focus(), 0);

/** Marks a list field's "Add …" button, where focus goes when its last removable row is removed. */
export const addRowProps = (list: string) => ({ 'data-add-row': list });

/** What a control is called: its label's text, a group's legend; null when it has neither. */
function controlLabel(element: HTMLElement | null): string | null {
  if (!element) return null;
  const labelled = element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement;
  const text = labelled ? element.labels?.[0]?.textContent : element instanceof HTMLFieldSetElement ? element.querySelector('legend')?.textContent : null;
  return text?.trim() || null;
}

/**
 * A problem as a sentence about the control it is shown at: one the server words as what the
 * field must be or is ("must not be empty", "is too long: …") starts with the control's label
 * ("Name must not be empty."); any other is its own sentence, capitalised.
 */
export function problemSentence(label: string | null, message: string): string {
  const text = message.trim().replace(/\.?$/, '.');
  if (label && /^(?:must|is|are|needs)\b/.test(text)) return `${label} ${text}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
