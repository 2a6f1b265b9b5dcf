import { createLogger, envInt, envString, readInfraEnv, readTlsEnv, runService } from '@smsfleet/runtime';
import { startApiGateway } from './app.js';

const infra = readInfraEnv(process.env);
const log = createLogger('api-gateway', infra.logLevel);
const trustProxy = envString(process.env, 'TRUST_PROXY', '');
runService(log, async () => {
  const tls = readTlsEnv(process.env, 8443);
  return startApiGateway({
    infra,
    log,
    httpPort: envInt(process.env, 'HTTP_PORT', 8084),
    chunkSize: envInt(process.env, 'CHUNK_SIZE', 200, 1),
    batchWaitMs: envInt(process.env, 'BATCH_WAIT_MS', 5, 0),
    saltWindowSeconds: envInt(process.env, 'AUTHSALT_WINDOW_SECONDS', 86_400, 1),
    alertIntervalMs: envInt(process.env, 'ALERT_INTERVAL_MS', 10_000, 100),
    creditHoldRecoveryMs: envInt(process.env, 'CREDIT_HOLD_RECOVERY_MS', 30_000, 1000),
    ...(tls ? { tls } : {}),
    ...(trustProxy ? { trustProxy } : {}),
  });
});
