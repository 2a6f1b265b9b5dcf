import { createLogger, envInt, readInfraEnv, runService } from '@smsfleet/runtime';
import { startVerifier } from './app.js';

const infra = readInfraEnv(process.env);
const log = createLogger('verifier', infra.logLevel);
runService(log, () =>
  startVerifier({
    infra,
    log,
    httpPort: envInt(process.env, 'HTTP_PORT', 8086),
    receiptMaxAgeMs: envInt(process.env, 'RECEIPT_MAX_AGE_MS', 48 * 3600_000, 1000),
    earlyReceiptTtlMs: envInt(process.env, 'EARLY_RECEIPT_TTL_MS', 600_000, 1000),
    verifyMaxAgeMs: envInt(process.env, 'VERIFY_MAX_AGE_MS', 3600_000, 1000),
    verifyTimeoutMs: envInt(process.env, 'VERIFY_TIMEOUT_MS', 10_000, 100),
    verifyConcurrency: envInt(process.env, 'VERIFY_CONCURRENCY', 32, 1),
    webhookConcurrency: envInt(process.env, 'WEBHOOK_CONCURRENCY', 32, 1),
    webhookTimeoutMs: envInt(process.env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100),
  }),
);
