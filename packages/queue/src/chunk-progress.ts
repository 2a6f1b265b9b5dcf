import type { Redis } from 'ioredis';

/**
 * What a chunk has already handed to the provider, kept in Redis beside the job. A chunk retried
 * after a crash reads it and resends only the rest. Values are opaque strings (JSON of a result).
 */
export class ChunkProgress {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {}

  private key(chunkId: string): string {
    return `${this.prefix}:chunk-progress:${chunkId}`;
  }

  async load(chunkId: string): Promise<Map<string, string>> {
    const all = await this.redis.hgetall(this.key(chunkId));
    return new Map(Object.entries(all));
  }

  async record(chunkId: string, entries: [smsid: string, value: string][]): Promise<void> {
    if (entries.length === 0) return;
    const key = this.key(chunkId);
    const args: string[] = [];
    for (const [k, v] of entries) args.push(k, v);
    await this.redis
      .multi()
      .hset(key, ...args)
      .expire(key, this.ttlSeconds)
      .exec();
  }

  async clear(chunkId: string): Promise<void> {
    await this.redis.del(this.key(chunkId));
  }
}
