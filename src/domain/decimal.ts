/**
 * Decimal numbers as written (`-12.50`, `1e3`, `.5`, `+7.`), read and compared exactly,
 * digit by digit, never through a double: 12345678901234567890 and 12345678901234567889
 * are two numbers, not the same 1.2345678901234567e19.
 */

/** A plain decimal: optional sign, digits with an optional point, an optional exponent. */
export const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** sign × 0.digits × 10^exp; `digits` has no leading or trailing zeros (zero: sign 0, digits ''). */
interface Decimal {
  sign: -1 | 0 | 1;
  digits: string;
  exp: number;
}

/** The decimal written in `text` (trimmed), or null when it is not a plain decimal or its exponent is absurd. */
function readDecimal(text: string): Decimal | null {
  const t = text.trim();
  if (!DECIMAL_TEXT.test(t)) return null;
  const m = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(t)!;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (!Number.isSafeInteger(exponent)) return null;
  const whole = m[2]!.replace(/^0+/, '');
  const all = (whole + m[3]!).replace(/0+$/, '');
  const lead = whole === '' ? /^0*/.exec(m[3]!)![0].length : 0; // zeros right after the point
  const digits = all.replace(/^0+/, '');
  if (digits === '') return { sign: 0, digits: '', exp: 0 };
  return { sign: m[1] === '-' ? -1 : 1, digits, exp: whole.length - lead + exponent };
}

/** The canonical form of a decimal (`1.50` → `0.15e1`), or null when `text` is not one: equal numbers, equal forms. */
export function canonicalDecimal(text: string): string | null {
  const d = readDecimal(text);
  return d && (d.sign === 0 ? '0' : `${d.sign < 0 ? '-' : ''}0.${d.digits}e${d.exp}`);
}

/** Whether the double JavaScript reads from the decimal `text` is that number exactly (`0.1`, `1.50`, `1e3` are; `12345678901234567890`, `0.10000000000000000001` are not). */
export function readsExactly(text: string): boolean {
  const written = canonicalDecimal(text);
  return written !== null && written === canonicalDecimal(String(Number(text.trim())));
}

/** -1, 0 or 1 as the decimal `a` is below, equal to or above `b`, exactly; null when either is not a plain decimal. */
export function compareDecimals(a: string, b: string): -1 | 0 | 1 | null {
  const x = readDecimal(a);
  const y = readDecimal(b);
  if (!x || !y) return null;
  if (x.sign !== y.sign) return x.sign < y.sign ? -1 : 1;
  if (x.sign === 0) return 0;
  // same sign: compare magnitudes, then flip for negatives
  let mag: -1 | 0 | 1;
  if (x.exp !== y.exp) mag = x.exp < y.exp ? -1 : 1;
  else {
    const n = Math.max(x.digits.length, y.digits.length);
    const dx = x.digits.padEnd(n, '0');
    const dy = y.digits.padEnd(n, '0');
    mag = dx === dy ? 0 : dx < dy ? -1 : 1;
  }
  return (mag * x.sign) as -1 | 0 | 1;
}

/**
 * A finite number in plain decimal notation, never with an exponent (`1e-7` is `0.0000001`,
 * `1e21` is `1000000000000000000000`): the digits of its shortest round-trip form (String),
 * so the text reads back as the same double. Zero is `0` (also -0); NaN and ±Infinity stay
 * as String writes them.
 */
export function plainDecimal(n: number): string {
  const written = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(written);
  if (!m) return written;
  const [, sign, first, rest = '', exponent] = m;
  const digits = first! + rest;
  const exp = Number(exponent);
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  // String writes an exponent from 1e21 up only, far past its at most 17 digits: all are whole
  return sign + digits + '0'.repeat(exp - rest.length);
}
