/**
 * Errors with a stable `code`, so services map them to HTTP answers, retries and metrics
 * without matching on message text.
 */
export class SmsfleetError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The caller sent something invalid; do not retry. */
export class BadRequestError extends SmsfleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_REQUEST', message, options);
  }
}

export class AuthError extends SmsfleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AUTH', message, options);
  }
}

export class NoCreditError extends SmsfleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NO_CREDIT', message, options);
  }
}

/** Worth retrying later (provider down, timeout). */
export class TemporaryError extends SmsfleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TEMPORARY', message, options);
  }
}

/** Retrying will not help (rejected by the provider, invalid number). */
export class PermanentError extends SmsfleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERMANENT', message, options);
  }
}

/** Rate limit hit; retry after backing off. */
export class ThrottledError extends SmsfleetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('THROTTLED', message, options);
  }
}

/**
 * Codes that Node sockets and the database/Redis drivers put on errors meaning "the server is not
 * reachable right now" (refused, reset, lost, timed out, shutting down).
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);

/** Error names of pool timeouts (knex/tarn: no connection could be had in time). */
const UNREACHABLE_NAMES = new Set(['KnexTimeoutError', 'TimeoutError']);

/**
 * True when `err` (or one of its causes) says a backing server (database, Redis) could not be
 * reached: the request may be retried later, it is not a bug. Services answer these with a
 * clear "temporarily unavailable" instead of an internal error.
 */
export function isUnreachableError(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const x = e as { code?: unknown; name?: unknown; fatal?: unknown; cause?: unknown; message?: unknown };
    if (typeof x.code === 'string' && UNREACHABLE_CODES.has(x.code)) return true;
    if (typeof x.name === 'string' && UNREACHABLE_NAMES.has(x.name)) return true;
    // mysql2 on a connection that already died: "Can't add new command when connection is in closed state".
    if (typeof x.message === 'string' && /connection is in closed state|connection lost/i.test(x.message))
      return true;
    e = x.cause;
  }
  return false;
}
