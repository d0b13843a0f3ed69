import { useEffect, useRef, useState } from 'react';

/** A one-time message carried across a navigation (e.g. "Webhook created." on the new webhook's page). */
let pending: string | null = null;

export function setFlash(message: string): void {
  pending = message;
}

export function takeFlash(): string | null {
  const m = pending;
  pending = null;
  return m;
}

/** Drops a message not shown yet (the session ended: it was meant for the one who acted). */
export function clearFlash(): void {
  pending = null;
}

/**
 * Hands the message carried to this page to `show` (which puts it into a status region) once
 * `ready` (the region is on the page) and the page has been painted with the region empty:
 * a live region announces a change of its content, not content it was added with. Two
 * animation frames: the first runs before the next paint, the second after it.
 */
export function useFlash(show: (message: string) => void, ready = true): void {
  const [message, setMessage] = useState(takeFlash);
  const showRef = useRef(show);
  showRef.current = show;
  useEffect(() => {
    if (!ready || !message) return;
    let second = 0;
    const first = requestAnimationFrame(() => {
      second = requestAnimationFrame(() => {
        showRef.current(message);
        setMessage(null);
      });
    });
    return () => {
      cancelAnimationFrame(first);
      cancelAnimationFrame(second);
    };
  }, [ready, message]);
}
