/**
 * Reading a value for a tag. This is the only code that touches the context at render
 * time, so it alone decides what a template can reach: own properties of plain objects,
 * nothing inherited, never a function, never an object's toString().
 */
import { plainDecimal } from '../domain/index.js';

/** Follows `segments` through own properties; anything else (missing, inherited, non-object) → undefined. */
export function lookupPath(root: unknown, segments: readonly string[]): unknown {
  let cur: unknown = root;
  for (let i = 0; i < segments.length; i++) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    const key = segments[i]!;
    if (!Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * The text a value renders as: strings as they are, finite numbers in plain decimal
 * notation (`0.0000001`, never `1e-7`: receivers expecting decimals refuse an exponent),
 * booleans/bigints via String,
 * a valid Date as ISO 8601 (custom DATE fields may hold one), null/undefined as ''.
 * Objects and arrays render as '': a template names a leaf, and calling an arbitrary
 * object's toString() would run code the template author does not control.
 */
export function toText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return plainDecimal(value);
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
      return '';
    default:
      return '';
  }
}
