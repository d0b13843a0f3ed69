/** Who a key belongs to: checked once at sign-in (and on reload) before the console opens. */
import { GRAPHQL_PATH, authorization } from './session';

export interface Me {
  id: string;
  name: string;
  email: string | null;
  role: 'ADMIN' | 'AGENT' | 'CLIENT';
}

export type MeResult = { ok: true; me: Me } | { ok: false; reason: 'refused' | 'client' | 'unreachable'; message: string };

export async function whoAmI(key: string): Promise<MeResult> {
  let res: Response;
  try {
    res = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: authorization(key) },
      body: JSON.stringify({ query: 'query ConsoleWhoAmI { me { id name email role } }' }),
    });
  } catch {
    return { ok: false, reason: 'unreachable', message: 'The server could not be reached. Check the connection and try again.' };
  }
  const body = (await res.json().catch(() => null)) as { data?: { me?: Me } | null; errors?: { extensions?: { code?: string } }[] } | null;
  const me = body?.data?.me;
  // refused only when the API says so; any other answer without `me` (a proxy's 502, a database
  // error) says nothing about the key
  if (!me && body?.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
    return { ok: false, reason: 'refused', message: 'That API key was not accepted. Check it and try again.' };
  }
  if (!me) {
    const answer = res.ok ? 'an answer without the user' : `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    return { ok: false, reason: 'unreachable', message: `The server could not check the key (${answer}). Try again in a moment.` };
  }
  if (me.role === 'CLIENT') {
    return {
      ok: false,
      reason: 'client',
      message: 'This console is for staff (admins and agents). A client key cannot sign in here; use the helpdesk API instead.',
    };
  }
  return { ok: true, me };
}
