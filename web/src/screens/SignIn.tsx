import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { whoAmI, type Me } from '../me';
import { usePageTitle } from '../components/ui';

/** Why the form shows again after a session: `urgent` (an alert) when the user did not choose it. */
export interface SignInNotice {
  text: string;
  urgent: boolean;
}

/**
 * `notice`: the form follows a session that ended; focus starts in the API key field, which the
 * notice describes. `initialKey`: a kept key the server could not check, there to try again.
 */
export function SignIn({ onSignedIn, notice = null, initialKey = '' }: { onSignedIn: (key: string, me: Me) => void; notice?: SignInNotice | null; initialKey?: string }) {
  usePageTitle('Sign in');
  const [key, setKey] = useState(initialKey);
  const [error, setError] = useState<string | null>(null);
  const [shown, setShown] = useState(notice);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const errorId = useId();
  const noticeId = useId();

  useEffect(() => {
    if (notice) input.current?.focus();
  }, [notice]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setShown(null);
    const value = key.trim();
    if (!value) {
      setError('Enter your API key.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    const result = await whoAmI(value);
    setBusy(false);
    if (result.ok) {
      onSignedIn(value, result.me);
      return;
    }
    setError(result.message);
    input.current?.focus();
  }

  const urgent = shown?.urgent ? shown.text : null;
  const describedBy = [error || urgent ? errorId : null, shown && !shown.urgent ? noticeId : null].filter(Boolean).join(' ');
  return (
    <main id="main" className="signin">
      <h1>deskhooks console</h1>
      <p>Sign in with your staff API key. It is kept for this browser tab only.</p>
      {shown && !shown.urgent ? (
        <p id={noticeId} role="status">
          {shown.text}
        </p>
      ) : null}
      <form onSubmit={submit} noValidate>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          ref={input}
          type="password"
          autoComplete="current-password"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy || undefined}
        />
        {/* aria-disabled, not disabled, while the key is checked: a disabled button would drop the keyboard focus */}
        <button type="submit" aria-disabled={busy || undefined}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <div id={errorId} role="alert" className="error">
          {error ?? urgent}
        </div>
      </form>
    </main>
  );
}
