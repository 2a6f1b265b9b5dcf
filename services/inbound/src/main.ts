import { createLogger, envInt, readInfraEnv, readTlsEnv, runService } from '@smsfleet/runtime';
import { startInbound } from './app.js';

const infra = readInfraEnv(process.env);
const log = createLogger('inbound', infra.logLevel);
runService(log, async () => {
  const tls = readTlsEnv(process.env, 8448);
  return startInbound({
    infra,
    log,
    httpPort: envInt(process.env, 'HTTP_PORT', 8088),
    maxBatchMessages: envInt(process.env, 'INBOUND_BATCH', 64, 1),
    emailGiveUpMs: envInt(process.env, 'INBOUND_EMAIL_GIVE_UP_MS', 3_600_000, 0),
    retryDelayMs: envInt(process.env, 'INBOUND_RETRY_DELAY_MS', 2_000, 0),
    partTtlMs: envInt(process.env, 'INBOUND_PART_TTL_MS', 3_600_000, 1_000),
    ...(tls ? { tls } : {}),
  });
});
