import express from 'express';
import { UsersRepo } from '@smsfleet/db';
import { ChunkProducer, MessageStatusStore } from '@smsfleet/queue';
import { AuthGuard, SecretVerifier, authBanSettingsFrom, secretKeyFromEnv } from '@smsfleet/security';
import { OpsStatsWriter } from '@smsfleet/queue';
import {
  Counter,
  Lifecycle,
  createMetricsRegistry,
  startServiceServer,
  type InfraEnv,
  type Logger,
  type TlsListen,
} from '@smsfleet/runtime';
import { connectServiceInfra } from '@smsfleet/service-kit';
import { securityHeaders } from './security-headers.js';
import { AcceptPipeline } from './accept-pipeline.js';
import { startCreditHoldRecovery } from './credit-hold-recovery.js';
import type { ApiContext } from './api-context.js';
import { createMizuHandler } from './mizu-route.js';
import { ROUTE_MODULES } from './routes.js';
import { finalErrorHandler } from './error-answer.js';
import { UserCache } from './user-cache.js';
import { RoutingCache } from './routing-cache.js';
import { startAlertMonitor } from './alerts/alert-monitor.js';

export interface ApiGatewayOptions {
  infra: InfraEnv;
  httpPort: number;
  log: Logger;
  chunkSize: number;
  batchWaitMs: number;
  saltWindowSeconds: number;
  /** A credit hold older than this is rolled forward (credit-hold-recovery.ts); default 30 s. */
  creditHoldRecoveryMs?: number;
  /** HTTPS listener (TLS_CERT_FILE, TLS_KEY_FILE, HTTPS_PORT) beside the plain HTTP port. */
  tls?: TlsListen;
  /**
   * Express `trust proxy` (TRUST_PROXY: `true`, a hop count, or addresses/CIDRs): only then do
   * X-Forwarded-Proto/-For count, e.g. for the cookies' Secure flag and HSTS behind a TLS proxy.
   */
  trustProxy?: string;
  /** Milliseconds between admin-alert evaluations (ALERT_INTERVAL_MS, default 10000). */
  alertIntervalMs?: number;
}

/**
 * The api-gateway: the Mizu API on a bare request listener (hot path), everything else on Express,
 * both on one node:http server that also serves /healthz, /readyz and /metrics.
 */
export async function startApiGateway(
  opts: ApiGatewayOptions,
): Promise<{ close: () => Promise<string[]>; port: number; httpsPort?: number }> {
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

  // The HTTP server starts last (below), once the application is mounted.
  const { redis, db, bus, config } = await connectServiceInfra(life, {
    name: 'api-gateway',
    infra,
    redis: true,
    pool: { min: 0, max: 4 },
    config: true,
  });
  const users = new UsersRepo(db);

  const userCache = new UserCache((name) => users.findByName(name).then((u) => u ?? undefined));
  // The gateway list now lives in RoutingCache (below), refreshed on `gateways` as before.
  const unsubUsers = bus.onNotify('users', () => userCache.clear());
  life.add('caches', () => {
    unsubUsers();
  });

  // Passwords are scrypt hashes: successful checks are cached for a minute (keyed by the stored
  // hash, so a new password takes effect at once). The ban list of failed authentications is
  // fleet-wide in Redis, its thresholds the authban_* config keys.
  const secretKey = secretKeyFromEnv();
  if (!secretKey)
    log.warn('SMSFLEET_SECRET_KEY is not set: authmd5 is unavailable and no sealed passwords are kept');
  const bans = new Counter({
    name: 'smsfleet_auth_bans_total',
    help: 'Client addresses and user names banned after repeated failed authentications',
    labelNames: ['kind'],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'smsfleet_auth_failures_total',
    help: 'Failed authentications counted by the ban list',
    registers: [registry],
  });
  const guard = new AuthGuard(redis, infra.queuePrefix, {
    settings: () => authBanSettingsFrom(config.current()),
    onFailure: () => authFailures.inc(),
    onBan: (b) => {
      bans.inc({ kind: b.scope });
      log.warn(
        { scope: b.scope, subject: b.id.slice(0, 64), until: new Date(b.until).toISOString() },
        'auth ban',
      );
    },
  });
  await guard.start();
  life.add('auth-guard', () => guard.stop());
  const secrets = { verifier: new SecretVerifier(), key: secretKey, guard };

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
    secrets,
  };

  // Admin alerts by SMS: every replica runs the loop, one (Redis lease) evaluates per tick.
  startAlertMonitor(ctx, { intervalMs: opts.alertIntervalMs ?? 10_000 });
  const mizu = createMizuHandler(ctx, { onError: (code) => refused.inc({ code }) });
  const app = express();
  app.disable('x-powered-by');
  if (opts.trustProxy) {
    const t = opts.trustProxy;
    app.set(
      'trust proxy',
      t === 'true' ? true : /^\d+$/.test(t) ? Number(t) : t.split(',').map((s) => s.trim()),
    );
  }
  app.use(securityHeaders());
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
  app.use(finalErrorHandler(log));

  const server = await startServiceServer({
    port: opts.httpPort,
    registry,
    ready: () => ready,
    ...(opts.tls ? { tls: opts.tls } : {}),
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
  // Closed before the pipeline drains (reverse order), so a recovery in progress is queued first.
  const holdRecovery = startCreditHoldRecovery({
    db,
    requeue: (msgs) => pipeline.acceptMany(msgs),
    known: async (ids) => {
      const statuses = new MessageStatusStore(redis, infra.queuePrefix);
      const pipe = redis.pipeline();
      for (const id of ids) pipe.exists(statuses.statusKey(id));
      const res = (await pipe.exec()) ?? [];
      return new Set(ids.filter((_, i) => res[i]?.[1] === 1));
    },
    log,
    afterMs: opts.creditHoldRecoveryMs ?? 30_000,
    everyMs: Math.min(5_000, opts.creditHoldRecoveryMs ?? 30_000),
  });
  life.add('credit-hold-recovery', () => holdRecovery.close());
  ready = true;
  life.add('readiness', () => {
    ready = false;
  });
  log.info({ port: server.port, httpsPort: server.httpsPort }, 'api-gateway started');
  return {
    close: () => life.close(),
    port: server.port,
    ...(server.httpsPort !== undefined ? { httpsPort: server.httpsPort } : {}),
  };
}
