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
