import fs from 'node:fs';
import { startHttpSim } from './http-sim.js';
import { smppControlRoutes } from './smpp/control-routes.js';
import { startSmppSim, type SmppSim } from './smpp-sim.js';

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

/** A JSON object from the environment (`SIM_BEHAVIOUR`, `SIM_SMPP_BEHAVIOUR`), or undefined. */
function jsonFromEnv(name: string): Record<string, unknown> | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new TypeError(`${name} must be a JSON object, got ${JSON.stringify(raw)}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new TypeError(`${name} must be a JSON object, got ${JSON.stringify(raw)}`);
  return v as Record<string, unknown>;
}

async function main(): Promise<void> {
  // Starting behaviour (the same keys as POST /_sim/behaviour and /_sim/smpp/behaviour).
  const httpBehaviour = jsonFromEnv('SIM_BEHAVIOUR');
  const smppBehaviour = jsonFromEnv('SIM_SMPP_BEHAVIOUR');
  const port = portFromEnv('SIM_HTTP_PORT', 9090);
  const host = process.env['SIM_HOST'] || '127.0.0.1';
  // SMPP is off unless SIM_SMPP_PORT is set (0: an ephemeral port, reported in the log line and
  // at GET /_sim/smpp) or SIM_SMPP=1 (port 2775), so fleets started side by side by tests never
  // fight over 2775.
  let smpp: SmppSim | undefined;
  if ((process.env['SIM_SMPP_PORT'] ?? '') !== '' || process.env['SIM_SMPP'] === '1') {
    const tlsKey = process.env['SIM_SMPP_TLS_KEY'];
    const tlsCert = process.env['SIM_SMPP_TLS_CERT'];
    if ((tlsKey === undefined) !== (tlsCert === undefined)) {
      throw new Error('SIM_SMPP_TLS_KEY and SIM_SMPP_TLS_CERT must be set together');
    }
    smpp = await startSmppSim({
      port: portFromEnv('SIM_SMPP_PORT', 2775),
      host,
      systemId: process.env['SIM_SMPP_SYSTEM_ID'] || 'smsfleet',
      password: process.env['SIM_SMPP_PASSWORD'] || 'smsfleet',
      ...(process.env['SIM_SMPP_JOURNAL'] ? { journalPath: process.env['SIM_SMPP_JOURNAL'] } : {}),
      ...(smppBehaviour ? { behaviour: smppBehaviour } : {}),
      ...(tlsKey !== undefined && tlsCert !== undefined
        ? { tls: { key: fs.readFileSync(tlsKey, 'utf8'), cert: fs.readFileSync(tlsCert, 'utf8') } }
        : {}),
    });
    log('info', 'smsc-sim smpp listening', { host, port: smpp.port, tls: smpp.tls, systemId: smpp.systemId });
  }
  const http = await startHttpSim({
    port,
    host,
    routes: smppControlRoutes(smpp),
    ...(httpBehaviour ? { behaviour: httpBehaviour } : {}),
  });
  log('info', 'smsc-sim listening', { url: http.url });
  const sim = {
    close: async (): Promise<void> => {
      await Promise.allSettled([http.close(), smpp?.close()]);
    },
  };

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
