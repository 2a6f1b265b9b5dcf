import type express from 'express';
import { SmsfleetError, isUnreachableError } from '@smsfleet/core';

/** One invalid field or row, as listed in a problem document's `errors`. */
export interface FieldError {
  /** JSON pointer into the request (`/recipients/17/to`), or a CSV row (`/rows/18/to`). */
  pointer: string;
  detail: string;
}

/** RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  /** For 500s: an id to find the log line. */
  errorId?: string;
}

export type ProblemCode =
  | 'BAD_REQUEST'
  | 'VALIDATION'
  | 'UNAUTHORIZED'
  | 'BANNED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'NO_CREDIT'
  | 'CONFLICT'
  | 'IDEMPOTENCY_MISMATCH'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  /** A wrong, expired or used-up verification code (uauthverify). */
  | 'WRONG_CODE'
  | 'TOO_MANY_REQUESTS';

/**
 * The one table of /v1 outcomes: HTTP status and title per code. `type` is a relative URI that
 * names the code (`/v1/problems/no-credit`), stable for clients to switch on.
 */
export const PROBLEMS: Record<ProblemCode, { status: number; title: string }> = {
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  VALIDATION: { status: 422, title: 'Validation failed' },
  UNAUTHORIZED: { status: 401, title: 'Authentication required' },
  BANNED: { status: 429, title: 'Too many failed authentications' },
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  NO_CREDIT: { status: 402, title: 'Not enough credit' },
  CONFLICT: { status: 409, title: 'Conflict' },
  IDEMPOTENCY_MISMATCH: { status: 422, title: 'Idempotency key reused with a different request' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, title: 'A request with this idempotency key is in progress' },
  TOO_LARGE: { status: 413, title: 'Request too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  INTERNAL: { status: 500, title: 'Internal error' },
  WRONG_CODE: { status: 422, title: 'Verification code refused' },
  TOO_MANY_REQUESTS: { status: 429, title: 'Too many requests' },
};

/**
 * Error codes of other layers (core's SmsfleetError subclasses, the SendService, the Mizu entries)
 * mapped onto /v1 codes. Unknown codes are internal errors.
 */
const FOREIGN_CODES: Record<string, ProblemCode> = {
  BAD_REQUEST: 'VALIDATION',
  VALIDATION: 'VALIDATION',
  INVALID: 'VALIDATION',
  MISSING_NUMBER: 'VALIDATION',
  AUTH: 'UNAUTHORIZED',
  USER_NOT_FOUND: 'UNAUTHORIZED',
  NOT_ALLOWED: 'FORBIDDEN',
  FORBIDDEN: 'FORBIDDEN',
  DISABLED: 'FORBIDDEN',
  NO_CREDIT: 'NO_CREDIT',
  NO_GATEWAY: 'UNAVAILABLE',
  NO_ROUTE: 'VALIDATION',
  TEMPORARY: 'UNAVAILABLE',
  UNAVAILABLE: 'UNAVAILABLE',
  THROTTLED: 'UNAVAILABLE',
  NOT_FOUND: 'NOT_FOUND',
  CODE: 'WRONG_CODE',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
};

export class ProblemError extends Error {
  constructor(
    readonly code: ProblemCode,
    detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
  }
}

function slug(code: ProblemCode): string {
  return code.toLowerCase().replace(/_/g, '-');
}

export function problem(code: ProblemCode, detail: string, errors?: FieldError[]): Problem {
  const p: Problem = { type: `/v1/problems/${slug(code)}`, ...PROBLEMS[code], detail };
  if (errors?.length) p.errors = errors;
  return p;
}

/** Maps anything thrown inside /v1 to a problem document (the one mapping of this edge). */
export function toProblem(err: unknown): Problem {
  if (err instanceof ProblemError) return problem(err.code, err.message, err.errors);
  const e = err as { code?: unknown; message?: unknown; errors?: unknown; status?: unknown; type?: unknown };
  // body-parser errors (bad JSON, too large) carry an HTTP status and a type.
  if (e && typeof e.status === 'number' && typeof e.type === 'string') {
    if (e.type === 'entity.too.large') return problem('TOO_LARGE', 'request body too large');
    if (e.type === 'entity.parse.failed') return problem('BAD_REQUEST', 'request body is not valid JSON');
    if (e.status >= 400 && e.status < 500) return problem('BAD_REQUEST', String(e.message));
  }
  // Other http-errors with a client status, e.g. the router's "Failed to decode param" (a path
  // parameter that is no valid percent-encoding): the client's fault, not an internal error.
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && err instanceof Error) {
    if (e.status === 413) return problem('TOO_LARGE', 'request body too large');
    if (e.status === 415) return problem('UNSUPPORTED_MEDIA_TYPE', String(e.message).slice(0, 200));
    return problem('BAD_REQUEST', String(e.message).slice(0, 200));
  }
  const code = typeof e?.code === 'string' ? FOREIGN_CODES[e.code] : undefined;
  if (code && (err instanceof SmsfleetError || err instanceof Error)) {
    const errors = Array.isArray(e.errors) ? (e.errors as FieldError[]) : undefined;
    return problem(code, String(e.message), errors);
  }
  if (isUnreachableError(err))
    return problem('UNAVAILABLE', 'service temporarily unavailable (database unreachable), try again later');
  return problem('INTERNAL', 'internal error');
}

export function sendProblem(res: express.Response, p: Problem): void {
  res.status(p.status).type('application/problem+json').send(JSON.stringify(p));
}

/** Express error middleware for /v1: every error leaves as a problem document. */
export function problemMiddleware(
  onInternal: (err: unknown, errorId: string) => void,
): express.ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const p = toProblem(err);
    p.instance = req.originalUrl.split('?')[0];
    if (p.status >= 500) {
      p.errorId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      onInternal(err, p.errorId);
    }
    sendProblem(res, p);
  };
}
