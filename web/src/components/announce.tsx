/**
 * Announcements: what changed on a screen while it is open, said politely by a screen reader
 * in one sentence at a time from a visually hidden live region, while the lists that changed
 * are no live regions themselves (their every entry would be read out).
 *
 * Each sentence is rendered as a node of its own (a new key): the same sentence twice in a row
 * ("Delivery to CRM is now succeeded." for two deliveries) is an addition to the region too,
 * and is read out again. usePacedAnnouncements paces the sentences of a screen whose changes
 * may come many a second (the live deliveries): at most one sentence per gap, summing up all
 * that came meanwhile.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';

/** The live region: always in the page (a region added together with its text is not announced), saying its latest sentence. */
export function Announcements({ id, said }: { id?: string; said: ReactNode }) {
  return (
    <p id={id} aria-live="polite" className="visually-hidden">
      {said}
    </p>
  );
}

/** [the region's content, say(sentence)]: each sentence said replaces the last as a new node. Nothing is said at first. */
export function useAnnouncement(): [ReactNode, (sentence: string) => void] {
  const [shown, setShown] = useState({ text: '', key: 0 });
  const say = useCallback((text: string) => setShown((s) => ({ text, key: s.key + 1 })), []);
  return [shown.text ? <span key={shown.key}>{shown.text}</span> : null, say];
}

/**
 * What is new in a list, or changed, from one reading of it to the next, in words: `describe`
 * words the items not in the reading before (`added`) and those whose `version` differs from
 * theirs then (`changed`), each as it is now; '' says nothing. The first reading, and one that
 * changed nothing, say nothing new (the text stays as it was, so nothing is announced again).
 * The region's content, for Announcements.
 */
export function useReadingChanges<Item extends { id: string }>(
  items: readonly Item[] | undefined,
  version: (item: Item) => string,
  describe: (added: readonly Item[], changed: readonly Item[]) => string,
): ReactNode {
  const seen = useRef<Map<string, string> | null>(null);
  const [said, say] = useAnnouncement();
  const latest = useRef({ version, describe });
  latest.current = { version, describe };
  useEffect(() => {
    if (!items) return;
    const { version: versionOf, describe: words } = latest.current;
    const before = seen.current;
    seen.current = new Map(items.map((i) => [i.id, versionOf(i)]));
    if (!before) return;
    const added = items.filter((i) => !before.has(i.id));
    const changed = items.filter((i) => before.has(i.id) && before.get(i.id) !== versionOf(i));
    if (added.length + changed.length === 0) return;
    const text = words(added, changed);
    if (text) say(text);
  }, [items, say]);
  return said;
}

export interface Pace {
  /** after a change while all was said, how long to wait for the changes that follow it (a burst) to say them together */
  gatherMs: number;
  /** the least time from one sentence to the next */
  gapMs: number;
}

/**
 * Announcements of a screen that changes often. `changed()` says there is something new; the
 * sentence is made when its time comes by `compose(resumed)`, which sums up everything since
 * the sentence before (the caller keeps those changes until then; '' says nothing). Its time:
 * `gatherMs` after the first change not said yet, and no sooner than `gapMs` after the last
 * sentence — so a burst is one counted sentence, and more changes while one waits join it.
 *
 * While `paused` (the screen's "Pause live updates") nothing is said: a sentence due is not,
 * and changes only add to what the caller keeps. On resume the changes kept, if any, are said
 * at once (or when the gap allows) in one sentence, `compose(true)`, so that the user hears
 * what the list that just moved brought; nothing is lost and nothing said twice.
 *
 * The times are the page's clock (setTimeout, performance.now): browser tests drive that clock
 * (page.clock) to the moment a sentence is due instead of waiting for it. So that a sentence is
 * scheduled by the time the page shows its change, call `changed()` from a layout effect of the
 * render that shows it; pausing and resuming act in a layout effect too.
 */
export function usePacedAnnouncements(compose: (resumed: boolean) => string, pace: Pace, paused: boolean): { said: ReactNode; changed: () => void } {
  const [said, say] = useAnnouncement();
  const latest = useRef({ compose, pace, paused });
  latest.current = { compose, pace, paused };
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // when the last sentence was said (performance.now()); null before the first
  const lastSaid = useRef<number | null>(null);
  const resumed = useRef(false);

  const speak = useCallback(() => {
    timer.current = null;
    const text = latest.current.compose(resumed.current);
    resumed.current = false;
    if (!text) return;
    lastSaid.current = performance.now();
    say(text);
  }, [say]);

  /** Says the changes kept at `earliest`, or when the gap since the last sentence ends if that is later; once a sentence waits, its time stays. */
  const schedule = useCallback(
    (earliest: number) => {
      if (timer.current !== null || latest.current.paused) return;
      const at = Math.max(earliest, lastSaid.current === null ? earliest : lastSaid.current + latest.current.pace.gapMs);
      const wait = at - performance.now();
      if (wait <= 0) speak();
      else timer.current = setTimeout(speak, wait);
    },
    [speak],
  );

  const changed = useCallback(() => schedule(performance.now() + latest.current.pace.gatherMs), [schedule]);

  const wasPaused = useRef(paused);
  useLayoutEffect(() => {
    if (paused === wasPaused.current) return;
    wasPaused.current = paused;
    if (paused) {
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
      return;
    }
    resumed.current = true;
    schedule(performance.now());
  }, [paused, schedule]);

  // nothing is said after the screen has left the page
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );

  return { said, changed };
}
