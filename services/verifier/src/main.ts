import { createLogger, envInt, readInfraEnv, runService } from '@smsfleet/runtime';
import { startVerifier } from './app.js';

const infra = readInfraEnv(process.env);
const log = createLogger('verifier', infra.logLevel);
runService(log, () => startVerifier({ infra, log, httpPort: envInt(process.env, 'HTTP_PORT', 8086) }));
