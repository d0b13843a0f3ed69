/** A labelled control with its error (from the server's extensions.field) linked by aria-describedby. */
import type { InputHTMLAttributes, ReactNode } from 'react';

/** The element id of an input field named as the server names it (`url`, `headers[0].value`, `conditions[1].field`). */
export const fieldId = (prefix: string, field: string) => `${prefix}-${field.replace(/[^a-zA-Z0-9]+/g, '-')}`;
export const errorId = (id: string) => `${id}-error`;

/** Props that tie a control to its error message. */
export function describedBy(id: string, error: string | undefined, ...more: (string | undefined | false)[]) {
  const ids = [error ? errorId(id) : undefined, ...more].filter(Boolean).join(' ');
  return { id, 'aria-invalid': error ? (true as const) : undefined, 'aria-describedby': ids || undefined };
}

export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  if (!error) return null;
  return (
    <p id={errorId(id)} className="field-error">
      {error}
    </p>
  );
}

/**
 * A control with its label before it and its error after it; `grow` lets it take the row's
 * remaining width. `hint` stands between the control and the error: give it an id that the
 * control's describedBy names.
 */
export function Field({
  id,
  label,
  error,
  hint,
  grow,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: ReactNode;
  grow?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={grow ? 'field grow' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint}
      <FieldError id={id} error={error} />
    </div>
  );
}

/** The element id of the hint of the control `id`. */
export const hintId = (id: string) => `${id}-hint`;

/** The hint of the control `of`, under it; name hintId(of) in the control's describedBy. */
export function Hint({ of, children }: { of: string; children: ReactNode }) {
  return (
    <span id={hintId(of)} className="hint">
      {children}
    </span>
  );
}

type InputFieldProps = { id: string; label: string; error?: string; hint?: ReactNode; grow?: boolean; alsoDescribedBy?: string } & Omit<
  InputHTMLAttributes<HTMLInputElement>,
  'id'
>;

/**
 * A Field whose control is an input, tied to its error, to its `hint` (a text under it,
 * when given) and to `alsoDescribedBy` (a hint shared with other controls); the rest are
 * the input's.
 */
export function InputField({ id, label, error, hint, grow, alsoDescribedBy, ...input }: InputFieldProps) {
  const shown = hint !== undefined && hint !== null && hint !== false;
  return (
    <Field id={id} label={label} error={error} hint={shown ? <Hint of={id}>{hint}</Hint> : null} grow={grow}>
      <input {...describedBy(id, error, shown && hintId(id), alsoDescribedBy)} {...input} />
    </Field>
  );
}

/** A Field whose control picks one of `options` (an enum's values), each shown as `optionText` words it (as it is named without it). */
export function SelectField<Option extends string>({
  id,
  label,
  error,
  value,
  options,
  optionText = (o) => o,
  onChange,
}: {
  id: string;
  label: string;
  error?: string;
  value: Option;
  options: readonly Option[];
  optionText?: (option: Option) => string;
  onChange: (value: Option) => void;
}) {
  return (
    <Field id={id} label={label} error={error}>
      <select {...describedBy(id, error)} value={value} onChange={(e) => onChange(e.target.value as Option)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {optionText(o)}
          </option>
        ))}
      </select>
    </Field>
  );
}
