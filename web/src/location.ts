/**
 * The console's address, as wouter's location hook (`<Router hook={useConsoleLocation}>`):
 * the screens are given the *accepted* address, kept here, never `location` read at render
 * (the browser changes that before any popstate listener runs, which would unmount an edited
 * form with its guard before the guard could ask).
 *
 * The rule: a navigation of the console (a Link, a Redirect, a screen's navigate) is accepted
 * as it is made (its links are asked about by the guard's click handler, leave.ts). The
 * browser's Back and Forward are accepted too, unless a leave guard is active: then its question
 * is asked first; "OK" accepts the new address, "Cancel" moves the address bar back to the
 * accepted one and the page stays as it is, nothing lost.
 *
 * To move back by as many steps as the browser went, each entry the console makes carries its
 * position in history.state (under INDEX, next to a screen's own state).
 */
import { useSyncExternalStore } from 'react';
import { leaveQuestion } from './components/leave';

const INDEX = 'deskhooksIndex';

interface Entry {
  path: string;
  search: string;
  hash: string;
  state: unknown;
  /** position in the tab's history, null for an entry that carries none */
  index: number | null;
}

function indexIn(state: unknown): number | null {
  const i = (state as Record<string, unknown> | null)?.[INDEX];
  return typeof i === 'number' ? i : null;
}

/** A screen's state with the entry's position added (a state that is not an object carries none). */
function withIndex(state: unknown, index: number): unknown {
  if (state === null || state === undefined) return { [INDEX]: index };
  return typeof state === 'object' && !Array.isArray(state) ? { ...state, [INDEX]: index } : state;
}

const shown = (): Entry => ({ path: location.pathname, search: location.search, hash: location.hash, state: history.state, index: indexIn(history.state) });

// the entry the console opened on gets a position (a reload keeps the one it had)
if (indexIn(history.state) === null) history.replaceState(withIndex(history.state, 0), '');

let accepted = shown();
const listeners = new Set<() => void>();

function accept(entry: Entry): void {
  accepted = entry;
  listeners.forEach((l) => l());
}

const samePage = (a: Entry, b: Entry) => a.path === b.path && a.search === b.search;

addEventListener('popstate', () => {
  const to = shown();
  if (samePage(to, accepted)) {
    // a link within the page (the skip link: a new entry, without a position) or Cancel's own step back: nothing leaves
    if (to.index === null && accepted.index !== null) {
      to.index = accepted.index + 1;
      history.replaceState((to.state = withIndex(to.state, to.index)), '');
    }
    accept(to);
    return;
  }
  const question = leaveQuestion();
  if (question === undefined || window.confirm(question)) {
    accept(to);
    return;
  }
  // Cancel: back to the accepted entry (its popstate is then the same page), or, without positions to count by, it again on top
  if (to.index !== null && accepted.index !== null) history.go(accepted.index - to.index);
  else {
    history.pushState(accepted.state, '', accepted.path + accepted.search + accepted.hash);
    accepted = shown();
  }
});

/** wouter's navigate: the console's own navigations, accepted as they are made. */
export function navigate(to: string, { replace = false, state = null }: { replace?: boolean; state?: unknown } = {}): void {
  const at = accepted.index ?? 0;
  history[replace ? 'replaceState' : 'pushState'](withIndex(state, replace ? at : at + 1), '', to);
  accept(shown());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The accepted path (wouter's `hook`); `ssrPath`, when a Router gives one, is the server's. */
export function useConsoleLocation({ ssrPath }: { ssrPath?: string } = {}): [string, typeof navigate] {
  const path = useSyncExternalStore(subscribe, () => accepted.path, ssrPath != null ? () => ssrPath : undefined);
  return [path, navigate];
}

/** The accepted search string, "?…" or "" (wouter's `searchHook`, for useSearch). */
useConsoleLocation.searchHook = ({ ssrSearch }: { ssrSearch?: string } = {}): string =>
  useSyncExternalStore(subscribe, () => accepted.search, ssrSearch != null ? () => ssrSearch : undefined);
