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
