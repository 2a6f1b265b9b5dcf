import { describe, expect, test } from 'vitest';
import { addDecimal, compareDecimal, formatDecimal, multiplyDecimal, parseDecimal } from './money.js';

describe('money', () => {
  test.each([
    ['0.1', 3, '0.3'],
    ['0.05', 2, '0.1'],
    ['1', 0, '0'],
    ['0.000001', 7, '0.000007'],
    ['12.5', 4, '50'],
    ['-0.25', 2, '-0.5'],
  ])('%s x %i = %s', (v, n, want) => expect(multiplyDecimal(v, n)).toBe(want));

  test('adds without float drift', () => expect(addDecimal('0.1', '0.2')).toBe('0.3'));
  test('compares', () => {
    expect(compareDecimal('1.50', '1.5')).toBe(0);
    expect(compareDecimal('0.1', '0.2')).toBe(-1);
  });
  test('round trip keeps DECIMAL(18,6) strings exact', () => {
    expect(formatDecimal(parseDecimal('123.456000'))).toBe('123.456');
  });
  test.each(['', 'abc', '1.2.3', '1e5', '0.0000001'])('rejects %j', (v) => {
    expect(() => parseDecimal(v)).toThrow(RangeError);
  });
});
