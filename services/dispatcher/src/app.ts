import {
  Worker,
  ChunkProducer,
  ChunkProgress,
  gatewayQueueName,
  createRedis,
  type Job,
} from '@smsfleet/queue';
import { EventBus } from '@smsfleet/bus';
import { ConfigStore, type ConfigSnapshot } from '@smsfleet/config';
import { createDb, ConfigRepo, UsersRepo } from '@smsfleet/db';
import type { Chunk, SubmitResult, Transport } from '@smsfleet/core';
import {
  Counter,
  Gauge,
  Histogram,
  Lifecycle,
  createMetricsRegistry,
  startServiceServer,
  type InfraEnv,
  type Logger,
} from '@smsfleet/runtime';
import { Semaphore } from './semaphore.js';
import { processChunk } from './send-processor.js';
import { createTransport, type GatewayDefinition } from './transport-factory.js';

export interface DispatcherOptions {
  infra: InfraEnv;
  httpPort: number;
  log: Logger;
  /** Serve only these gateway ids (empty: all). */
  gateways: number[];
  chunkConcurrency: number;
  maxParallelPerGateway: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxAttempts: number;
  retryBaseDelayMs: number;
  gatewayRefreshMs: number;
}

interface GatewayRuntime {
  def: GatewayDefinition;
  transport: Transport | undefined;
  error?: string;
  worker: Worker<Chunk>;
  limiter: Semaphore;
}

