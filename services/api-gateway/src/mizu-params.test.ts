import { describe, expect, test } from 'vitest';
import { param, parseMizuParams } from './mizu-params.js';

describe('parseMizuParams', () => {
  test('query parameters, names case-insensitive', () => {
    const p = parseMizuParams('apientry=asendsms&BNUM=123&message=Hello%20w%C3%B6rld', '', undefined);
    expect(param(p, 'bnum', 'bnun', 'to')).toBe('123');
    expect(param(p, 'message', 'txt')).toBe('Hello wörld');
  });
  test('form body', () => {
    const p = parseMizuParams('apientry=asendsms', 'to=5&txt=a+b', 'application/x-www-form-urlencoded');
    expect(param(p, 'bnum', 'bnun', 'to')).toBe('5');
    expect(param(p, 'message', 'txt')).toBe('a b');
  });
  test('JSON body, numbers become strings', () => {
    const p = parseMizuParams(
      '',
      '{"apientry":"asendsms","to":36201234567,"message":"Hi"}',
      'application/json',
    );
    expect(param(p, 'to')).toBe('36201234567');
    expect(param(p, 'apientry')).toBe('asendsms');
  });
  test('query wins over body', () => {
    const p = parseMizuParams('to=1', 'to=2', 'application/x-www-form-urlencoded');
    expect(param(p, 'to')).toBe('1');
  });
  test.each(['{bad', '[1,2]'])('bad JSON body %j is an error', (body) => {
    expect(() => parseMizuParams('', body, 'application/json')).toThrow(SyntaxError);
  });
});
