import { describe, expect, test } from 'vitest';
import {
  decideVerifyCheck,
  digitsFromRandom,
  normaliseTypedCode,
  overLimit,
  renderVerifyText,
  verifyCheckReason,
} from './verify-code.js';

describe('verification codes', () => {
  test('digits come from bytes below 250 only (no modulo bias)', () => {
    expect(digitsFromRandom(Uint8Array.from([0, 9, 250, 255, 13, 249]), 4)).toBe('0939');
    expect(digitsFromRandom(Uint8Array.from([1, 250, 2]), 3)).toBeUndefined();
    expect(() => digitsFromRandom(new Uint8Array(4), 0)).toThrow(RangeError);
  });

  test('typed codes tolerate spaces and dashes, nothing else', () => {
    expect(normaliseTypedCode(' 123-456 ')).toBe('123456');
    expect(normaliseTypedCode('12a4')).toBeUndefined();
    expect(normaliseTypedCode('')).toBeUndefined();
  });

  test('text placeholders; a template without [code] still carries the code', () => {
    expect(renderVerifyText('Code [code], valid [minutes] min', '1234', 300)).toBe('Code 1234, valid 5 min');
    expect(renderVerifyText('Code [code]', '1234', 61)).toBe('Code 1234');
    expect(renderVerifyText('Welcome', '1234', 60)).toBe('Welcome 1234');
    expect(renderVerifyText('', '99', 60)).toBe('Your code: 99');
  });

  test('check decisions: right, wrong, last wrong, burnt, expired, none', () => {
    const s = { expiresAt: 1000, attempts: 0, maxAttempts: 3 };
    expect(decideVerifyCheck(s, 999, () => true)).toBe('verified');
    expect(decideVerifyCheck(s, 999, () => false)).toBe('wrong');
    expect(decideVerifyCheck({ ...s, attempts: 2 }, 999, () => false)).toBe('wrong-last');
    let asked = false;
    const probe = () => (asked = true);
    expect(decideVerifyCheck({ ...s, attempts: 3 }, 999, probe)).toBe('too-many-attempts');
    expect(decideVerifyCheck(s, 1000, probe)).toBe('expired');
    expect(asked).toBe(false);
    expect(decideVerifyCheck(undefined, 0, probe)).toBe('none');
  });

  test('reasons and limits', () => {
    expect(verifyCheckReason('wrong', 1)).toBe('wrong code (1 attempt left)');
    expect(verifyCheckReason('expired')).toMatch(/expired/);
    expect(overLimit(3, { max: 3, windowSeconds: 60 })).toBe(false);
    expect(overLimit(4, { max: 3, windowSeconds: 60 })).toBe(true);
    expect(overLimit(1000, { max: 0, windowSeconds: 60 })).toBe(false);
  });
});
