/**
 * The console: sign-in, then the role's screens under one navigation. ADMIN sees every
 * screen; AGENT sees deliveries, tickets and the explorer (the server refuses it the
 * definitions anyway); CLIENT keys are refused at sign-in.
 */
import { Suspense, lazy, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Provider } from 'urql';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { KEY_REFUSED_MESSAGE, createSession, type Session } from './client';
import { clearFlash } from './flash';
import { whoAmI, type Me } from './me';
import { clearSession, storeKey, storedKey } from './session';
import { SignIn, type SignInNotice } from './screens/SignIn';
import { Webhooks } from './screens/Webhooks';
import { WebhookEditor } from './screens/WebhookEditor';
import { Rules } from './screens/Rules';
import { RuleEditor } from './screens/RuleEditor';
import { Deliveries } from './screens/Deliveries';
import { DeliveryPage } from './screens/Delivery';
import { Tickets } from './screens/Tickets';
import { TicketPage } from './screens/Ticket';
import { NewTicket } from './screens/NewTicket';
import { Loading, PageHeader } from './components/ui';
import { leavesPage } from './components/leave';

// GraphiQL and Monaco: a chunk of their own, fetched only when the explorer opens
const Explorer = lazy(() => import('./screens/Explorer'));

interface Signed {
  key: string;
  me: Me;
  /** signed in through the form just now (not a key kept in the tab from before a reload) */
  byForm: boolean;
}

const SIGNED_OUT: SignInNotice = { text: 'You are signed out. Your API key was removed from this browser tab.', urgent: false };
const KEY_REFUSED: SignInNotice = { text: KEY_REFUSED_MESSAGE, urgent: true };

export function App() {
  const [signed, setSigned] = useState<Signed | null>(null);
  const [checking, setChecking] = useState(() => storedKey() !== null);
  // why the sign-in form shows again: signed out, or the key no longer accepted
  const [notice, setNotice] = useState<SignInNotice | null>(null);
  // a kept key the server could not check (unreachable, an error): still in the tab, in the form for "Sign in" to try again
  const [unchecked, setUnchecked] = useState<string | null>(null);

  // a key kept from earlier in this tab: checked again (it may have been rotated)
  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    let live = true;
    void whoAmI(key).then((r) => {
      if (!live) return;
      if (r.ok) setSigned({ key, me: r.me, byForm: false });
      else if (r.reason === 'unreachable') {
        setUnchecked(key);
        setNotice({ text: `${r.message} Your key is kept: press Sign in to try again.`, urgent: true });
      } else {
        clearSession();
        setNotice(r.reason === 'refused' ? KEY_REFUSED : { text: r.message, urgent: true });
      }
      setChecking(false);
    });
    return () => {
      live = false;
    };
  }, []);

  // the end of a session: nothing of it stays in the tab (its connections close as the console unmounts)
  const end = useCallback((why: SignInNotice) => {
    clearSession();
    clearFlash();
    setSigned(null);
    setNotice(why);
  }, []);

  if (checking) {
    return (
      <main id="main">
        <Loading what="your session" />
      </main>
    );
  }
  if (!signed) {
    return (
      <SignIn
        notice={notice}
        initialKey={unchecked ?? ''}
        onSignedIn={(key, me) => {
          storeKey(key);
          setNotice(null);
          setUnchecked(null);
          setSigned({ key, me, byForm: true });
        }}
      />
    );
  }
  return <Console key={signed.key} signed={signed} onSignOut={() => end(SIGNED_OUT)} onKeyRefused={() => end(KEY_REFUSED)} />;
}

