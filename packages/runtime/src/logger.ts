import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON-lines logger on a buffered asynchronous stdout: one log line per message state would
 * otherwise cost one write syscall each. Callers never put secrets in log fields (there is no
 * redaction pass to pay for on every line) and mask message text.
 */
export function createLogger(service: string, level = 'info'): Logger {
  const log = pino(
    { level, base: { service, pid: process.pid } },
    pino.destination({ dest: 1, sync: false, minLength: 8192 }),
  );
  // A quiet service must not keep its last lines in the buffer.
  setInterval(() => log.flush(), 500).unref();
  return log;
}
