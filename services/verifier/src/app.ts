import type { Consumption } from '@smsfleet/bus';
import { receiptState, type ReceiptEvent, type SmsEvent } from '@smsfleet/core';
import { Queue, Worker, type Job } from '@smsfleet/queue';
import { OpsStatsWriter } from '@smsfleet/queue';
import { Histogram } from '@smsfleet/runtime';
import {
  Counter,
  Gauge,
  Lifecycle,
  createMetricsRegistry,
  type InfraEnv,
  type Logger,
} from '@smsfleet/runtime';
import { connectServiceInfra } from '@smsfleet/service-kit';
import { FinalGate } from './final-gate.js';
import { finalBatchId } from './finalizer.js';
import { ReceiptStore } from './receipt-store.js';
import { verifyOnce } from './verify-request.js';
import { Webhooks } from './webhooks.js';
import { startStatusTracker } from './status-tracker.js';

export interface VerifierOptions {
  infra: InfraEnv;
  httpPort: number;
  log: Logger;
  /** How long a message waits for a receipt before it ends `unknown`. */
  receiptMaxAgeMs: number;
  /** How long a receipt is held for a submit answer that has not arrived yet. */
  earlyReceiptTtlMs: number;
  /** Verify requests of one message are repeated while `pending`, up to this age. */
  verifyMaxAgeMs: number;
  verifyTimeoutMs: number;
  verifyConcurrency: number;
  webhookConcurrency: number;
  webhookTimeoutMs: number;
}

interface VerifyJob {
  event: SmsEvent;
  firstAt: number;
  attempt: number;
}

/**
 * The verifier owns the final state of every message: `failed` from the dispatcher; the submit
 * result when nothing more will be learnt; a delayed verify request (`smsverifyurl` after
 * `smsverifydelay`); or the provider's receipts, correlated by provider message id across replicas.
 * Each message gets exactly one `sms.final`.
 */
