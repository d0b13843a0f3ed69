/**
 * Unsaved changes: while `dirty`, leaving the page asks first. Closing or reloading the tab
 * gets the browser's own question (beforeunload); following a link of the console (its
 * navigation, "All webhooks", a row's link) or pressing an element marked `data-leaves-page`
 * ("Sign out") asks `question` with the browser's confirm dialog, and "Cancel" stays on the
 * page with nothing lost. The browser's Back and Forward ask `question` too (location.ts asks
 * the first active guard's, leaveQuestion). A save, which makes the form clean again, leaves freely.
 */
import { useEffect } from 'react';

/** Marks a control that leaves the page when pressed (not a link): the guard asks before it acts. */
export const leavesPage = { 'data-leaves-page': '' } as const;

// the questions of the guards active now, oldest first
const active: string[] = [];

/** The question to ask before the browser's Back or Forward leaves the page; undefined while no guard is active. */
export function leaveQuestion(): string | undefined {
  return active[0];
}

export function useLeaveGuard(dirty: boolean, question: string): void {
  useEffect(() => {
    if (!dirty) return;
    const beforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // older browsers read the question from returnValue (none shows it: they say their own)
      e.returnValue = question;
    };
    // capture phase on the document: before the console's own handlers (a link's navigation) run
    const click = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0) return;
      const el = (e.target as Element | null)?.closest?.('a[href], [data-leaves-page]');
      if (!el) return;
      if (el instanceof HTMLAnchorElement) {
        // a new tab or window, a download or another site leaves this page as it is
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || (el.target && el.target !== '_self') || el.hasAttribute('download')) return;
        const to = new URL(el.href, location.href);
        if (to.origin !== location.origin) return;
        // a link within the page (the skip link) leaves nothing
        if (to.pathname === location.pathname && to.search === location.search) return;
      }
      if (window.confirm(question)) return;
      e.preventDefault();
      e.stopImmediatePropagation();
    };
    active.push(question);
    window.addEventListener('beforeunload', beforeUnload);
    document.addEventListener('click', click, true);
    return () => {
      active.splice(active.indexOf(question), 1);
      window.removeEventListener('beforeunload', beforeUnload);
      document.removeEventListener('click', click, true);
    };
  }, [dirty, question]);
}
