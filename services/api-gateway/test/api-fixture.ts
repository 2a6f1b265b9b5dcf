/**
 * Test helper (not built into dist): the setup the api-gateway's integration tests share. A fresh
 * MariaDB database, a Redis connection and (when asked) an EventBus, all under a prefix unique to
 * the test file; api-gateway instances started in-process on that infrastructure; and a teardown
 * that closes the instances, deletes the NATS stream and the Redis keys under the prefix and drops
 * the database.
 *
 *   const fx = apiFixture({ tag: 'mizu', bus: true });
 *   beforeAll(() => fx.start(), 60_000);
 *   afterAll(() => fx.close(), 60_000);
 */
import { randomBytes } from 'node:crypto';
import { EventBus } from '@smsfleet/bus';
import {
  ConfigRepo,
  UsersRepo,
  createDb,
  dropDatabase,
  ensureDatabase,
  migrate,
  type Knex,
} from '@smsfleet/db';
import type { Chunk, OutboundSms } from '@smsfleet/core';
import { Queue, createRedis, type Redis } from '@smsfleet/queue';
import { createLogger, type InfraEnv } from '@smsfleet/runtime';
import { startApiGateway, type ApiGatewayOptions } from '../src/app.js';

export type ApiApp = Awaited<ReturnType<typeof startApiGateway>>;

export interface ApiFixtureOptions {
  /** Short name of the test file: the database is `smsfleet_t_<tag>_<random>`, the prefixes `t<tag><random>`. */
  tag: string;
  /** Largest size of the test's own MariaDB pool (default 4). */
  pool?: number;
  /** Connect an EventBus on the test's event prefix (default false). */
  bus?: boolean;
}

export interface ApiFixture {
  /** The random part of every name this fixture makes. */
  readonly sfx: string;
  readonly infra: InfraEnv;
  /** These throw until start() has run (and `bus` unless the fixture was made with `bus: true`). */
  readonly db: Knex;
  readonly redis: Redis;
  readonly bus: EventBus;
  readonly users: UsersRepo;
  /** Creates and migrates the database, connects Redis and the EventBus. */
  start(): Promise<void>;
  /** Sets config rows; with `replace`, every other row is deleted first. */
  setConfig(rows: Record<string, string>, opts?: { replace?: boolean }): Promise<void>;
  /** Starts an api-gateway in-process on this fixture's infrastructure (HTTP on a free port). */
  startApp(opts?: Partial<ApiGatewayOptions>): Promise<ApiApp>;
  /** Closes every api-gateway this fixture started. */
  stopApps(): Promise<void>;
  /** stopApps(), then replaces the config rows with `rows` and starts one api-gateway. */
  restartApp(rows: Record<string, string>, opts?: Partial<ApiGatewayOptions>): Promise<ApiApp>;
  /** The messages in the queue of gateway `gatewayId` not sent yet (no dispatcher runs in these tests). */
  queued(gatewayId: number): Promise<OutboundSms[]>;
  /** stopApps(), then deletes the stream, the Redis keys under the prefix and the database. */
  close(): Promise<void>;
}

const BASE_URL = (process.env.TEST_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');

export function apiFixture(opts: ApiFixtureOptions): ApiFixture {
  const sfx = randomBytes(4).toString('hex');
  const infra: InfraEnv = {
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    databaseUrl: `${BASE_URL}/smsfleet_t_${opts.tag}_${sfx}`,
    queuePrefix: `t${opts.tag}${sfx}`,
    eventPrefix: `t${opts.tag}${sfx}`,
    logLevel: 'silent',
  };
  let db: Knex | undefined;
  let redis: Redis | undefined;
  let bus: EventBus | undefined;
  let users: UsersRepo | undefined;
  const apps: ApiApp[] = [];
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined)
      throw new Error(`api fixture: ${what} is not available (start() not run, or not asked for)`);
    return v;
  };

  async function stopApps(): Promise<void> {
    for (const app of apps.splice(0)) await app.close();
  }

  async function setConfig(rows: Record<string, string>, { replace = false } = {}): Promise<void> {
    const repo = new ConfigRepo(need(db, 'db'));
    if (replace) for (const k of Object.keys(await repo.getAll())) await repo.delete(k);
    for (const [k, v] of Object.entries(rows)) await repo.set(k, v);
  }

  async function startApp(overrides: Partial<ApiGatewayOptions> = {}): Promise<ApiApp> {
    const app = await startApiGateway({
      infra,
      httpPort: 0,
      log: createLogger('api-gateway-test', 'silent'),
      chunkSize: 200,
      batchWaitMs: 2,
      saltWindowSeconds: 60,
      ...overrides,
    });
    apps.push(app);
    return app;
  }

  return {
    sfx,
    infra,
    get db() {
      return need(db, 'db');
    },
    get redis() {
      return need(redis, 'redis');
    },
    get bus() {
      return need(bus, 'bus');
    },
    get users() {
      return need(users, 'users');
    },
    async start() {
      await ensureDatabase(infra.databaseUrl);
      db = createDb(infra.databaseUrl, { pool: { min: 0, max: opts.pool ?? 4 } });
      await migrate(db);
      users = new UsersRepo(db);
      redis = createRedis(infra.redisUrl, 'test');
      if (opts.bus)
        bus = await EventBus.connect({ url: infra.natsUrl, prefix: infra.eventPrefix, name: 'test' });
    },
    setConfig,
    startApp,
    stopApps,
    async queued(gatewayId) {
      const q = new Queue<Chunk>(`gw-${gatewayId}`, {
        connection: need(redis, 'redis'),
        prefix: infra.queuePrefix,
      });
      const jobs = await q.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
      await q.close();
      return jobs.flatMap((j) => j.data.messages);
    },
    async restartApp(rows, overrides) {
      await stopApps();
      await setConfig(rows, { replace: true });
      return startApp(overrides);
    },
    async close() {
      await stopApps();
      if (bus) {
        await bus.deleteStream();
        await bus.close();
      }
      if (redis) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${infra.queuePrefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await redis.del(...keys);
        } while (cursor !== '0');
        await redis.quit();
      }
      await db?.destroy();
      await dropDatabase(infra.databaseUrl).catch(() => undefined);
    },
  };
}
