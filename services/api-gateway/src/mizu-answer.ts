/**
 * The one table that maps outcomes of the Mizu API to its answers: the `ERROR <reason>` text, the
 * HTTP status used when `httpstrictresponse` is on (mizu-notes.md), and the JSON form.
 */
export type MizuErrorCode =
  | 'AUTH'
  | 'USER_NOT_FOUND'
  | 'NOT_ALLOWED'
  | 'UNKNOWN_ENTRY'
  | 'BAD_REQUEST'
  | 'MISSING_NUMBER'
  | 'NO_CREDIT'
  | 'DISABLED'
  | 'NO_GATEWAY'
  | 'FAILED'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  /** A wrong, expired or used-up verification code (Mizu's "PIN errors"). */
  | 'CODE'
  /** Too many requests (verification codes): ours, Mizu has no code for it. */
  | 'RATE_LIMITED';

const STRICT_STATUS: Record<MizuErrorCode, number> = {
  AUTH: 403,
  USER_NOT_FOUND: 404,
  NOT_ALLOWED: 403,
  UNKNOWN_ENTRY: 406,
  BAD_REQUEST: 406,
  MISSING_NUMBER: 421,
  NO_CREDIT: 402,
  DISABLED: 412,
  NO_GATEWAY: 412,
  FAILED: 412,
  TIMEOUT: 412,
  UNAVAILABLE: 503,
  CODE: 420,
  RATE_LIMITED: 429,
};

export class MizuError extends Error {
  constructor(
    readonly code: MizuErrorCode,
    message: string,
    /** Extra fields of the JSON answer (e.g. the smsid and state of a failed sync send). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface MizuAnswer {
  status: number;
  contentType: string;
  body: string;
}

export function okAnswer(
  fields: { smsid: string } | { smsids: string[] },
  json: boolean,
  /** Extra fields of the JSON answer (e.g. the final state of a sync send). */
  details?: Record<string, unknown>,
): MizuAnswer {
  const ids = 'smsid' in fields ? [fields.smsid] : fields.smsids;
  if (json) {
    const body =
      'smsid' in fields ? { status: 'OK', smsid: fields.smsid } : { status: 'OK', smsids: fields.smsids };
    return {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify(details ? { ...body, ...details } : body),
    };
  }
  return { status: 200, contentType: 'text/plain; charset=utf-8', body: `OK ${ids.join(',')}` };
}

export function errorAnswer(err: MizuError, json: boolean, strict: boolean): MizuAnswer {
  // The service being unavailable is never a 200: clients and load balancers must retry elsewhere.
  const status = strict || err.code === 'UNAVAILABLE' ? STRICT_STATUS[err.code] : 200;
  if (json) {
    return {
      status,
      contentType: 'application/json',
      body: JSON.stringify({ status: 'ERROR', code: err.code, error: err.message, ...err.details }),
    };
  }
  return { status, contentType: 'text/plain; charset=utf-8', body: `ERROR ${err.message}` };
}
