import { Redis } from 'ioredis';

export { Redis };

/** An ioredis connection as BullMQ wants it (`maxRetriesPerRequest: null`, ready check on). */
export function createRedis(url: string, name?: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
    lazyConnect: false,
  });
}
