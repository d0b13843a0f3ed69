import { describe, expect, it } from 'vitest';
import { canonicalDecimal, compareDecimals, readsExactly } from '../../src/domain/decimal.js';

describe('compareDecimals: exact, digit by digit', () => {
  it.each([
    ['12345678901234567890', '12345678901234567889', 1],
    ['12345678901234567889', '12345678901234567890', -1],
    ['12345678901234567890', '1.234567890123456789e19', 0],
    ['1.50', '1.5', 0],
    ['+7.', '7', 0],
    ['.5', '0.50', 0],
    ['-0', '0.000', 0],
    ['0.0012', '1.2e-3', 0],
    ['1e3', '999.9999999999999999999', 1],
    ['-12345678901234567890', '-12345678901234567889', -1],
    ['-1', '1', -1],
    ['0', '-0.000001', 1],
    ['100', '99', 1],
    ['0.1', '0.10000000000000000001', -1],
    [' 42 ', '42', 0],
    ['abc', '1', null],
    ['1', '0x10', null],
    ['', '0', null],
    ['1e', '1', null],
  ] as const)('%j vs %j → %j', (a, b, expected) => {
    expect(compareDecimals(a, b)).toBe(expected);
  });

  it('equal numbers have one canonical form', () => {
    expect(canonicalDecimal('1.50')).toBe(canonicalDecimal('15e-1'));
    expect(canonicalDecimal('12345678901234567890')).not.toBe(canonicalDecimal(String(Number('12345678901234567890'))));
    expect(canonicalDecimal('x')).toBeNull();
  });
});

describe('readsExactly: the double read from a decimal is the number written', () => {
  it.each([
    ['0.1', true],
    ['1.50', true],
    ['1e3', true],
    ['9007199254740993', false],
    ['12345678901234567890', false],
    ['0.10000000000000000001', false],
    ['1e999', false],
    ['abc', false],
  ])('%s → %s', (text, exact) => {
    expect(readsExactly(text)).toBe(exact);
  });
});
