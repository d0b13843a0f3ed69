/**
 * Text and values as PostgreSQL stores them. `text` refuses U+0000; `jsonb` refuses
 * U+0000 and lone surrogates (`\ud800`); a receiver's answer may hold any bytes. Whatever
 * cannot be stored becomes U+FFFD, the replacement character, so that the rest is kept
 * as it came. Pure.
 */

const NUL = /\u0000/g;
const REPLACEMENT = '\uFFFD';

interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** U+0000 and lone surrogates → U+FFFD; the same string when there are none. */
export function storableText(text: string): string {
  const s = text as string & WellFormed;
  const wellFormed = s.isWellFormed() ? text : s.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replace(NUL, REPLACEMENT) : wellFormed;
}

/** True when `storableText` would return the string unchanged. */
export function isStorableText(text: string): boolean {
  return (text as string & WellFormed).isWellFormed() && !text.includes('\u0000');
}

/**
 * At most `max` UTF-16 units of `text`, never ending in half of a surrogate pair (the
 * half would be a lone surrogate).
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = max > 0 && isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isPlainContainer(v: object): boolean {
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Defines an own property even for a key like "__proto__" (plain assignment would set the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A copy of a parsed value (JSON, XML, form) in which every string — object keys
 * included — is storable. Arrays and plain objects are copied, at any depth (no
 * recursion: a body of a million nested lists cannot overflow the stack); other values
 * are kept as they are. Two keys that become equal keep the later value.
 */
export function storableValue<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (typeof value !== 'object' || value === null || !isPlainContainer(value)) return value;
  const copies = new Map<object, Record<string, unknown> | unknown[]>();
  const pending: [object, Record<string, unknown> | unknown[]][] = [];
  const copyOf = (v: unknown): unknown => {
    if (typeof v === 'string') return storableText(v);
    if (typeof v !== 'object' || v === null || !isPlainContainer(v)) return v;
    let copy = copies.get(v);
    if (!copy) {
      copy = Array.isArray(v) ? new Array<unknown>(v.length) : (Object.create(Object.getPrototypeOf(v)) as Record<string, unknown>);
      copies.set(v, copy);
      pending.push([v, copy]);
    }
    return copy;
  };
  const root = copyOf(value);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [source, target] = next;
    if (Array.isArray(source)) {
      const list = target as unknown[];
      for (let i = 0; i < source.length; i++) list[i] = copyOf(source[i]);
    } else {
      const record = target as Record<string, unknown>;
      for (const key of Object.keys(source)) setOwn(record, storableText(key), copyOf((source as Record<string, unknown>)[key]));
    }
  }
  return root as T;
}
