import { startHttpSim } from './http-sim.js';

// The simulator as its own process. The only file here that reads the environment or exits.

function log(level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level, time: Date.now(), msg, ...fields })}\n`);
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${name} must be a port number 0..65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

async function main(): Promise<void> {
  const port = portFromEnv('SIM_HTTP_PORT', 9090);
  const host = process.env['SIM_HOST'] || '127.0.0.1';
  const sim = await startHttpSim({ port, host });
  log('info', 'smsc-sim listening', { url: sim.url });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      log('error', 'smsc-sim close timed out');
      process.exit(1);
    }, 5_000);
    deadline.unref();
    sim.close().then(
      () => {
        log('info', 'smsc-sim stopped', { signal });
        process.exit(0);
      },
      (err: unknown) => {
        log('error', 'smsc-sim close failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  log('error', 'smsc-sim failed to start', { err: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
