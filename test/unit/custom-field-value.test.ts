import { describe, expect, it } from 'vitest';
import { convertCustomFieldValue } from '../../src/helpdesk/custom-field-value.js';
import type { CustomFieldType } from '../../src/domain/index.js';

const def = (type: CustomFieldType, key = 'order_no', options: string[] = []) => ({ key, type, options });

describe('convertCustomFieldValue: accepted values', () => {
  it.each([
    // type, raw, stored value
    ['TEXT', 'hello', 'hello'],
    ['TEXT', '', ''],
    ['TEXT', 42, '42'],
    ['TEXT', 1.5, '1.5'],
    ['TEXT', true, 'true'],
    ['NUMBER', 777, 777],
    ['NUMBER', '777', 777],
    ['NUMBER', ' 12.5 ', 12.5],
    ['NUMBER', '-3', -3],
    ['NUMBER', '1e3', 1000],
    ['NUMBER', '.5', 0.5],
    ['BOOLEAN', true, true],
    ['BOOLEAN', false, false],
    ['BOOLEAN', 'true', true],
    ['BOOLEAN', 'FALSE', false],
    ['BOOLEAN', '1', true],
    ['BOOLEAN', '0', false],
    ['BOOLEAN', 'yes', true],
    ['BOOLEAN', ' No ', false],
    ['BOOLEAN', 1, true],
    ['BOOLEAN', 0, false],
    ['DATE', '2024-05-01', '2024-05-01'],
    ['DATE', '2024-02-29', '2024-02-29'],
    ['DATE', '2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000Z'],
    ['DATE', '2024-05-01T12:30:00+02:00', '2024-05-01T10:30:00.000Z'],
    ['DATE', '2024-05-01T10:00:00.123Z', '2024-05-01T10:00:00.123Z'],
    ['DATE', new Date('2024-05-01T10:00:00Z'), '2024-05-01T10:00:00.000Z'],
  ] as const)('%s %j → %j', (type, raw, value) => {
    expect(convertCustomFieldValue(def(type), raw)).toEqual({ ok: true, value });
  });

  it.each(['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'SELECT'] as const)('%s: null and undefined clear the field', (type) => {
    expect(convertCustomFieldValue(def(type), null)).toEqual({ ok: true, value: null });
    expect(convertCustomFieldValue(def(type), undefined)).toEqual({ ok: true, value: null });
  });

  it('SELECT takes one of its options (exact, or once trimmed)', () => {
    const d = def('SELECT', 'channel', ['sms', 'email', '42']);
    expect(convertCustomFieldValue(d, 'sms')).toEqual({ ok: true, value: 'sms' });
    expect(convertCustomFieldValue(d, ' email ')).toEqual({ ok: true, value: 'email' });
    expect(convertCustomFieldValue(d, 42)).toEqual({ ok: true, value: '42' });
  });
});

describe('convertCustomFieldValue: refused values', () => {
  it.each([
    ['NUMBER', 'abc', 'custom field "order_no" is NUMBER: "abc" is not a number'],
    ['NUMBER', '', 'custom field "order_no" is NUMBER: "" is not a number'],
    ['NUMBER', '0x1f', 'is not a number'],
    ['NUMBER', 'Infinity', 'is not a number'],
    ['NUMBER', '12,5', 'is not a number'],
    ['NUMBER', Number.NaN, 'is not a finite number'],
    ['NUMBER', true, 'true is not a number'],
    ['NUMBER', { a: 1 }, 'an object is not a number'],
    ['TEXT', { a: 1 }, 'custom field "order_no" is TEXT: an object cannot be stored as text'],
    ['TEXT', [1, 2], 'a list cannot be stored as text'],
    ['BOOLEAN', 'maybe', 'custom field "order_no" is BOOLEAN: "maybe" is not true/false'],
    ['BOOLEAN', 2, '2 is not true/false'],
    // words that name Object.prototype members are no values
    ['BOOLEAN', 'constructor', '"constructor" is not true/false'],
    ['BOOLEAN', ' toString ', 'is not true/false'],
    ['DATE', '2024-02-30', 'custom field "order_no" is DATE: "2024-02-30" is not a date'],
    ['DATE', '2023-02-29', 'is not a date'],
    ['DATE', '01.05.2024', 'is not a date'],
    ['DATE', '2024-05-01T10:00:00', 'is not a date'], // no zone: ambiguous
    ['DATE', '2024-05-01T25:00:00Z', 'is not a date'],
    ['DATE', 1714557600000, 'is not a date'],
  ] as const)('%s %j → %s', (type, raw, message) => {
    const r = convertCustomFieldValue(def(type), raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });

  // A NUMBER field holds a double: a value is taken only when that double is the number
  // written (magnitude within 2^53 - 1, digits that read back the same), never rounded.
  it.each([
    // raw, stored value
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    [9007199254740991, 9007199254740991],
    ['0.1', 0.1],
    ['1.50', 1.5],
    ['0.30000000000000004', 0.30000000000000004],
    ['1e-7', 1e-7],
    ['12.5e2', 1250],
    ['-0', -0],
  ] as const)('NUMBER %j is held exactly → %j', (raw, value) => {
    expect(convertCustomFieldValue(def('NUMBER'), raw)).toEqual({ ok: true, value });
  });

  it.each([
    '12345678901234567890', // a 64-bit id: would be 12345678901234567000
    '-12345678901234567890',
    '9007199254740992', // 2^53: its neighbour 2^53 + 1 reads the same
    '9007199254740993',
    '1e20',
    '9007199254740990.5',
    '0.1000000000000000055511151231257827',
    '3.14159265358979323846',
    2 ** 53,
    1e20,
  ] as const)('NUMBER %j cannot be held exactly: refused, saying so', (raw) => {
    expect(convertCustomFieldValue(def('NUMBER'), raw)).toEqual({
      ok: false,
      inexact: true,
      error: `custom field "order_no" is NUMBER: ${typeof raw === 'string' ? JSON.stringify(raw) : String(raw)} cannot be stored exactly as a number (it holds integers within ±9007199254740991 and decimals of about 15 significant digits)`,
    });
  });

  it('SELECT refuses a value that is not an option and lists the options', () => {
    const r = convertCustomFieldValue(def('SELECT', 'channel', ['sms', 'email']), 'fax');
    expect(r).toEqual({ ok: false, error: 'custom field "channel" is SELECT: "fax" is not one of "sms", "email"' });
    expect(convertCustomFieldValue(def('SELECT', 'channel', ['sms']), 'SMS').ok).toBe(false);
    expect(convertCustomFieldValue(def('SELECT', 'channel', ['true']), true).ok).toBe(false);
  });

  it('cuts a long raw value short in the message', () => {
    const r = convertCustomFieldValue(def('NUMBER'), 'x'.repeat(10_000));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeLessThan(150);
  });
});
