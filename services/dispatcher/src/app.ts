import {
  Worker,
  ChunkProducer,
  ChunkProgress,
  gatewayQueueName,
  CircuitBreaker,
  DelayedError,
  GatewayRateLimiter,
  type Job,
} from '@smsfleet/queue';
import { OpsStatsReader, OpsStatsWriter } from '@smsfleet/queue';
import type { ConfigSnapshot } from '@smsfleet/config';
import { createDb, GatewaySettingsRepo, TemplateQueryRunner, UsersRepo } from '@smsfleet/db';
import type { Chunk, GatewaySettings, SubmitResult, Transport } from '@smsfleet/core';
import type { SmsEvent } from '@smsfleet/core';
import {
  Counter,
  Gauge,
  Histogram,
  Lifecycle,
  createMetricsRegistry,
  type InfraEnv,
  type Logger,
} from '@smsfleet/runtime';
import { connectServiceInfra, startConfigStore } from '@smsfleet/service-kit';
import { Semaphore } from './semaphore.js';
import { GatewayPausedError, processChunk } from './send-processor.js';
import { createTransport, type GatewayDefinition } from './transport-factory.js';
import type { SmppContext } from './smpp-gateway.js';
import { createFailover } from './failover.js';
import { LiveTable, loadRoutingTables } from '@smsfleet/db';
import { SendFiles } from './send-files.js';
import { RatePacer } from './rate-pacer.js';

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
  /** Folder of smssenddata[_ID].txt / smssendheader[_ID].txt (undefined: no files). */
  filesDir?: string;
  /** Circuit breaker defaults (per-gateway settings override them). */
  breakerThreshold?: number;
  breakerOpenMs?: number;
}

interface GatewayRuntime {
  def: GatewayDefinition;
  transport: Transport | undefined;
  error?: string;
  worker: Worker<Chunk>;
  limiter: Semaphore;
  settings: GatewaySettings;
  /** JSON of the settings the transport was built with, to rebuild only on a change. */
  settingsJson: string;
  pacer: RatePacer | undefined;
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

  // The config store starts later (startConfigStore below), after the template pool and files.
  const { server, redis, db, bus } = await connectServiceInfra(life, {
    name: 'dispatcher',
    infra,
    http: { port: opts.httpPort, registry, ready: () => ready },
    redis: true,
    pool: { min: 0, max: 2 },
  });

  // {SELECT ...} placeholders run on their own small pool, in READ ONLY transactions.
  const sqlDb = createDb(infra.databaseUrl, { pool: { min: 0, max: 2 } });
  life.add('mysql-templates', () => sqlDb.destroy());
  const templateQueries = new TemplateQueryRunner(sqlDb);
  const sql = (q: string, params: readonly (string | number)[], timeoutMs: number) =>
    templateQueries.run(q, params, timeoutMs);
  const settingsRepo = new GatewaySettingsRepo(db);
  const files = opts.filesDir ? new SendFiles(opts.filesDir) : undefined;
  if (files) {
    await files.start();
    life.add('files', () => files.close());
  }
  const rateLimiter = new GatewayRateLimiter(redis, infra.queuePrefix);
  // SMPP gateways: binds leased across replicas, segments paced across replicas, and what
  // receiving binds get (receipts, MO) stored on the bus before the SMSC gets its answer.
  const smppContext: SmppContext = {
    redis,
    prefix: infra.queuePrefix,
    rateLimiter,
    onDeliver: (e) =>
      e.kind === 'receipt' ? bus.publish('receipt', [e.receipt]) : bus.publish('mo', [e.mo]),
    onBindEvent: (gatewayId, e) =>
      (e.type === 'bound' ? log.info : log.warn).call(
        log,
        { gatewayId, bind: e.bind, error: e.error },
        `smpp ${e.type}`,
      ),
  };
  const circuit = new CircuitBreaker(redis, infra.queuePrefix);

  const users = new UsersRepo(db);
  const config = await startConfigStore(life, db, bus);

