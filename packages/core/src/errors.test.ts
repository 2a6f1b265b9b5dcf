import { describe, expect, it } from 'vitest';
import {
  AuthError,
  BadRequestError,
  NoCreditError,
  PermanentError,
  SmsfleetError,
  TemporaryError,
  ThrottledError,
} from './errors.js';

describe('errors', () => {
  it.each([
    [BadRequestError, 'BAD_REQUEST'],
    [AuthError, 'AUTH'],
    [NoCreditError, 'NO_CREDIT'],
    [TemporaryError, 'TEMPORARY'],
    [PermanentError, 'PERMANENT'],
    [ThrottledError, 'THROTTLED'],
  ] as const)('%o has code %s', (Cls, code) => {
    const cause = new Error('root');
    const e = new Cls('boom', { cause });
    expect(e).toBeInstanceOf(SmsfleetError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(code);
    expect(e.name).toBe(Cls.name);
    expect(e.message).toBe('boom');
    expect(e.cause).toBe(cause);
  });
  it('base class takes any code', () => {
    const e = new SmsfleetError('X', 'y');
    expect([e.code, e.cause]).toEqual(['X', undefined]);
  });
});
