import path from 'node:path';
import { createLogger, envInt, envString, readInfraEnv, runService } from '@smsfleet/runtime';
import { startDispatcher } from './app.js';

const infra = readInfraEnv(process.env);
const log = createLogger('dispatcher', infra.logLevel);
runService(log, () =>
  startDispatcher({
    infra,
    log,
    httpPort: envInt(process.env, 'HTTP_PORT', 8085),
    gateways: envString(process.env, 'GATEWAYS', '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number),
    chunkConcurrency: envInt(process.env, 'CHUNK_CONCURRENCY', 4, 1),
    maxParallelPerGateway: envInt(process.env, 'GATEWAY_MAX_PARALLEL', 64, 1),
    lockDurationMs: envInt(process.env, 'LOCK_DURATION_MS', 30_000, 1000),
    stalledIntervalMs: envInt(process.env, 'STALLED_INTERVAL_MS', 15_000, 500),
    maxAttempts: envInt(process.env, 'SEND_MAX_ATTEMPTS', 5, 1),
    retryBaseDelayMs: envInt(process.env, 'RETRY_BASE_DELAY_MS', 1000, 1),
    gatewayRefreshMs: envInt(process.env, 'GATEWAY_REFRESH_MS', 5000, 100),
    // smssenddata.txt, smssendheader.txt and their _ID variants (the seed's "server app folder").
    filesDir: path.resolve(envString(process.env, 'SMS_FILES_DIR', path.join('.smsfleet', 'files'))),
    breakerThreshold: envInt(process.env, 'BREAKER_THRESHOLD', 20, 1),
    breakerOpenMs: envInt(process.env, 'BREAKER_OPEN_MS', 30_000, 1),
  }),
);