  const producer = new ChunkProducer({ connection: redis, prefix: infra.queuePrefix });
  life.add('producer', () => producer.close());
  const progress = new ChunkProgress(redis, infra.queuePrefix);
  // Routing failover (failover.ts): the routing tables in memory, refreshed on notify and a poll.
  const routingTables = await new LiveTable({
    load: () => loadRoutingTables(db),
    subscribe: (cb) => {
      const subs = ['routes', 'gateways', 'users'].map((t) => bus.onNotify(t, cb));
      return () => subs.forEach((u) => u());
    },
    onError: (err) => log.error({ err: (err as Error).message }, 'routing table refresh failed'),
  }).start();
  life.add('routing-tables', () => routingTables.close());
  const failover = createFailover({
    tables: () => routingTables.current(),
    settings: () => config.current(),
    addChunks: (chunks) => producer.addChunks(chunks),
    log,
    // Queued-message counters follow the messages to their next gateway.
    onRerouted: (from, to, n) => {
      opsStats.total(from, 'dispatched', n);
      opsStats.total(to, 'accepted', n);
    },
  });
  // Ops figures: Prometheus metrics of this process, and Redis time buckets shared by every replica
  // for the ops dashboard. Queue depth is read from BullMQ at scrape time (right across replicas).
  const opsStats = new OpsStatsWriter(redis, infra.queuePrefix, {
    onError: (err) => log.warn({ err: (err as Error).message }, 'ops stats not written'),
  });
  life.add('ops-stats', () => opsStats.close());
  const submittedTotal = new Counter({
    name: 'smsfleet_messages_submitted_total',
    help: 'Messages handed to the provider (submitted) or given up (failed) at dispatch',
    labelNames: ['gateway', 'state'],
    registers: [registry],
  });
  const segmentsSubmitted = new Counter({
    name: 'smsfleet_segments_submitted_total',
    help: 'Segments of messages handed to the provider',
    labelNames: ['gateway'],
    registers: [registry],
  });
  const retriesTotal = new Counter({
    name: 'smsfleet_retries_total',
    help: 'Messages scheduled for another send attempt after a temporary failure',
    labelNames: ['gateway'],
    registers: [registry],
  });
  const throttledTotal = new Counter({
    name: 'smsfleet_throttling_events_total',
    help: 'Provider answers saying slow down (SMPP ESME_RTHROTTLED / ESME_RMSGQFUL, HTTP 429)',
    labelNames: ['gateway'],
    registers: [registry],
  });
  const THROTTLE_RE = /THROTTLED|MSGQFUL|queue full|\b429\b|too many requests|throttl/i;
  const recordDispatched = (state: 'submitted' | 'failed', events: SmsEvent[]) => {
    for (const e of events) {
      const gw = e.msg.gatewayId;
      submittedTotal.inc({ gateway: String(gw), state });
      if (state === 'submitted') segmentsSubmitted.inc({ gateway: String(gw) }, e.msg.segments);
      opsStats.count(gw, state, 1, e.at);
      opsStats.total(gw, 'dispatched', 1);
    }
  };
  new Gauge({
    name: 'smsfleet_queue_jobs',
    help: 'Chunks (queue jobs) per gateway queue and BullMQ state, read from Redis at scrape time',
    labelNames: ['gateway', 'state'],
    registers: [registry],
    async collect() {
      await Promise.all(
        [...gateways.keys()].map(async (id) => {
          const c = await producer
            .queue(id)
            .getJobCounts('waiting', 'delayed', 'active', 'failed', 'prioritized');
          for (const [state, n] of Object.entries(c)) this.set({ gateway: String(id), state }, n);
        }),
      );
    },
  });
  new Gauge({
    name: 'smsfleet_queue_messages_pending',
    help: 'Messages accepted for a gateway and not yet submitted or failed (fleet-wide Redis counters)',
    labelNames: ['gateway'],
    registers: [registry],
    async collect() {
      const ids = [...gateways.keys()];
      const totals = await new OpsStatsReader(redis, infra.queuePrefix).totals(ids);
      for (const [id, t] of totals) this.set({ gateway: String(id) }, Math.max(0, t.accepted - t.dispatched));
    },
  });
  // SMPP transports that expose `smppStats()` report their binds and window here.
  const smppStats = (id: number) =>
    (
      gateways.get(id)?.transport as
        { smppStats?: () => { bindsUp: number; windowInUse: number } } | undefined
    )?.smppStats?.();
  new Gauge({
    name: 'smsfleet_smpp_binds_up',
    help: 'SMPP binds of this process that are bound',
    labelNames: ['gateway'],
    registers: [registry],
    collect() {
      for (const id of gateways.keys()) {
        const s = smppStats(id);
        if (s) this.set({ gateway: String(id) }, s.bindsUp);
      }
    },
  });
  new Gauge({
    name: 'smsfleet_smpp_window_in_use',
    help: 'SMPP requests awaiting their response, over all binds of this process',
    labelNames: ['gateway'],
    registers: [registry],
    collect() {
      for (const id of gateways.keys()) {
        const s = smppStats(id);
        if (s) this.set({ gateway: String(id) }, s.windowInUse);
      }
    },
  });
  // The dashboard reads binds from Redis (summed over dispatcher replicas), reported every 5 s.
  const opsInstance = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const smppReport = setInterval(() => {
    for (const id of gateways.keys()) {
      const s = smppStats(id);
      if (s) void opsStats.smpp(id, opsInstance, s).catch(() => undefined);
    }
  }, 5_000);
  smppReport.unref();
  life.add('smpp-report', () => clearInterval(smppReport));

