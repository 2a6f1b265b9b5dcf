import type { Logger } from 'pino';

/**
 * Runs a service's start function and wires SIGTERM/SIGINT to its close function. Used only by
 * main.ts files: the one place that handles signals and exits.
 */
export function runService(log: Logger, start: () => Promise<{ close: () => Promise<string[]> }>): void {
  let stopping = false;
  start().then(
    (svc) => {
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        svc.close().then(
          (errors) => {
            for (const e of errors) log.error({ err: e }, 'shutdown step failed');
            log.info('stopped');
            log.flush(() => process.exit(errors.length ? 1 : 0));
          },
          (err: Error) => {
            log.error({ err }, 'shutdown failed');
            log.flush(() => process.exit(1));
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    },
    (err: Error) => {
      log.fatal({ err }, 'start failed');
      log.flush(() => process.exit(1));
    },
  );
}