function Console({ signed, onSignOut, onKeyRefused }: { signed: Signed; onSignOut: () => void; onKeyRefused: () => void }) {
  // created and disposed by an effect (not useMemo): StrictMode's second run gets a session of its own
  const [session, setSession] = useState<Session | null>(null);
  const refusedRef = useRef(onKeyRefused);
  useEffect(() => {
    refusedRef.current = onKeyRefused;
  });
  useEffect(() => {
    const s = createSession(signed.key, () => refusedRef.current());
    setSession(s);
    return () => s.dispose();
  }, [signed.key]);
  const admin = signed.me.role === 'ADMIN';
  const [location] = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // after a navigation, focus goes to the new screen's heading (or main) for keyboard and screen reader users
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const heading = document.getElementById('page-title');
    (heading ?? main.current)?.focus();
  }, [location]);
  // signed in through the form (whose field is gone): focus goes to the first screen's heading, or to main until its heading shows
  const focusFirstScreen = useRef(signed.byForm);
  useEffect(() => {
    if (!session || !focusFirstScreen.current) return;
    focusFirstScreen.current = false;
    (document.getElementById('page-title') ?? main.current)?.focus();
  }, [session]);

  const links: { href: string; label: string; show: boolean }[] = [
    { href: '/webhooks', label: 'Webhooks', show: admin },
    { href: '/rules', label: 'Rules', show: admin },
    { href: '/deliveries', label: 'Deliveries', show: true },
    { href: '/tickets', label: 'Tickets', show: true },
    { href: '/explorer', label: 'Explorer', show: true },
  ];

  if (!session) {
    return (
      <main id="main">
        <Loading what="your session" />
      </main>
    );
  }
  return (
    <Provider value={session.client}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">deskhooks</span>
        <nav aria-label="Console">
          <ul>
            {links
              .filter((l) => l.show)
              .map((l) => (
                <li key={l.href}>
                  <Link href={l.href} aria-current={location === l.href || location.startsWith(`${l.href}/`) ? 'page' : undefined}>
                    {l.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
        <span className="who">
          {signed.me.email ?? signed.me.name} <span className="muted">({signed.me.role.toLowerCase()})</span>
        </span>
        <button
          type="button"
          {...leavesPage}
          onClick={() => {
            // ended before the tab is cleared: nothing of it is written back meanwhile
            session.dispose();
            onSignOut();
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1} className={location.startsWith('/explorer') ? 'explorer-main' : undefined}>
        {/* keyed by id: another webhook, rule, delivery or ticket is a fresh screen, not the last one's state */}
        <Switch>
          <Route path="/">{admin ? <Redirect to="/webhooks" replace /> : <Redirect to="/deliveries" replace />}</Route>
          <Route path="/webhooks">{admin ? <Webhooks /> : <AdminOnly />}</Route>
          <Route path="/webhooks/new">{admin ? <WebhookEditor key="new" id={null} /> : <AdminOnly />}</Route>
          <Route path="/webhooks/:id">{(p) => (admin ? <WebhookEditor key={p.id} id={p.id} /> : <AdminOnly />)}</Route>
          <Route path="/rules">{admin ? <Rules /> : <AdminOnly />}</Route>
          <Route path="/rules/new">{admin ? <RuleEditor key="new" id={null} /> : <AdminOnly />}</Route>
          <Route path="/rules/:id">{(p) => (admin ? <RuleEditor key={p.id} id={p.id} /> : <AdminOnly />)}</Route>
          <Route path="/deliveries">
            <Deliveries admin={admin} />
          </Route>
          <Route path="/deliveries/:id">{(p) => <DeliveryPage key={p.id} id={p.id} admin={admin} />}</Route>
          <Route path="/tickets">
            <Tickets />
          </Route>
          <Route path="/tickets/new">
            <NewTicket />
          </Route>
          <Route path="/tickets/:id">{(p) => <TicketPage key={p.id} id={p.id} />}</Route>
          <Route path="/explorer">
            <Suspense fallback={<Loading what="the explorer" />}>
              <Explorer />
            </Suspense>
          </Route>
          <Route>
            <Message title="Not found">There is no screen at this address.</Message>
          </Route>
        </Switch>
      </main>
    </Provider>
  );
}

function AdminOnly() {
  return <Message title="Admins only">Webhooks and rules are managed by admins. Your role can see deliveries and tickets.</Message>;
}

function Message({ title, children }: { title: string; children: ReactNode }) {
  return (
    <>
      <PageHeader title={title} />
      <p>{children}</p>
    </>
  );
}
