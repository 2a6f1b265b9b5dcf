import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedis, type Redis } from './redis.js';
import { ChunkProgress } from './chunk-progress.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

describe('ChunkProgress on Redis', () => {
  let redis: Redis;
  let prefix: string;

  beforeAll(() => {
    redis = createRedis(REDIS_URL, 'progress-int-test');
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = `t-${randomUUID().slice(0, 8)}`;
  });
  afterEach(async () => {
    const keys = await keysOf(redis, prefix);
    if (keys.length) await redis.del(...keys);
  });

  it('record / load / clear round trip', async () => {
    const p = new ChunkProgress(redis, prefix);
    const chunkId = randomUUID();
    expect(await p.load(chunkId)).toEqual(new Map());

    const v1 = JSON.stringify({ r: 'ok', at: 1, id: 'P-1' });
    const v2 = JSON.stringify({ r: 'temp', at: 2, reason: 'timeout' });
    await p.record(chunkId, [
      ['sms-1', v1],
      ['sms-2', v2],
    ]);
    // Later records add to what is there and overwrite the same smsid.
    const v2b = JSON.stringify({ r: 'ok', at: 3, id: 'P-2' });
    await p.record(chunkId, [
      ['sms-2', v2b],
      ['sms-3', 'x'],
    ]);
    expect(await p.load(chunkId)).toEqual(
      new Map([
        ['sms-1', v1],
        ['sms-2', v2b],
        ['sms-3', 'x'],
      ]),
    );

    await p.clear(chunkId);
    expect(await p.load(chunkId)).toEqual(new Map());
    expect(await keysOf(redis, prefix)).toEqual([]);
  });

  it('keeps chunks and prefixes apart', async () => {
    const p = new ChunkProgress(redis, prefix);
    const other = new ChunkProgress(redis, `${prefix}:other`);
    await p.record('c1', [['a', '1']]);
    await p.record('c2', [['b', '2']]);
    await other.record('c1', [['z', '9']]);
    expect(await p.load('c1')).toEqual(new Map([['a', '1']]));
    expect(await p.load('c2')).toEqual(new Map([['b', '2']]));
    expect(await other.load('c1')).toEqual(new Map([['z', '9']]));
    await p.clear('c1');
    expect(await p.load('c2')).toEqual(new Map([['b', '2']]));
    expect(await other.load('c1')).toEqual(new Map([['z', '9']]));
  });

  it('recording nothing writes nothing', async () => {
    const p = new ChunkProgress(redis, prefix);
    await p.record('c-empty', []);
    expect(await keysOf(redis, prefix)).toEqual([]);
    // Clearing a chunk that has no progress is fine.
    await expect(p.clear('c-empty')).resolves.toBeUndefined();
  });

  it('sets a TTL on the progress hash (7 days by default, refreshed by each record)', async () => {
    const p = new ChunkProgress(redis, prefix);
    await p.record('c-ttl', [['a', '1']]);
    const [key] = await keysOf(redis, prefix);
    expect(key).toBeDefined();
    const ttl = await redis.ttl(key!);
    expect(ttl).toBeGreaterThan(7 * 24 * 3600 - 10);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600);

    const short = new ChunkProgress(redis, prefix, 60);
    await short.record('c-short', [['a', '1']]);
    const shortKey = (await keysOf(redis, prefix)).find((k) => k !== key)!;
    expect(await redis.ttl(shortKey)).toBeGreaterThan(50);
    expect(await redis.ttl(shortKey)).toBeLessThanOrEqual(60);

    // Each record refreshes the TTL.
    await redis.expire(shortKey, 5);
    await short.record('c-short', [['b', '2']]);
    expect(await redis.ttl(shortKey)).toBeGreaterThan(50);
  });

  it('progress really expires', async () => {
    const p = new ChunkProgress(redis, prefix, 1);
    await p.record('c-exp', [['a', '1']]);
    expect((await p.load('c-exp')).size).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await p.load('c-exp')).toEqual(new Map());
  });
});