  const gateways = new Map<number, GatewayRuntime>();
  // SIGTERM: chunks being sent stop starting new sends and go back to the queue (HandBackError).
  const stopping = new AbortController();
  // Provider throttling (HTTP 429) pauses a gateway in this process until its Retry-After passed.
  const throttledUntil = new Map<number, number>();
  const throttle = {
    pausedForMs: (id: number) => Math.max(0, (throttledUntil.get(id) ?? 0) - Date.now()),
    record: (id: number, pauseMs: number) => {
      const until = Date.now() + pauseMs;
      if (until > (throttledUntil.get(id) ?? 0)) throttledUntil.set(id, until);
    },
  };
  const processor = (job: Job<Chunk>, token?: string) =>
    processChunk(job.data, {
      transportFor: (id) => gateways.get(id)?.transport,
      limiterFor: (id) => gateways.get(id)?.limiter ?? new Semaphore(1),
      progress,
      publish: (state, events, msgId) =>
        bus.publish(state, events, msgId).then(() => recordDispatched(state, events)),
      scheduleRetry: (chunk, delayMs) =>
        producer.addChunks([chunk], { delayMs }).then(() => {
          retriesTotal.inc({ gateway: String(chunk.gatewayId) }, chunk.messages.length);
          opsStats.count(chunk.gatewayId, 'retried', chunk.messages.length);
        }),
      log,
      maxAttempts: opts.maxAttempts,
      retryBaseDelayMs: opts.retryBaseDelayMs,
      policyFor: (id) => gateways.get(id)?.settings ?? {},
      failover,
      throttle,
      stopping: stopping.signal,
      rateGateFor: (id) => gateways.get(id)?.pacer,
      breaker: {
        pausedForMs: (id) => circuit.pausedForMs(id),
        recordSuccess: (id) => circuit.recordSuccess(id),
        recordFailure: async (id, reason) => {
          const s = gateways.get(id)?.settings ?? {};
          const pause = await circuit.recordFailure(id, reason, {
            failureThreshold: s.breakerThreshold ?? opts.breakerThreshold ?? 20,
            openMs: s.breakerOpenMs ?? opts.breakerOpenMs ?? 30_000,
          });
          if (pause > 0) log.warn({ gatewayId: id, reason, pauseMs: pause }, 'gateway paused (circuit open)');
          return pause;
        },
      },
      onResult: (gatewayId: number, r: SubmitResult) => {
        const g = String(gatewayId);
        sent.inc({ gateway: g, result: r.ok ? 'ok' : r.permanent ? 'rejected' : 'temporary' });
        latency.observe({ gateway: g }, r.latencyMs / 1000);
        opsStats.latency(gatewayId, 'prov', r.latencyMs);
        if (!r.ok && THROTTLE_RE.test(r.reason)) {
          throttledTotal.inc({ gateway: g });
          opsStats.count(gatewayId, 'throttled');
        }
      },
    }).then(
      (summary) => {
        chunksDone.inc({ gateway: String(job.data.gatewayId) });
        if (summary.resumed)
          log.warn(
            { chunkId: job.data.chunkId, resumed: summary.resumed },
            'chunk resumed after an interruption',
          );
        return summary;
      },
      async (err: unknown) => {
        if (err instanceof GatewayPausedError && token) {
          // Back to the queue for the pause, same attempt: an open circuit burns no retries.
          await job.moveToDelayed(Date.now() + err.pauseMs, token);
          throw new DelayedError();
        }
        throw err;
      },
    );

