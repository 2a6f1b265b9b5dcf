import { pino, type Logger } from 'pino';
import { maskCredentials } from '@smsfleet/core';

export type { Logger };

/**
 * Fields that hold secrets: pino's compiled `redact` replaces them with `[redacted]` at the top
 * level of a log line and under the few containers named below. No `*.` wildcards: those cost
 * about 30 µs on every line (measured), top-level paths cost nothing measurable.
 */
export const REDACTED_FIELDS = [
  'password',
  'passwd',
  'pwd',
  'authpwd',
  'authkey',
  'authmd5',
  'apiv2key',
  'apiKey',
  'token',
  'secret',
  'webhookSecret',
  'smpp_password',
  'smpp_sslpwd',
  'smtppassword',
  'authorization',
  'cookie',
];
const REDACT_PATHS = [
  ...REDACTED_FIELDS,
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'query.authpwd',
  'query.authkey',
  'params.authpwd',
  'params.authkey',
  'body.password',
  'user.password',
];

/** Errors (objects or messages) with credentials in URLs and SMPP strings masked. */
function errSerializer(e: unknown): unknown {
  if (typeof e === 'string') return maskCredentials(e);
  if (e instanceof Error) {
    const out = pino.stdSerializers.err(e) as unknown as Record<string, unknown>;
    if (typeof out.message === 'string') out.message = maskCredentials(out.message);
    if (typeof out.stack === 'string') out.stack = maskCredentials(out.stack);
    return out;
  }
  return e;
}

/** pino options shared by every service logger (exported for tests). */
export function loggerOptions(service: string, level = 'info'): pino.LoggerOptions {
  return {
    level,
    base: { service, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errSerializer, error: errSerializer, reason: errSerializer, url: errSerializer },
  };
}

/**
 * JSON-lines logger on a buffered asynchronous stdout: one log line per message state would
 * otherwise cost one write syscall each. Callers must not put secrets in log fields; as a safety
 * net, secret-named fields are redacted and URLs in `err`, `error`, `reason` and `url` masked
 * (serializers run only on lines that carry those keys).
 */
export function createLogger(service: string, level = 'info'): Logger {
  const log = pino(
    loggerOptions(service, level),
    pino.destination({ dest: 1, sync: false, minLength: 8192 }),
  );
  // A quiet service must not keep its last lines in the buffer.
  setInterval(() => log.flush(), 500).unref();
  return log;
}
