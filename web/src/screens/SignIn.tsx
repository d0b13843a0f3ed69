import { useId, useRef, useState, type FormEvent } from 'react';
import { whoAmI, type Me } from '../me';
import { usePageTitle } from '../components/ui';

export function SignIn({ onSignedIn }: { onSignedIn: (key: string, me: Me) => void }) {
  usePageTitle('Sign in');
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const errorId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
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

  return (
    <main id="main" className="signin">
      <h1>deskhooks console</h1>
      <p>Sign in with your staff API key. It is kept for this browser tab only.</p>
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
          aria-describedby={error ? errorId : undefined}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <div id={errorId} role="alert" className="error">
          {error}
        </div>
      </form>
    </main>
  );
}
