/**
 * GraphiQL 5 with the signed-in key: queries and mutations over HTTP with the
 * Authorization header, subscriptions over graphql-ws with the key in connectionParams,
 * both through the session (client.ts): an answer refusing the key ends it.
 * Monaco's workers are bundled by Vite (graphiql/setup-workers/vite): nothing comes from
 * another host. This module is its own chunk, loaded when the explorer opens.
 */
import 'graphiql/setup-workers/vite';
// graphiql/style.css would add its web fonts (Roboto, Fira Code) inlined, ~330 KB gzip: the
// same styles without them, the editors in the system's fonts
import '@graphiql/react/style.css';
import '@graphiql/plugin-doc-explorer/style.css';
import '@graphiql/plugin-history/style.css';
import 'graphiql/graphiql.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { useSession, type Session } from '../client';
import { GRAPHQL_PATH } from '../session';
import { Loading, usePageTitle } from '../components/ui';

/**
 * GraphiQL's tabs, history and editor state stay in this tab's session, apart from any other
 * app on the host, and only while the session lasts: GraphiQL writes some of them a moment
 * after a change, which must not bring them back after sign-out cleared them.
 */
function sessionStore(session: Session): Storage {
  const prefix = 'deskhooks.graphiql:';
  return {
    get length() {
      return Object.keys(sessionStorage).filter((k) => k.startsWith(prefix)).length;
    },
    clear: () =>
      Object.keys(sessionStorage)
        .filter((k) => k.startsWith(prefix))
        .forEach((k) => sessionStorage.removeItem(k)),
    getItem: (k) => sessionStorage.getItem(prefix + k),
    setItem: (k, v) => {
      if (!session.ended) sessionStorage.setItem(prefix + k, v);
    },
    removeItem: (k) => sessionStorage.removeItem(prefix + k),
    key: (i) =>
      Object.keys(sessionStorage)
        .filter((k) => k.startsWith(prefix))
        [i]?.slice(prefix.length) ?? null,
  };
}

const DEFAULT_QUERY = `# Runs with your API key: Ctrl+Enter or the run button.
{
  me {
    email
    role
  }
}
`;

export default function Explorer() {
  usePageTitle('Explorer');
  const session = useSession();
  // a websocket client of this screen's own, opened and closed with it (an effect, not useMemo:
  // StrictMode's second run gets one of its own); the session closes it too if it ends first
  const [fetcher, setFetcher] = useState<Fetcher | null>(null);
  useEffect(() => {
    const socket = session.openSocket();
    const url = new URL(GRAPHQL_PATH, location.href).toString();
    setFetcher(() => createGraphiQLFetcher({ url, fetch: session.fetch, wsClient: socket.client }));
    return () => socket.dispose();
  }, [session]);
  const storage = useMemo(() => sessionStore(session), [session]);
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const root = container.current;
    if (!root) return;
    const fix = () => {
      fixTabRoles(root);
      describeEditors(root);
    };
    fix();
    const observer = new MutationObserver(fix);
    observer.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ['role', 'aria-selected'] });
    return () => observer.disconnect();
  }, []);
  return (
    <div className="explorer" ref={container}>
      <h1 className="visually-hidden" id="page-title" tabIndex={-1}>
        Explorer
      </h1>
      <p id={KEYS_HINT} className="hint explorer-keys">
        In an editor, Tab indents: press Ctrl+M to have Tab move the focus out of it instead (Ctrl+M again switches back). Ctrl+Enter runs the operation.
      </p>
      {fetcher ? (
        <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} storage={storage} shouldPersistHeaders={false}>
          <GraphiQL.Logo>
            <span className="explorer-logo">deskhooks explorer</span>
          </GraphiQL.Logo>
        </GraphiQL>
      ) : (
        <Loading what="the explorer" />
      )}
    </div>
  );
}

/** the element id of the explorer's keyboard hint (how Tab leaves an editor) */
const KEYS_HINT = 'explorer-keys-hint';

/**
 * The editors (Monaco) keep Tab for indenting: each one's input is described by the hint that
 * says how to leave it (Ctrl+M), so that the keyboard is never trapped without a word (WCAG 2.1.2).
 */
function describeEditors(root: HTMLElement): void {
  for (const input of root.querySelectorAll<HTMLTextAreaElement>('.monaco-editor textarea')) {
    if (input.getAttribute('aria-describedby') !== KEYS_HINT) input.setAttribute('aria-describedby', KEYS_HINT);
  }
}

/**
 * GraphiQL renders each operation tab as an <li role="tab"> around its buttons (interactive
 * controls nested in a tab, which screen readers cannot reach). The tab role and its state
 * move to the tab's own button; the <li> becomes presentation.
 */
function fixTabRoles(root: HTMLElement): void {
  for (const li of root.querySelectorAll<HTMLElement>('li.graphiql-tab[role="tab"]')) {
    const button = li.querySelector<HTMLElement>('.graphiql-tab-button');
    if (!button) continue;
    li.setAttribute('role', 'presentation');
    button.setAttribute('role', 'tab');
  }
  for (const li of root.querySelectorAll<HTMLElement>('li.graphiql-tab[role="presentation"]')) {
    const button = li.querySelector<HTMLElement>('.graphiql-tab-button');
    const selected = li.getAttribute('aria-selected') ?? String(li.classList.contains('graphiql-tab-active'));
    if (button && button.getAttribute('aria-selected') !== selected) button.setAttribute('aria-selected', selected);
    if (li.hasAttribute('aria-selected')) li.removeAttribute('aria-selected');
  }
}