  const wanted = (id: number) => opts.gateways.length === 0 || opts.gateways.includes(id);

  let allSettings = new Map<number, GatewaySettings>();
  const buildTransport = (
    def: GatewayDefinition,
    cfg: ConfigSnapshot,
  ): { transport?: Transport; error?: string } => {
    const t = createTransport(def, cfg, opts.maxParallelPerGateway, {
      settings: allSettings.get(def.id) ?? {},
      files,
      sql,
      smpp: smppContext,
    });
    return 'error' in t ? { error: t.error } : { transport: t };
  };
  const pacerFor = (id: number, s: GatewaySettings) =>
    s.ratePerSecond && s.ratePerSecond > 0 ? new RatePacer(rateLimiter, id, s.ratePerSecond) : undefined;
  const rebuild = (g: GatewayRuntime, cfg: ConfigSnapshot) => {
    const old = g.transport;
    const t = buildTransport(g.def, cfg);
    g.transport = t.transport;
    g.error = t.error;
    if (t.error) log.warn({ gatewayId: g.def.id, error: t.error }, 'gateway transport unavailable');
    // In-flight requests on the old pool finish before it closes.
    void old?.close();
  };

  /** Brings workers in line with the gateway list: new gateways get a worker, removed ones stop. */
  const syncGateways = async () => {
    const cfg = config.current();
    const defs: GatewayDefinition[] = [];
    if (cfg.smsurl) defs.push({ id: 0, name: 'smsurl', url: cfg.smsurl });
    for (const u of await users.listGateways())
      if (u.enabled) defs.push({ id: u.id, name: u.name, url: u.smsurl ?? '' });
    const loaded = await settingsRepo.getAll();
    for (const [id, why] of loaded.invalid)
      log.warn({ gatewayId: id, error: why }, 'invalid gateway settings ignored');
    allSettings = loaded.settings;
    const seen = new Set<number>();
    for (const def of defs) {
      if (!wanted(def.id)) continue;
      seen.add(def.id);
      const existing = gateways.get(def.id);
      const settings = allSettings.get(def.id) ?? {};
      const settingsJson = JSON.stringify(settings);
      if (existing) {
        if (existing.def.url !== def.url || existing.settingsJson !== settingsJson) {
          existing.def = def;
          existing.settings = settings;
          existing.settingsJson = settingsJson;
          if (existing.pacer?.rate !== settings.ratePerSecond) existing.pacer = pacerFor(def.id, settings);
          existing.limiter.setLimit(settings.maxParallel ?? opts.maxParallelPerGateway);
          rebuild(existing, cfg);
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
        limiter: new Semaphore(settings.maxParallel ?? opts.maxParallelPerGateway),
        settings,
        settingsJson,
        pacer: pacerFor(def.id, settings),
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
    for (const g of gateways.values()) rebuild(g, cfg);
    void resync();
  });
  // A changed smssenddata*.txt / smssendheader*.txt rebuilds the transports that read it.
  const unsubFiles = files?.onChange(() => {
    log.info({ dir: files.dir }, 'template files changed');
    const cfg = config.current();
    for (const g of gateways.values()) rebuild(g, cfg);
  });
  const timer = setInterval(() => void resync(), opts.gatewayRefreshMs);
  life.add('workers', async () => {
    clearInterval(timer);
    unsubGw();
    unsubCfg();
    unsubFiles?.();
    await syncing;
    // Stop fetching; the chunks in hand finish the sends in flight, record them and go back to the
    // queue (HandBackError), so a stop takes one provider round trip, not a whole chunk, and
    // nothing is sent twice. Then close the transports.
    stopping.abort();
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
