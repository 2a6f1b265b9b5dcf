import { describe, expect, it } from 'vitest';
import {
  AuthError,
  BadRequestError,
  NoCreditError,
  PermanentError,
  SmsfleetError,
  TemporaryError,
  ThrottledError,
  isUnreachableError,
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

describe('isUnreachableError', () => {
  const coded = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:3306`), { code });
  it.each(['ECONNREFUSED', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ETIMEDOUT'])('%s is unreachable', (c) =>
    expect(isUnreachableError(coded(c))).toBe(true),
  );
  it('a pool timeout and a closed connection are unreachable, also as a cause', () => {
    const timeout = Object.assign(new Error('Knex: Timeout acquiring a connection.'), {
      name: 'KnexTimeoutError',
    });
    expect(isUnreachableError(timeout)).toBe(true);
    expect(isUnreachableError(new Error("Can't add new command when connection is in closed state"))).toBe(
      true,
    );
    expect(isUnreachableError(new Error('send failed', { cause: coded('ECONNREFUSED') }))).toBe(true);
  });
  it('bugs and SQL errors are not', () => {
    expect(isUnreachableError(new TypeError('x is undefined'))).toBe(false);
    expect(isUnreachableError(coded('ER_DUP_ENTRY'))).toBe(false);
    expect(isUnreachableError(undefined)).toBe(false);
    expect(isUnreachableError('ECONNREFUSED')).toBe(false);
  });
});
