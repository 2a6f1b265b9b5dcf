import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (packages/cli/{src,dist}/ is two levels below it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Pid files and logs of `smsfleet up`; SMSFLEET_HOME moves them (tests run fleets side by side). */
export const STATE_DIR = process.env.SMSFLEET_HOME || path.join(REPO_ROOT, '.smsfleet');
export const RUN_DIR = path.join(STATE_DIR, 'run');
export const LOG_DIR = path.join(STATE_DIR, 'logs');

export const FLEET_PROCESSES = [
  { name: 'smsc-sim', entry: 'packages/smsc-sim/dist/main.js', portEnv: 'SIM_HTTP_PORT', defaultPort: 9090 },
  {
    name: 'api-gateway',
    entry: 'services/api-gateway/dist/main.js',
    portEnv: 'HTTP_PORT',
    defaultPort: 8084,
  },
  { name: 'dispatcher', entry: 'services/dispatcher/dist/main.js', portEnv: 'HTTP_PORT', defaultPort: 8085 },
  { name: 'verifier', entry: 'services/verifier/dist/main.js', portEnv: 'HTTP_PORT', defaultPort: 8086 },
  { name: 'billing', entry: 'services/billing/dist/main.js', portEnv: 'HTTP_PORT', defaultPort: 8087 },
  { name: 'inbound', entry: 'services/inbound/dist/main.js', portEnv: 'HTTP_PORT', defaultPort: 8088 },
  // SIP MESSAGE to SMS: SIP on SIP_PORT (5060, UDP and TCP); 8089 is its health/metrics port.
  {
    name: 'sip-gateway',
    entry: 'services/sip-gateway/dist/main.js',
    portEnv: 'HTTP_PORT',
    defaultPort: 8089,
  },
] as const;
