import { envInt, envString, createLogger, readInfraEnv, runService } from '@smsfleet/runtime';
import { startSipGateway } from './app.js';

const env = process.env;
const infra = readInfraEnv(env);
const log = createLogger('sip-gateway', infra.logLevel);
const host = envString(env, 'SIP_HOST', '0.0.0.0');
const advertised = envString(
  env,
  'SIP_ADVERTISED_HOST',
  host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host,
);
runService(log, () =>
  startSipGateway({
    infra,
    log,
    httpPort: envInt(env, 'HTTP_PORT', 8089),
    sip: {
      host,
      port: envInt(env, 'SIP_PORT', 5060),
      tlsPort: envInt(env, 'SIP_TLS_PORT', 5061),
      tlsCertFile: envString(env, 'SIP_TLS_CERT_FILE', '') || undefined,
      tlsKeyFile: envString(env, 'SIP_TLS_KEY_FILE', '') || undefined,
      tlsVerifyPeer: envString(env, 'SIP_TLS_VERIFY_PEER', 'true') !== 'false',
      advertisedHost: advertised,
      realm: envString(env, 'SIP_REALM', advertised),
    },
    apiUrl: envString(env, 'SIP_API_URL', 'http://127.0.0.1:8084/mvapireq/'),
    apiTimeoutMs: envInt(env, 'SIP_API_TIMEOUT_MS', 10_000, 100),
    secretKeyText: envString(env, 'SMSFLEET_SECRET_KEY', '') || undefined,
    nonceTtlMs: envInt(env, 'SIP_NONCE_TTL_S', 300, 10) * 1000,
    maxBodyBytes: envInt(env, 'SIP_MAX_BODY_BYTES', 2000, 1),
    minExpiresS: envInt(env, 'SIP_MIN_EXPIRES_S', 60, 1),
    maxExpiresS: envInt(env, 'SIP_MAX_EXPIRES_S', 3600, 1),
    defaultExpiresS: envInt(env, 'SIP_DEFAULT_EXPIRES_S', 3600, 1),
    chat: {
      attempts: envInt(env, 'SIP_CHAT_ATTEMPTS', 3, 1),
      retryDelayMs: envInt(env, 'SIP_CHAT_RETRY_DELAY_MS', 2_000, 0),
      t1Ms: envInt(env, 'SIP_T1_MS', 500, 10),
      timeoutMs: envInt(env, 'SIP_TRANSACTION_TIMEOUT_MS', 32_000, 100),
    },
  }),
);
