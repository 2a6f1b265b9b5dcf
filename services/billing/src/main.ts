import { createLogger, envInt, readInfraEnv, runService } from '@smsfleet/runtime';
import { startBilling } from './app.js';

const infra = readInfraEnv(process.env);
const log = createLogger('billing', infra.logLevel);
runService(log, () =>
  startBilling({
    infra,
    log,
    httpPort: envInt(process.env, 'HTTP_PORT', 8087),
    maxBatchMessages: envInt(process.env, 'BILLING_BATCH', 64, 1),
  }),
);
