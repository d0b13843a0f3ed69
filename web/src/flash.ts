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