export async function startVerifier(
  opts: VerifierOptions,
): Promise<{ close: () => Promise<string[]>; port: number }> {
  const { infra, log } = opts;
  const life = new Lifecycle();
  let ready = false;
  const registry = createMetricsRegistry('verifier');
  const finals = new Counter({
    name: 'smsfleet_messages_final_total',
    help: 'Final states published',
    labelNames: ['state'],
    registers: [registry],
  });
  const receipts = new Counter({
    name: 'smsfleet_receipts_total',
    help: 'Receipts by outcome (correlated, held until the submit answer, not final yet)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const verifies = new Counter({
    name: 'smsfleet_verify_requests_total',
    help: 'Verify requests by verdict',
    labelNames: ['verdict'],
    registers: [registry],
  });
  const stale = new Counter({
    name: 'smsfleet_final_duplicates_total',
    help: 'Final events dropped because the message was already final',
    registers: [registry],
  });

  const { server, redis, db, bus, config } = await connectServiceInfra(life, {
    name: 'verifier',
    infra,
    http: { port: opts.httpPort, registry, ready: () => ready },
    redis: true,
    pool: { min: 0, max: 2 },
    config: true,
  });

  const gate = new FinalGate(redis, infra.queuePrefix);
  // Ops figures: final states and end-to-end latency per gateway, in Prometheus and in the Redis
  // time buckets the ops dashboard reads (shared by every replica).
  const opsStats = new OpsStatsWriter(redis, infra.queuePrefix, {
    onError: (err) => log.warn({ err: (err as Error).message }, 'ops stats not written'),
  });
  life.add('ops-stats', () => opsStats.close());
  const finalsByGateway = new Counter({
    name: 'smsfleet_messages_final_by_gateway_total',
    help: 'Final states published, by gateway',
    labelNames: ['gateway', 'state'],
    registers: [registry],
  });
  const e2eLatency = new Histogram({
    name: 'smsfleet_end_to_end_latency_seconds',
    help: 'From accepted by the API to the final state',
    labelNames: ['gateway'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  const recordFinal = (e: SmsEvent) => {
    const gw = e.msg.gatewayId;
    const ms = Math.max(0, e.at - e.msg.acceptedAt);
    finalsByGateway.inc({ gateway: String(gw), state: e.state });
    e2eLatency.observe({ gateway: String(gw) }, ms / 1000);
    opsStats.count(gw, `final:${e.state}`, 1, e.at);
    opsStats.latency(gw, 'e2e', ms, e.at);
    if (e.state !== 'delivered' && e.state !== 'unknown')
      opsStats.failure({
        at: e.at,
        gatewayId: gw,
        smsid: e.smsid,
        state: e.state,
        reason: e.reason ?? e.answer ?? '',
      });
  };
  const store = new ReceiptStore({
    redis,
    prefix: infra.queuePrefix,
    maxWaitMs: opts.receiptMaxAgeMs,
    awaitTtlSeconds: Math.ceil(opts.receiptMaxAgeMs / 1000) + 3600,
    earlyTtlSeconds: Math.ceil(opts.earlyReceiptTtlMs / 1000),
  });

  /** Publishes final states not yet published, then marks them final. */
  const finalize = async (events: SmsEvent[]) => {
    const fresh = await gate.notYetFinal(events);
    stale.inc(events.length - fresh.length);
    if (fresh.length === 0) return;
    await bus.publish('final', fresh, finalBatchId(fresh));
    await gate.mark(fresh);
    for (const e of fresh) {
      finals.inc({ state: e.state });
      recordFinal(e);
      log.info({ smsid: e.smsid, gatewayId: e.msg.gatewayId, state: e.state, reason: e.reason }, 'sms state');
    }
  };

  const verifyQueue = new Queue<VerifyJob>('verify', {
    connection: redis,
    prefix: infra.queuePrefix,
    defaultJobOptions: {
      removeOnComplete: true,
      removeOnFail: { count: 10_000 },
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    },
  });
  life.add('queues', async () => {
    await verifyQueue.close();
  });

  const applyReceipts = async (list: ReceiptEvent[]) => {
    const outcomes = await store.applyAll(
      list.map((r) => ({ r, state: receiptState(r.stat, r.messageState) })),
    );
    const out: SmsEvent[] = [];
    outcomes.forEach((o, i) => {
      receipts.inc({
        outcome: o.kind === 'held' ? 'held' : o.kind === 'nonfinal' ? 'not_final' : 'correlated',
      });
      if (o.kind === 'final') out.push(o.event);
      if (o.kind === 'held')
        log.warn(
          { gatewayId: list[i]!.gatewayId, providerMessageId: list[i]!.providerMessageId },
          'receipt for an unknown message id held',
        );
    });
    await finalize(out);
    await store.forget(out.map((e) => e.smsid));
  };

  /** Decides what follows a successful submit. */
  const afterSubmit = async (events: SmsEvent[]) => {
    const cfg = config.current();
    const now: SmsEvent[] = [];
    const verifyJobs: { name: string; data: VerifyJob; opts: { jobId: string; delay: number } }[] = [];
    const waiting: SmsEvent[] = [];
    for (const e of events) {
      if (e.awaitReceipt && (e.providerMessageId || e.partIds?.length)) {
        waiting.push(e);
      } else if (cfg.smsverifyurl && e.providerMessageId) {
        verifyJobs.push({
          name: 'verify',
          data: { event: e, firstAt: Date.now(), attempt: 1 },
          opts: { jobId: `${e.smsid}~v1`, delay: cfg.smsverifydelay },
        });
      } else {
        now.push({
          ...e,
          state: 'unknown',
          at: Date.now(),
          reason: e.reason ?? 'submitted, no verification configured',
        });
      }
    }
    if (waiting.length) {
      const early = await store.remember(waiting);
      if (early.length) await applyReceipts(early);
    }
    if (verifyJobs.length) await verifyQueue.addBulk(verifyJobs);
    await finalize(now);
  };

  const consumptions: Consumption[] = [];
  const onError = (what: string) => (err: unknown) =>
    log.error({ err: (err as Error).message }, `${what} failed, will retry`);
  consumptions.push(
    await bus.consume<SmsEvent>('verifier-submitted', 'submitted', afterSubmit, {
      onError: onError('submitted batch'),
    }),
  );
  consumptions.push(
    await bus.consume<SmsEvent>('verifier-failed', 'failed', (events) => finalize(events), {
      onError: onError('failed batch'),
    }),
  );
  consumptions.push(
    await bus.consume<ReceiptEvent>('verifier-receipts', 'receipt', applyReceipts, {
      onError: onError('receipt batch'),
    }),
  );

  const verifyWorker = new Worker<VerifyJob>(
    'verify',
    async (job: Job<VerifyJob>) => {
      const cfg = config.current();
      const { event, firstAt, attempt } = job.data;
      const { verdict, answer } = await verifyOnce(
        { url: cfg.smsverifyurl, body: cfg.smssenddataverify, timeoutMs: opts.verifyTimeoutMs },
        event,
      );
      verifies.inc({ verdict });
      if (verdict !== 'pending') {
        await finalize([{ ...event, state: verdict, at: Date.now(), answer, reason: `verify: ${verdict}` }]);
        return;
      }
      const age = Date.now() - firstAt;
      if (age >= opts.verifyMaxAgeMs) {
        await finalize([
          {
            ...event,
            state: 'unknown',
            at: Date.now(),
            answer,
            reason: `still pending after ${Math.round(age / 1000)} s of verify requests`,
          },
        ]);
        return;
      }
      const delay = Math.min(
        opts.verifyMaxAgeMs - age,
        Math.max(cfg.smsverifydelay, 1000) * 2 ** Math.min(attempt, 8),
      );
      await verifyQueue.add(
        'verify',
        { event, firstAt, attempt: attempt + 1 },
        { jobId: `${event.smsid}~v${attempt + 1}`, delay },
      );
    },
    { connection: redis, prefix: infra.queuePrefix, concurrency: opts.verifyConcurrency },
  );
  // Messages whose receipts did not come in time end `unknown` (any replica sweeps).
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      for (;;) {
        const expired = await store.claimExpired();
        if (expired.length === 0) break;
        const secs = Math.round(opts.receiptMaxAgeMs / 1000);
        await finalize(
          expired.map((e) => ({
            ...e,
            state: 'unknown' as const,
            at: Date.now(),
            reason: `no receipt within ${secs} s`,
          })),
        );
        await store.forget(expired.map((e) => e.smsid));
      }
    } catch (err) {
      log.error({ err: (err as Error).message }, 'receipt timeout sweep failed');
    } finally {
      sweeping = false;
    }
  };
  const sweepTimer = setInterval(() => void sweep(), Math.min(1000, Math.max(100, opts.receiptMaxAgeMs / 4)));
  verifyWorker.on('error', (err) => log.error({ err: err.message }, 'worker error'));

  // Status webhooks: every transition of every message, for senders who asked for them.
  const webhooks = new Webhooks({ redis, prefix: infra.queuePrefix, db, timeoutMs: opts.webhookTimeoutMs });
  webhooks.start(opts.webhookConcurrency);
  life.add('webhooks', () => webhooks.close());
  new Gauge({
    name: 'smsfleet_webhook_backlog',
    help: 'Webhook calls waiting or being retried',
    registers: [registry],
    async collect() {
      this.set(await webhooks.backlog());
    },
  });
  consumptions.push(
    await bus.consume<SmsEvent>(
      'webhooks',
      '*',
      async (events) => void (await webhooks.enqueue(events.filter((e) => e.msg && e.state))),
      {
        onError: onError('webhook batch'),
      },
    ),
  );

  // The message status store (status-tracker.ts): every sms.* event into Redis, for /v1 message
  // status and batch progress.
  consumptions.push(await startStatusTracker({ bus, redis, queuePrefix: infra.queuePrefix, log }));

  life.add('consumers', async () => {
    clearInterval(sweepTimer);
    await Promise.allSettled([...consumptions.map((c) => c.stop()), verifyWorker.close()]);
  });
  ready = true;
  life.add('readiness', () => {
    ready = false;
  });
  log.info({ port: server.port }, 'verifier started');
  return { close: () => life.close(), port: server.port };
}
