import type { Consumption } from '@smsfleet/bus';
import { BillingRepo, LiveTable, loadRoutingTables } from '@smsfleet/db';
import {
  Counter,
  Gauge,
  Lifecycle,
  createMetricsRegistry,
  type InfraEnv,
  type Logger,
} from '@smsfleet/runtime';
import { connectServiceInfra } from '@smsfleet/service-kit';
import { settlementFromFinal } from './cdr-mapper.js';

export interface BillingOptions {
  infra: InfraEnv;
  httpPort: number;
  log: Logger;
  maxBatchMessages: number;
}

/**
 * Billing: a durable consumer of `sms.final` that writes one CDR of type SMS per `smsid` with
 * multi-row inserts and settles the credit reserved at accept time, in one transaction per batch
 * (BillingRepo.settle: exactly once per smsid across redeliveries and replicas). A failed
 * transaction naks the batch, so a MySQL outage delays CDRs and loses none.
 */
export async function startBilling(
  opts: BillingOptions,
): Promise<{ close: () => Promise<string[]>; port: number }> {
  const { infra, log } = opts;
  const life = new Lifecycle();
  let ready = false;
  const registry = createMetricsRegistry('billing');
  const written = new Counter({
    name: 'smsfleet_cdrs_written_total',
    help: 'CDR rows inserted',
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'smsfleet_cdr_duplicates_total',
    help: 'Final events for an smsid that already had its CDR',
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'smsfleet_billing_lag_seconds',
    help: 'Age of the oldest final event in the last batch',
    registers: [registry],
  });

  // The oldest final event billing holds but has not billed yet (a batch being settled, or one that
  // failed and waits for redelivery); 0 when everything received is billed.
  let unbilledSince: number | undefined;
  new Gauge({
    name: 'smsfleet_billing_oldest_unbilled_seconds',
    help: 'Age of the oldest final event received and not yet billed (0 when caught up)',
    registers: [registry],
    collect() {
      this.set(unbilledSince === undefined ? 0 : Math.max(0, (Date.now() - unbilledSince) / 1000));
    },
  });
  const { server, db, bus, config } = await connectServiceInfra(life, {
    name: 'billing',
    infra,
    http: { port: opts.httpPort, registry, ready: () => ready },
    pool: { min: 1, max: 4 },
    config: true,
  });
  // Price setup and price packets in memory, refreshed on change notifications and a poll: no
  // per-message query. Billed messages with a reservation never need them (cost = reserved).
  const tables = await new LiveTable({
    load: () => loadRoutingTables(db),
    subscribe: (cb) => {
      const subs = ['prices', 'users', 'routes'].map((t) => bus.onNotify(t, cb));
      return () => subs.forEach((u) => u());
    },
    pollMs: 10_000,
    onError: (err) => log.warn({ err: (err as Error).message }, 'price table refresh failed'),
  }).start();
  life.add('prices', () => tables.close());
  const billing = new BillingRepo(db);
  const refunded = new Counter({
    name: 'smsfleet_billing_refunds_total',
    help: 'Messages whose reserved credit was given back',
    registers: [registry],
  });

  const consumption: Consumption = await bus.consume(
    'billing',
    'final',
    async (events) => {
      unbilledSince = events.reduce((m, e) => Math.min(m, e.at), Date.now());
      const cfg = config.current();
      const t = tables.current();
      const rating = { smsprice: cfg.smsprice, smstime: cfg.smstime, prices: t.prices, packets: t.packets };
      // One row per smsid even when a batch carries the same message twice (the first one wins).
      const bySmsid = new Map<string, (typeof events)[number]>();
      for (const e of events) if (!bySmsid.has(e.smsid)) bySmsid.set(e.smsid, e);
      const items = [...bySmsid.values()].map((e) => settlementFromFinal(e, rating));
      // CDRs and credit in one transaction; a failure (MySQL down) naks the batch for redelivery.
      const { inserted, refunds, refundedMessages } = await billing.settle(items);
      written.inc(inserted);
      duplicates.inc(events.length - inserted);
      refunded.inc(refundedMessages);
      let oldest = Infinity;
      for (const e of events) oldest = Math.min(oldest, e.at);
      lag.set(Math.max(0, (Date.now() - oldest) / 1000));
      unbilledSince = undefined;
      log.info({ events: events.length, inserted, refundUsers: refunds.size }, 'cdr batch');
    },
    {
      maxBatchMessages: opts.maxBatchMessages,
      onError: (err) => log.error({ err: (err as Error).message }, 'cdr batch failed, will retry'),
    },
  );
  life.add('consumer', () => consumption.stop());
  ready = true;
  life.add('readiness', () => {
    ready = false;
  });
  log.info({ port: server.port }, 'billing started');
  return { close: () => life.close(), port: server.port };
}
