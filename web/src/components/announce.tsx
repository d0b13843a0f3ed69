/**
 * Announcements: what changed on a screen while it is open, said politely by a screen reader
 * in one sentence at a time from a visually hidden live region, while the lists that changed
 * are no live regions themselves (their every entry would be read out).
 *
 * Each sentence is rendered as a node of its own (a new key): the same sentence twice in a row
 * ("Delivery to CRM is now SUCCEEDED." for two deliveries) is an addition to the region too,
 * and is read out again.
 */
import { useCallback, useState, type ReactNode } from 'react';

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
