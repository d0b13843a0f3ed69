/** A labelled control with its error (from the server's extensions.field) linked by aria-describedby. */
import type { ReactNode } from 'react';

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

export function Field({ id, label, error, hint, children }: { id: string; label: string; error?: string; hint?: ReactNode; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? <div className="hint">{hint}</div> : null}
      <FieldError id={id} error={error} />
    </div>
  );
}
