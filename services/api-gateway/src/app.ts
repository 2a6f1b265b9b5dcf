import express from 'express';
import { EventBus } from '@smsfleet/bus';
import { ConfigStore } from '@smsfleet/config';
import { createDb, ConfigRepo, UsersRepo } from '@smsfleet/db';
import { ChunkProducer, createRedis } from '@smsfleet/queue';
import { OpsStatsWriter } from '@smsfleet/queue';
import {
  Counter,
  Lifecycle,
  createMetricsRegistry,
  startServiceServer,
  type InfraEnv,
  type Logger,
} from '@smsfleet/runtime';
import { AcceptPipeline } from './accept-pipeline.js';
import type { ApiContext } from './api-context.js';
import { createMizuHandler } from './mizu-route.js';
import { ROUTE_MODULES } from './routes.js';
import { UserCache } from './user-cache.js';
import { RoutingCache } from './routing-cache.js';

export interface ApiGatewayOptions {
  infra: InfraEnv;
  httpPort: number;
  log: Logger;
  chunkSize: number;
  batchWaitMs: number;
  saltWindowSeconds: number;
}

/**
 * The api-gateway: the Mizu API on a bare request listener (hot path), everything else on Express,
 * both on one node:http server that also serves /healthz, /readyz and /metrics.
 */
export async function startApiGateway(
  opts: ApiGatewayOptions,
): Promise<{ close: () => Promise<string[]>; port: number }> {
  const { infra, log } = opts;
  const life = new Lifecycle();
  let ready = false;
  const registry = createMetricsRegistry('api-gateway');
  const accepted = new Counter({
    name: 'smsfleet_messages_accepted_total',
    help: 'Messages accepted and queued',
    labelNames: ['gateway'],
    registers: [registry],
  });
  const segments = new Counter({
    name: 'smsfleet_segments_accepted_total',
    help: 'Segments of accepted messages',
    labelNames: ['gateway'],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'smsfleet_api_errors_total',
    help: 'Mizu API requests answered ERROR',
    labelNames: ['code'],
    registers: [registry],
  });

  const redis = createRedis(infra.redisUrl, 'api-gateway');
  life.add('redis', async () => void (await redis.quit().catch(() => redis.disconnect())));
  const db = createDb(infra.databaseUrl, { pool: { min: 0, max: 4 } });
  life.add('mysql', () => db.destroy());
  const bus = await EventBus.connect({ url: infra.natsUrl, prefix: infra.eventPrefix, name: 'api-gateway' });
  life.add('nats', () => bus.close());
  const configRepo = new ConfigRepo(db);
  const users = new UsersRepo(db);
  const config = new ConfigStore({
    load: () => configRepo.getAll(),
    subscribe: (cb) => bus.onNotify('config', cb),
  });
  await config.start();
  life.add('config', () => config.close());

  const userCache = new UserCache((name) => users.findByName(name).then((u) => u ?? undefined));
  // The gateway list now lives in RoutingCache (below), refreshed on `gateways` as before.
  const unsubUsers = bus.onNotify('users', () => userCache.clear());
  life.add('caches', () => {
    unsubUsers();
  });

  // Routing rules and prices in memory (routing issue): refreshed on notify and by a poll.
  const routing = await RoutingCache.start(db, bus, log);
  life.add('routing', () => routing.close());
  const producer = new ChunkProducer({ connection: redis, prefix: infra.queuePrefix });
  life.add('producer', () => producer.close());
  // Fleet-wide figures for the ops dashboard (Redis time buckets shared by every replica).
  const opsStats = new OpsStatsWriter(redis, infra.queuePrefix, {
    onError: (err) => log.warn({ err: (err as Error).message }, 'ops stats not written'),
  });
  life.add('ops-stats', () => opsStats.close());
  const pipeline = new AcceptPipeline({
    addChunks: (chunks) => producer.addChunks(chunks),
    publishAccepted: (events, msgId) => bus.publish('accepted', events, msgId),
    chunkSize: opts.chunkSize,
    batchWaitMs: opts.batchWaitMs,
    onPublishError: (err) => log.warn({ err: (err as Error).message }, 'accepted event not published'),
    onAccepted: (msgs) => {
      for (const m of msgs) {
        const gateway = String(m.gatewayId);
        accepted.inc({ gateway });
        segments.inc({ gateway }, m.segments);
        opsStats.count(m.gatewayId, 'accepted');
        opsStats.total(m.gatewayId, 'accepted', 1);
        log.info(
          { smsid: m.smsid, gatewayId: m.gatewayId, state: 'accepted', userId: m.userId },
          'sms state',
        );
      }
    },
  });

  // Steps added by routes run before the infrastructure closes (reverse order).
  const routeSteps = new Lifecycle();
  life.add('routes', async () => void (await routeSteps.close()));
  const ctx: ApiContext = {
    infra,
    log,
    db,
    redis,
    bus,
    config,
    users,
    userCache,
    registry,
    pipeline,
    chooseGateway: (cfg, msg) => routing.chooseGateway(cfg, msg),
    rate: (cfg, msg) => routing.rate(cfg, msg),
    claimSalt: async (authid, salt) =>
      (await redis.set(
        `${infra.queuePrefix}:salt:${authid}:${salt}`,
        '1',
        'EX',
        opts.saltWindowSeconds,
        'NX',
      )) === 'OK',
    onClose: (name, close) => routeSteps.add(name, close),
  };

  const mizu = createMizuHandler(ctx, { onError: (code) => refused.inc({ code }) });
  const app = express();
  app.disable('x-powered-by');
  const router = express.Router();
  for (const mount of ROUTE_MODULES) mount(router, ctx);
  app.use(router);
  app.use((req, res) => {
    res
      .status(404)
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: 'about:blank',
          title: 'Not Found',
          status: 404,
          detail: `no route for ${req.method} ${req.path}`,
        }),
      );
  });

  const server = await startServiceServer({
    port: opts.httpPort,
    registry,
    ready: () => ready,
    handler: (req, res) => {
      if (!ready) {
        res
          .writeHead(503, { 'content-type': 'text/plain', connection: 'close' })
          .end('ERROR service is shutting down');
        return;
      }
      const url = req.url ?? '/';
      if (url.startsWith('/mvapireq')) mizu(req, res);
      else app(req, res);
    },
  });
  // Registered after the server so that closing runs before it: new requests get 503 while
  // requests already inside finish, then the batcher flushes what it holds.
  life.add('http', () => server.close());
  life.add('pipeline', () => pipeline.drain());
  ready = true;
  life.add('readiness', () => {
    ready = false;
  });
  log.info({ port: server.port }, 'api-gateway started');
  return { close: () => life.close(), port: server.port };
}
