import { EventBus, type Consumption } from '@smsfleet/bus';
import { ConfigStore } from '@smsfleet/config';
import { createDb, CdrRepo, ConfigRepo } from '@smsfleet/db';
import {
  Counter,
  Gauge,
  Lifecycle,
  createMetricsRegistry,
  startServiceServer,
  type InfraEnv,
  type Logger,
} from '@smsfleet/runtime';
import { cdrFromFinal } from './cdr-mapper.js';

export interface BillingOptions {
  infra: InfraEnv;
  httpPort: number;
  log: Logger;
  maxBatchMessages: number;
}

/**
 * Billing: a durable consumer of `sms.final` that writes one CDR of type SMS per `smsid` with
 * multi-row inserts. `INSERT IGNORE` on the unique smsid makes redelivered events harmless; a failed
 * insert naks the batch, so a MySQL outage delays CDRs and loses none.
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

  const server = await startServiceServer({ port: opts.httpPort, registry, ready: () => ready });
  life.add('http', () => server.close());
  const db = createDb(infra.databaseUrl, { pool: { min: 1, max: 4 } });
  life.add('mysql', () => db.destroy());
  const bus = await EventBus.connect({ url: infra.natsUrl, prefix: infra.eventPrefix, name: 'billing' });
  life.add('nats', () => bus.close());
  const configRepo = new ConfigRepo(db);
  const config = new ConfigStore({
    load: () => configRepo.getAll(),
    subscribe: (cb) => bus.onNotify('config', cb),
  });
  await config.start();
  life.add('config', () => config.close());
  const cdrs = new CdrRepo(db);

  const consumption: Consumption = await bus.consume(
    'billing',
    'final',
    async (events) => {
      const cfg = config.current();
      const rating = { smsprice: cfg.smsprice, smstime: cfg.smstime };
      // One row per smsid even when a batch carries the same message twice.
      const bySmsid = new Map(events.map((e) => [e.smsid, e]));
      const rows = [...bySmsid.values()].map((e) => cdrFromFinal(e, rating));
      const inserted = await cdrs.insertBatch(rows);
      written.inc(inserted);
      duplicates.inc(events.length - inserted);
      let oldest = Infinity;
      for (const e of events) oldest = Math.min(oldest, e.at);
      lag.set(Math.max(0, (Date.now() - oldest) / 1000));
      log.info({ events: events.length, inserted }, 'cdr batch');
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