/** The dispatcher: one BullMQ worker per gateway queue, sending chunks through the gateway's transport. */
export async function startDispatcher(
  opts: DispatcherOptions,
): Promise<{ close: () => Promise<string[]>; port: number }> {
  const { infra, log } = opts;
  const life = new Lifecycle();
  let ready = false;
  const registry = createMetricsRegistry('dispatcher');
  const sent = new Counter({
    name: 'smsfleet_messages_sent_total',
    help: 'Provider answers by gateway and result',
    labelNames: ['gateway', 'result'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'smsfleet_provider_latency_seconds',
    help: 'Provider submit latency',
    labelNames: ['gateway'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const chunksDone = new Counter({
    name: 'smsfleet_chunks_processed_total',
    help: 'Chunks processed',
    labelNames: ['gateway'],
    registers: [registry],
  });
  const inUse = new Gauge({
    name: 'smsfleet_gateway_requests_in_flight',
    help: 'Provider requests in flight',
    labelNames: ['gateway'],
    registers: [registry],
  });

  const server = await startServiceServer({ port: opts.httpPort, registry, ready: () => ready });
  life.add('http', () => server.close());

  const redis = createRedis(infra.redisUrl, 'dispatcher');
  life.add('redis', async () => void (await redis.quit().catch(() => redis.disconnect())));
  const db = createDb(infra.databaseUrl, { pool: { min: 0, max: 2 } });
  life.add('mysql', () => db.destroy());
  const bus = await EventBus.connect({ url: infra.natsUrl, prefix: infra.eventPrefix, name: 'dispatcher' });
  life.add('nats', () => bus.close());

  const configRepo = new ConfigRepo(db);
  const users = new UsersRepo(db);
  const config = new ConfigStore({
    load: () => configRepo.getAll(),
    subscribe: (cb) => bus.onNotify('config', cb),
  });
  await config.start();
  life.add('config', () => config.close());

  const producer = new ChunkProducer({ connection: redis, prefix: infra.queuePrefix });
  life.add('producer', () => producer.close());
  const progress = new ChunkProgress(redis, infra.queuePrefix);

  const gateways = new Map<number, GatewayRuntime>();
  const processor = (job: Job<Chunk>) =>
    processChunk(job.data, {
      transportFor: (id) => gateways.get(id)?.transport,
      limiterFor: (id) => gateways.get(id)?.limiter ?? new Semaphore(1),
      progress,
      publish: (state, events, msgId) => bus.publish(state, events, msgId),
      scheduleRetry: (chunk, delayMs) => producer.addChunks([chunk], { delayMs }),
      log,
      maxAttempts: opts.maxAttempts,
      retryBaseDelayMs: opts.retryBaseDelayMs,
      onResult: (gatewayId: number, r: SubmitResult) => {
        const g = String(gatewayId);
        sent.inc({ gateway: g, result: r.ok ? 'ok' : r.permanent ? 'rejected' : 'temporary' });
        latency.observe({ gateway: g }, r.latencyMs / 1000);
      },
    }).then((summary) => {
      chunksDone.inc({ gateway: String(job.data.gatewayId) });
      if (summary.resumed)
        log.warn(
          { chunkId: job.data.chunkId, resumed: summary.resumed },
          'chunk resumed after an interruption',
        );
      return summary;
    });

  const wanted = (id: number) => opts.gateways.length === 0 || opts.gateways.includes(id);

  const buildTransport = (
    def: GatewayDefinition,
    cfg: ConfigSnapshot,
  ): { transport?: Transport; error?: string } => {
    const t = createTransport(def, cfg, opts.maxParallelPerGateway);
    return 'error' in t ? { error: t.error } : { transport: t };
  };

  /** Brings workers in line with the gateway list: new gateways get a worker, removed ones stop. */
  const syncGateways = async () => {
    const cfg = config.current();
    const defs: GatewayDefinition[] = [];
    if (cfg.smsurl) defs.push({ id: 0, name: 'smsurl', url: cfg.smsurl });
    for (const u of await users.listGateways())
      if (u.enabled) defs.push({ id: u.id, name: u.name, url: u.smsurl ?? '' });
    const seen = new Set<number>();
    for (const def of defs) {
      if (!wanted(def.id)) continue;
      seen.add(def.id);
      const existing = gateways.get(def.id);
      if (existing) {
        if (existing.def.url !== def.url) {
          const old = existing.transport;
          const t = buildTransport(def, cfg);
          existing.def = def;
          existing.transport = t.transport;
          existing.error = t.error;
          // In-flight requests on the old pool finish before it closes.
          void old?.close();
        }
        continue;
      }
      const t = buildTransport(def, cfg);
      if (t.error) log.warn({ gatewayId: def.id, error: t.error }, 'gateway transport unavailable');
      const worker = new Worker<Chunk>(gatewayQueueName(def.id), processor, {
        connection: redis,
        prefix: infra.queuePrefix,
        concurrency: opts.chunkConcurrency,
        lockDuration: opts.lockDurationMs,
        stalledInterval: opts.stalledIntervalMs,
        maxStalledCount: 100,
        autorun: true,
      });
      worker.on('failed', (job, err) =>
        log.error({ chunkId: job?.data.chunkId, err: err.message }, 'chunk failed'),
      );
      worker.on('error', (err) => log.error({ err: err.message, gatewayId: def.id }, 'worker error'));
      gateways.set(def.id, {
        def,
        transport: t.transport,
        error: t.error,
        worker,
        limiter: new Semaphore(opts.maxParallelPerGateway),
      });
      log.info({ gatewayId: def.id, name: def.name }, 'serving gateway');
    }
    for (const [id, g] of gateways) {
      if (seen.has(id)) continue;
      gateways.delete(id);
      await g.worker.close();
      await g.transport?.close();
      log.info({ gatewayId: id }, 'stopped serving gateway');
    }
    for (const [id, g] of gateways) inUse.set({ gateway: String(id) }, g.limiter.inUse);
  };

  let syncing: Promise<void> = Promise.resolve();
  const resync = () => {
    syncing = syncing
      .then(syncGateways)
      .catch((err: Error) => log.error({ err: err.message }, 'gateway sync failed'));
    return syncing;
  };
  await resync();
  const unsubGw = bus.onNotify('gateways', () => void resync());
  const unsubCfg = config.onChange(() => {
    // Global keys feed every transport (POST data, headers, success strings): rebuild them.
    const cfg = config.current();
    for (const g of gateways.values()) {
      const old = g.transport;
      const t = buildTransport(g.def, cfg);
      g.transport = t.transport;
      g.error = t.error;
      void old?.close();
    }
    void resync();
  });
  const timer = setInterval(() => void resync(), opts.gatewayRefreshMs);
  life.add('workers', async () => {
    clearInterval(timer);
    unsubGw();
    unsubCfg();
    await syncing;
    // Stop fetching, finish the chunks in hand (their events get published), then close transports.
    await Promise.allSettled([...gateways.values()].map((g) => g.worker.close()));
    await Promise.allSettled([...gateways.values()].map((g) => g.transport?.close() ?? Promise.resolve()));
  });
  ready = true;
  life.add('readiness', () => {
    ready = false;
  });
  log.info({ port: server.port, gateways: [...gateways.keys()] }, 'dispatcher started');
  return { close: () => life.close(), port: server.port };
}
