import type { Consumption } from '@smsfleet/bus';
import { sipRegistrationKey, type MoMessage } from '@smsfleet/core';
import {
  CallbackRequestsRepo,
  InboundCdrRepo,
  InboxRepo,
  MoPartsRepo,
  RechargeRepo,
  RegisteredNumbersRepo,
  loadRoutingTables,
} from '@smsfleet/db';
import { ChunkProducer } from '@smsfleet/queue';
import { AuthGuard, authBanSettingsFrom } from '@smsfleet/security';
import {
  Counter,
  Lifecycle,
  createMetricsRegistry,
  type InfraEnv,
  type Logger,
  type TlsListen,
} from '@smsfleet/runtime';
import { connectServiceInfra } from '@smsfleet/service-kit';
import { AnswerSender } from './answer-sender.js';
import { CommandRunner } from './command-runner.js';
import { MailerHolder } from './mailer-holder.js';
import { MoProcessor } from './mo-processor.js';

export interface InboundOptions {
  infra: InfraEnv;
  httpPort: number;
  log: Logger;
  maxBatchMessages: number;
  /** A failing email is retried this long, then the message stays in the inbox. */
  emailGiveUpMs: number;
  /** Delay before a batch that failed (database or mail server away) is delivered again. */
  retryDelayMs: number;
  /** Parts of a concatenated message whose siblings never come are dropped after this long. */
  partTtlMs: number;
  /** HTTPS listener for /healthz, /readyz, /metrics (TLS_CERT_FILE, TLS_KEY_FILE, HTTPS_PORT). */
  tls?: TlsListen;
}

/**
 * The inbound service: a durable JetStream consumer of `mo` (from smsreceive, provider callbacks
 * and SMPP binds) that reassembles concatenated parts, delivers to users (inbox, `sms.inbound`,
 * email), runs SMS commands and writes one inbound CDR per message. Nothing is acknowledged before
 * it is stored; a database or mail outage delays delivery and loses nothing.
 */
export async function startInbound(
  opts: InboundOptions,
): Promise<{ close: () => Promise<string[]>; port: number }> {
  const { infra, log } = opts;
  const life = new Lifecycle();
  let ready = false;
  const registry = createMetricsRegistry('inbound');
  const delivered = new Counter({
    name: 'smsfleet_inbound_messages_total',
    help: 'Inbound messages handled, by outcome (chat, email, command, undelivered)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const failedBatches = new Counter({
    name: 'smsfleet_inbound_batch_retries_total',
    help: 'Inbound batches handed back for redelivery (database or mail server away)',
    registers: [registry],
  });

  const { server, redis, db, bus, config } = await connectServiceInfra(life, {
    name: 'inbound',
    infra,
    http: { port: opts.httpPort, registry, ready: () => ready, ...(opts.tls ? { tls: opts.tls } : {}) },
    redis: true,
    pool: { min: 1, max: 4 },
    config: true,
  });
  const mailers = new MailerHolder(() => config.current());
  life.add('mail', () => mailers.close());
  const producer = new ChunkProducer({ connection: redis, prefix: infra.queuePrefix });
  life.add('producer', () => producer.close());

  const numbers = new RegisteredNumbersRepo(db);
  const recharge = new RechargeRepo(db);
  const calls = new CallbackRequestsRepo(db);
  const answers = new AnswerSender({
    config: () => config.current(),
    routing: () => loadRoutingTables(db),
    addChunks: (chunks) => producer.addChunks(chunks),
    publishAccepted: (events, msgId) => bus.publish('accepted', events, msgId),
  });
  // PINs and passwords guessed over SMS count on the fleet-wide ban list (authban_* keys).
  const guard = new AuthGuard(redis, infra.queuePrefix, {
    settings: () => authBanSettingsFrom(config.current()),
  });
  await guard.start();
  life.add('auth-guard', () => guard.stop());
  const commands = new CommandRunner({
    guard,
    userByName: (n) => numbers.userByName(n),
    usersByNumbers: (n) => numbers.usersByNumbers(n),
    pinCandidates: (t) => numbers.pinCandidates(t),
    registerNumber: (u, n) => numbers.add(u, n),
    redeem: (code, userId, ref) => recharge.redeem(code, userId, ref),
    storeCallRequest: (r) => calls.insertOnce(r),
    publishCall: (kind, event, msgId) => bus.publish(kind, [event], msgId),
  });
  const parts = new MoPartsRepo(db);
  const processor = new MoProcessor({
    inbox: new InboxRepo(db),
    numbers,
    parts,
    cdrs: new InboundCdrRepo(db),
    commands,
    config: () => config.current(),
    mailer: () => mailers.current(),
    publish: (subject, events, msgId) => bus.publish(subject, events, msgId),
    sendAnswer: async (a) => {
      const smsid = await answers.send(a);
      if (smsid) log.info({ smsid, to: a.to, state: 'answer-queued' }, 'command answer');
      else log.warn({ to: a.to }, 'command answer not sent: no SMS gateway (or enablesms=false)');
    },
    log,
    emailGiveUpMs: opts.emailGiveUpMs,
    onDelivered: (kind) => delivered.inc({ outcome: kind }),
    sipRegistered: async (names) => {
      const keys = names.map((n) => sipRegistrationKey(infra.queuePrefix, n));
      const found = await Promise.all(keys.map((k) => redis.exists(k)));
      return new Set(names.filter((_, i) => found[i] === 1));
    },
  });

  const consumption: Consumption = await bus.consume<MoMessage>(
    'inbound',
    'mo',
    (events) => processor.process(events),
    {
      maxBatchMessages: opts.maxBatchMessages,
      retryDelayMs: opts.retryDelayMs,
      onError: (err) => {
        failedBatches.inc();
        log.warn({ err: (err as Error).message }, 'inbound batch not done, will be redelivered');
      },
    },
  );
  life.add('consumer', () => consumption.stop());

  // Orphaned parts (a sibling lost by the SMSC) would wait forever: give them up after a while.
  const expiry = setInterval(
    () => {
      parts.expire(opts.partTtlMs).then(
        (dropped) => {
          for (const p of dropped)
            log.warn(
              { moId: p.id, seq: p.part?.seq, total: p.part?.total, state: 'expired' },
              'mo part expired',
            );
        },
        (err: Error) => log.warn({ err: err.message }, 'part expiry failed'),
      );
    },
    Math.min(60_000, Math.max(1_000, Math.floor(opts.partTtlMs / 4))),
  );
  expiry.unref();
  life.add('expiry', () => clearInterval(expiry));

  ready = true;
  life.add('readiness', () => {
    ready = false;
  });
  log.info({ port: server.port }, 'inbound started');
  return { close: () => life.close(), port: server.port };
}
