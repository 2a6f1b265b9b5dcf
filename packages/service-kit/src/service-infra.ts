import { EventBus } from '@smsfleet/bus';
import { ConfigStore } from '@smsfleet/config';
import { ConfigRepo, createDb, type Knex } from '@smsfleet/db';
import { createRedis, type Redis } from '@smsfleet/queue';
import {
  startServiceServer,
  type InfraEnv,
  type Lifecycle,
  type ServiceServer,
  type ServiceServerOptions,
} from '@smsfleet/runtime';

/** What a service connects to at start. MySQL and NATS always; the rest on request. */
export interface ServiceInfraOptions {
  /** Service name: the Redis connection name and the NATS client name. */
  name: string;
  infra: InfraEnv;
  /** The service's HTTP server (health, metrics); leave out when the service starts its own later. */
  http?: ServiceServerOptions;
  redis?: boolean;
  pool: { min: number; max: number };
  /** The typed config snapshot, loaded now and following `config` notifications. */
  config?: boolean;
}

export interface ServiceInfra<O extends ServiceInfraOptions> {
  server: O extends { http: ServiceServerOptions } ? ServiceServer : undefined;
  redis: O extends { redis: true } ? Redis : undefined;
  db: Knex;
  bus: EventBus;
  config: O extends { config: true } ? ConfigStore : undefined;
}

/**
 * Starts the config store over the `config` rows of `db`, following the bus's `config`
 * notifications, and registers its close as the `config` step of `life`.
 */
export async function startConfigStore(life: Lifecycle, db: Knex, bus: EventBus): Promise<ConfigStore> {
  const configRepo = new ConfigRepo(db);
  const config = new ConfigStore({
    load: () => configRepo.getAll(),
    subscribe: (cb) => bus.onNotify('config', cb),
  });
  await config.start();
  life.add('config', () => config.close());
  return config;
}

/**
 * Connects a service's infrastructure in the fixed order HTTP server, Redis, MySQL, NATS, config
 * store, registering each close on `life` as it goes (`http`, `redis`, `mysql`, `nats`, `config`),
 * so shutdown (reverse order) stops the config store first and the HTTP server last.
 */
export async function connectServiceInfra<const O extends ServiceInfraOptions>(
  life: Lifecycle,
  opts: O,
): Promise<ServiceInfra<O>> {
  const { infra, name } = opts;
  let server: ServiceServer | undefined;
  if (opts.http) {
    const s = await startServiceServer(opts.http);
    life.add('http', () => s.close());
    server = s;
  }
  let redis: Redis | undefined;
  if (opts.redis) {
    const r = createRedis(infra.redisUrl, name);
    life.add('redis', async () => void (await r.quit().catch(() => r.disconnect())));
    redis = r;
  }
  const db = createDb(infra.databaseUrl, { pool: opts.pool });
  life.add('mysql', () => db.destroy());
  const bus = await EventBus.connect({ url: infra.natsUrl, prefix: infra.eventPrefix, name });
  life.add('nats', () => bus.close());
  const config = opts.config ? await startConfigStore(life, db, bus) : undefined;
  return { server, redis, db, bus, config } as ServiceInfra<O>;
}
