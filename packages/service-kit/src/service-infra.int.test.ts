import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Lifecycle, createMetricsRegistry, type InfraEnv } from '@smsfleet/runtime';
import { createTestDb, type TestDb } from '../../db/test/test-db.js';
import { connectServiceInfra } from './service-infra.js';

/** A Lifecycle that remembers the order steps were added and closed in. */
class RecordingLifecycle extends Lifecycle {
  readonly added: string[] = [];
  readonly closed: string[] = [];
  override add(name: string, close: () => Promise<void> | void): void {
    this.added.push(name);
    super.add(name, async () => {
      this.closed.push(name);
      await close();
    });
  }
}

const id = randomBytes(4).toString('hex');
let tdb: TestDb;
let infra: InfraEnv;

beforeAll(async () => {
  tdb = await createTestDb();
  infra = {
    redisUrl: process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    databaseUrl: tdb.url,
    natsUrl: process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222',
    queuePrefix: `skt-${id}`,
    eventPrefix: `skt${id}`,
    logLevel: 'silent',
  };
});
afterAll(async () => {
  await tdb?.close();
});

describe('connectServiceInfra', () => {
  test('connects everything in order and closes it in reverse', async () => {
    const life = new RecordingLifecycle();
    const registry = createMetricsRegistry('service-kit-test');
    const { server, redis, db, bus, config } = await connectServiceInfra(life, {
      name: 'service-kit-test',
      infra,
      http: { port: 0, registry, ready: () => true },
      redis: true,
      pool: { min: 0, max: 1 },
      config: true,
    });
    expect(life.added).toEqual(['http', 'redis', 'mysql', 'nats', 'config']);
    const health = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(health.status).toBe(200);
    expect(await redis.ping()).toBe('PONG');
    const [rows] = (await db.raw('SELECT 1 AS one')) as [{ one: number }[]];
    expect(rows[0]?.one).toBe(1);
    expect(config.current()).toBeDefined();
    expect(bus).toBeDefined();

    expect(await life.close()).toEqual([]);
    expect(life.closed).toEqual(['config', 'nats', 'mysql', 'redis', 'http']);
    await expect(redis.ping()).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
  });

  test('leaves out what is not asked for', async () => {
    const life = new RecordingLifecycle();
    const infraHandles = await connectServiceInfra(life, {
      name: 'service-kit-test',
      infra,
      pool: { min: 0, max: 1 },
    });
    expect(life.added).toEqual(['mysql', 'nats']);
    expect(infraHandles.server).toBeUndefined();
    expect(infraHandles.redis).toBeUndefined();
    expect(infraHandles.config).toBeUndefined();
    expect(await life.close()).toEqual([]);
    expect(life.closed).toEqual(['nats', 'mysql']);
  });
});
