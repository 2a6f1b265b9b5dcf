import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON-lines logger. Secrets are redacted by path wherever they might appear; message text is
 * masked by the callers unless `LOG_MESSAGE_TEXT` is set by the operator.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password',
        '*.password',
        'authpwd',
        'authkey',
        'authmd5',
        'apiv2key',
        '*.apiv2key',
        'smpp_password',
      ],
      censor: '***',
    },
  });
}
