import { createLogger, envInt, readInfraEnv, runService } from '@smsfleet/runtime';
import { startApiGateway } from './app.js';

const infra = readInfraEnv(process.env);
const log = createLogger('api-gateway', infra.logLevel);
runService(log, () =>
  startApiGateway({
    infra,
    log,
    httpPort: envInt(process.env, 'HTTP_PORT', 8084),
    chunkSize: envInt(process.env, 'CHUNK_SIZE', 200, 1),
    batchWaitMs: envInt(process.env, 'BATCH_WAIT_MS', 5, 0),
    saltWindowSeconds: envInt(process.env, 'AUTHSALT_WINDOW_SECONDS', 86_400, 1),
  }),
);
