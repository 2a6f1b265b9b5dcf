import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus } from '@smsfleet/bus';
import { DbProxy, PrivateNats, PrivateRedis } from './private-infra.js';

describe('private infrastructure for fault tests', () => {
  const redis = new PrivateRedis({ appendfsync: 'always' });
  const nats = new PrivateNats();
  afterAll(async () => {
    await Promise.allSettled([redis.stop(), nats.stop()]);
  });

  it('Redis with AOF: every acknowledged write survives kill -9 and a restart on the same port', async () => {
    await redis.start();
    expect(redis.port).not.toBe(6379);
    const c = new Redis(redis.url, { maxRetriesPerRequest: null });
    const n = 2000;
    await Promise.all(Array.from({ length: n }, (_, i) => c.hset('h', `f${i}`, String(i))));
    const port = redis.port;
    await redis.kill();
    expect(redis.running).toBe(false);
    await redis.start();
    expect(redis.port).toBe(port);
    // The client reconnects by itself.
    expect(await c.hlen('h')).toBe(n);
    c.disconnect();
  });

  it('NATS with JetStream file storage: acknowledged events survive kill -9 and a restart', async () => {
    await nats.start();
    expect(nats.port).not.toBe(4222);
    const bus = await EventBus.connect({ url: nats.url, prefix: 'pi' });
    await Promise.all(Array.from({ length: 500 }, (_, i) => bus.publish('final', [{ i }], `m${i}`)));
    await nats.restart();
    const seen = new Set<number>();
    const c = await bus.consume<{ i: number }>('probe', 'final', (events) => {
      for (const e of events) seen.add(e.i);
      return Promise.resolve();
    });
    const until = Date.now() + 20_000;
    while (seen.size < 500 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await c.stop();
    await bus.close();
    expect(seen.size).toBe(500);
  });

  it('DbProxy cuts open connections and refuses new ones until restored', async () => {
    const target = net.createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const proxy = await new DbProxy().start({
      host: '127.0.0.1',
      port: (target.address() as net.AddressInfo).port,
    });
    expect(proxy.via('mysql://root@127.0.0.1:3306/db1')).toBe(`mysql://root@127.0.0.1:${proxy.port}/db1`);
    const echo = (): Promise<string> =>
      new Promise((resolve) => {
        const s = net.connect(proxy.port, '127.0.0.1', () => s.write('ping'));
        s.on('data', (d) => {
          resolve(d.toString());
          s.destroy();
        });
        s.on('close', () => resolve('closed'));
        s.on('error', () => undefined);
      });
    expect(await echo()).toBe('ping');
    proxy.cut();
    expect(await echo()).toBe('closed');
    proxy.restore();
    expect(await echo()).toBe('ping');
    await proxy.close();
    await new Promise<void>((r) => target.close(() => r()));
  });
});
