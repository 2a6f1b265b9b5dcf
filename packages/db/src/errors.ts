export type DbErrorCode = 'DUPLICATE' | 'INVALID';

/** The one error type of this package; `code` is stable, `cause` holds the driver error. */
export class DbError extends Error {
  readonly code: DbErrorCode;
  constructor(code: DbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DbError';
    this.code = code;
  }
}

/** MySQL ER_DUP_ENTRY (1062). */
export function isDuplicateKeyError(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    ((err as { errno?: unknown }).errno === 1062 || (err as { code?: unknown }).code === 'ER_DUP_ENTRY')
  );
}
