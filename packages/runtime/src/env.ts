/** Reading and validating the environment; only services' main.ts files call these. */
export class EnvError extends Error {
  readonly code = 'BAD_ENV';
}

export function envString(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new EnvError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

export function envUrl(env: NodeJS.ProcessEnv, name: string, fallback: string, protocols: string[]): string {
  const v = envString(env, name, fallback);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new EnvError(`${name} is not a valid URL: "${v}"`);
  }
  if (!protocols.includes(u.protocol))
    throw new EnvError(`${name} must use ${protocols.join(' or ')}, got "${u.protocol}"`);
  return v;
}

/** The infrastructure contract of design.md, with developer-machine defaults. */
export interface InfraEnv {
  redisUrl: string;
  databaseUrl: string;
  natsUrl: string;
  /** Queue key prefix (BullMQ `prefix`), for isolating tests and tenants. */
  queuePrefix: string;
  /** Prefix of every NATS subject and JetStream stream name, for isolation. */
  eventPrefix: string;
  logLevel: string;
}

export function readInfraEnv(env: NodeJS.ProcessEnv): InfraEnv {
  const eventPrefix = envString(env, 'EVENT_PREFIX', '');
  if (!/^[A-Za-z0-9_-]*$/.test(eventPrefix))
    throw new EnvError('EVENT_PREFIX may hold only letters, digits, _ and -');
  return {
    redisUrl: envUrl(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    databaseUrl: envUrl(env, 'DATABASE_URL', 'mysql://root@127.0.0.1:3306/smsfleet', ['mysql:']),
    natsUrl: envUrl(env, 'NATS_URL', 'nats://127.0.0.1:4222', ['nats:', 'tls:']),
    queuePrefix: envString(env, 'QUEUE_PREFIX', 'sf'),
    eventPrefix,
    logLevel: envString(env, 'LOG_LEVEL', 'info'),
  };
}
