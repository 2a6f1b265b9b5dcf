import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Consumption } from '@smsfleet/bus';
import { InboxRepo, RegisteredNumbersRepo, UsersRepo } from '@smsfleet/db';
import {
  Counter,
  Gauge,
  Lifecycle,
  createMetricsRegistry,
  type InfraEnv,
  type Logger,
} from '@smsfleet/runtime';
import { AuthGuard, SecretKey } from '@smsfleet/security';
import { connectServiceInfra } from '@smsfleet/service-kit';
import type { Redis } from 'ioredis';
import { ChatDelivery, type ChatEvent } from './chat-delivery.js';
import { DigestAuth } from './digest.js';
import { SipHandler } from './handler.js';
import { MizuClient } from './mizu-client.js';
import { Registrar, type SipTransportName } from './registrar.js';
import { ServerTransactions, transactionKey } from './server-transactions.js';
import { checkRequest, isRequest, type SipMessageObject } from './sip-message.js';
import { SipTransports } from './transport.js';
import { ClientTransactions } from './uac.js';
import { userSecretLookup } from './user-secrets.js';

export interface SipGatewayOptions {
  infra: InfraEnv;
  log: Logger;
  httpPort: number;
  sip: {
    host: string;
    port: number;
    tlsPort: number;
    tlsCertFile?: string;
    tlsKeyFile?: string;
    tlsVerifyPeer: boolean;
    /** Host (and realm default) put in Via of the requests we send. */
    advertisedHost: string;
    realm: string;
  };
  /** The api-gateway's Mizu endpoint, e.g. http://127.0.0.1:8084/mvapireq/ */
  apiUrl: string;
  apiTimeoutMs: number;
  /** `SMSFLEET_SECRET_KEY`, for the nonce signing key; else a key shared through Redis. */
  secretKeyText?: string;
  nonceTtlMs: number;
  maxBodyBytes: number;
  minExpiresS: number;
  maxExpiresS: number;
  defaultExpiresS: number;
  chat: { attempts: number; retryDelayMs: number; t1Ms: number; timeoutMs: number };
}

/** The nonce key every replica shares: from the server secret, or created once in Redis. */
async function nonceKey(redis: Redis, prefix: string, secretKeyText?: string): Promise<Buffer> {
  if (secretKeyText && secretKeyText.trim() !== '')
    return createHmac('sha256', secretKeyText.trim()).update('smsfleet-sip-nonce-v1').digest();
  const key = `${prefix}:sip:nonce-key`;
  await redis.set(key, randomBytes(32).toString('base64'), 'NX');
  const v = await redis.get(key);
  if (!v) throw new Error('could not read the shared SIP nonce key from Redis');
  return Buffer.from(v, 'base64');
}

/**
 * The SIP front: REGISTER and MESSAGE over UDP, TCP and TLS with digest authentication; a MESSAGE
 * to a qualifying target (`sendsmsmessages`) becomes an SMS through the api-gateway's Mizu API as
 * the SIP user; inbound chat messages (`sms.inbound`) go to users' registered contacts.
 */
export async function startSipGateway(opts: SipGatewayOptions): Promise<{
  close: () => Promise<string[]>;
  port: number;
  sipPorts: { udp: number; tcp: number; tls: number };
}> {
  const { infra, log } = opts;
  const life = new Lifecycle();
  let ready = false;
  const registry = createMetricsRegistry('sip-gateway');
  const requests = new Counter({
    name: 'smsfleet_sip_requests_total',
    help: 'SIP requests answered, by method and status',
    labelNames: ['method', 'status'],
    registers: [registry],
  });
  const malformed = new Counter({
    name: 'smsfleet_sip_malformed_total',
    help: 'Datagrams or stream messages that were not valid SIP',
    registers: [registry],
  });
  const chatOutcomes = new Counter({
    name: 'smsfleet_sip_chat_total',
    help: 'Inbound chat messages delivered by SIP MESSAGE, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'smsfleet_sip_client_transactions',
    help: 'SIP MESSAGE requests we sent that wait for a final answer',
    registers: [registry],
  });

  const { server, redis, db, bus, config } = await connectServiceInfra(life, {
    name: 'sip-gateway',
    infra,
    http: { port: opts.httpPort, registry, ready: () => ready },
    redis: true,
    pool: { min: 1, max: 4 },
    config: true,
  });

  const guard = new AuthGuard(redis, infra.queuePrefix);
  await guard.start();
  life.add('auth-guard', () => guard.stop());

  const auth = new DigestAuth(
    await nonceKey(redis, infra.queuePrefix, opts.secretKeyText),
    opts.sip.realm,
    opts.nonceTtlMs,
  );
  const registrar = new Registrar(redis, infra.queuePrefix);
  const secretKey = opts.secretKeyText ? SecretKey.fromText(opts.secretKeyText) : undefined;
  if (!secretKey) log.warn('SMSFLEET_SECRET_KEY is not set: no user can authenticate over SIP');
  const users = new UsersRepo(db, { secretKey: secretKey ?? null });
  const mizu = new MizuClient({ url: opts.apiUrl, timeoutMs: opts.apiTimeoutMs });
  const handler = new SipHandler({
    auth,
    userSecret: userSecretLookup(users, secretKey, (user, why) =>
      log.warn({ user, why }, 'SIP digest impossible for this user'),
    ),
    isBanned: async (user, address) => (await guard.admit({ user, address })).banned,
    recordAuthFailure: async (user, address) => void (await guard.fail({ user, address })),
    claimNonceUse: async (nonce, nc, cnonce) => {
      const id = createHash('sha256').update(`${nonce}|${nc}|${cnonce}`).digest('base64url');
      const key = `${infra.queuePrefix}:sip:nc:${id}`;
      return (await redis.set(key, '1', 'PX', opts.nonceTtlMs + 60_000, 'NX')) === 'OK';
    },
    registrar,
    config: () => config.current(),
    sendSms: (p) => mizu.send(p),
    maxBodyBytes: opts.maxBodyBytes,
    minExpiresS: opts.minExpiresS,
    maxExpiresS: opts.maxExpiresS,
    defaultExpiresS: opts.defaultExpiresS,
    onOutcome: (method, status) => requests.inc({ method, status: String(status) }),
    log,
  });

  const serverTx = new ServerTransactions();
  const pruner = setInterval(() => serverTx.prune(), 5_000);
  pruner.unref();
  life.add('transactions', () => clearInterval(pruner));
  // Created before the transports it sends through (their responses come back via onMessage).
  const uac = new ClientTransactions((msg, to) => transports.send(msg, to), {
    t1Ms: opts.chat.t1Ms,
    t2Ms: Math.max(opts.chat.t1Ms, 4_000),
    timeoutMs: opts.chat.timeoutMs,
  });
  life.add('client-transactions', () => uac.close());

  const onMessage = (
    m: SipMessageObject | undefined,
    src: { transport: SipTransportName; address: string; port: number },
    reply: (r: SipMessageObject) => void,
  ): void => {
    if (!m) {
      malformed.inc();
      return;
    }
    if (!isRequest(m)) {
      if (!uac.onResponse(m)) log.debug({ status: m.status, address: src.address }, 'stray SIP response');
      return;
    }
    const bad = checkRequest(m, '');
    if (bad) {
      malformed.inc();
      // Answer only when there is enough to address a response to.
      if (
        Array.isArray(m.headers.via) &&
        m.headers.via.length &&
        m.headers.cseq &&
        m.headers.from &&
        m.headers.to
      )
        reply({
          status: 400,
          reason: 'Bad Request',
          version: '2.0',
          headers: {
            via: m.headers.via,
            from: m.headers.from,
            to: m.headers.to,
            'call-id': m.headers['call-id'] ?? '',
            cseq: m.headers.cseq,
            warning: `399 smsfleet "${bad}"`,
          },
          content: '',
        });
      requests.inc({ method: m.method ?? '', status: '400' });
      return;
    }
    if (m.method.toUpperCase() === 'ACK') return;
    const key = transactionKey(m, src);
    const tx = serverTx.begin(key);
    if (tx.state === 'retransmission') {
      if (tx.response) reply(tx.response);
      return;
    }
    handler.handle(m, src).then(
      (res) => {
        serverTx.finish(key, res);
        if (res) reply(res);
      },
      (err: Error) => {
        log.error({ err: err.message, method: m.method }, 'SIP request failed');
        const res: SipMessageObject = {
          status: 500,
          reason: 'Server Internal Error',
          version: '2.0',
          headers: {
            via: m.headers.via,
            from: m.headers.from,
            to: m.headers.to,
            'call-id': m.headers['call-id'],
            cseq: m.headers.cseq,
            'retry-after': '5',
          },
          content: '',
        };
        serverTx.finish(key, res);
        reply(res);
        requests.inc({ method: m.method, status: '500' });
      },
    );
  };

  const transports = new SipTransports(
    {
      host: opts.sip.host,
      port: opts.sip.port,
      tlsPort: opts.sip.tlsPort,
      tlsCertFile: opts.sip.tlsCertFile,
      tlsKeyFile: opts.sip.tlsKeyFile,
      tlsVerifyPeer: opts.sip.tlsVerifyPeer,
      idleMs: 600_000,
    },
    onMessage,
    (what, err) => log.warn({ err: err.message, what }, 'SIP transport error'),
  );
  await transports.start();
  life.add('sip', () => transports.close());

  const numbers = new RegisteredNumbersRepo(db);
  const inbox = new InboxRepo(db);
  const chat = new ChatDelivery({
    registrar,
    userName: async (id) => (await numbers.userById(id))?.name,
    request: async (msg, to) => {
      inFlight.inc();
      try {
        return await uac.request(msg, to);
      } finally {
        inFlight.dec();
      }
    },
    via: (t) => ({ host: opts.sip.advertisedHost, port: transports.viaPort(t) }),
    connected: (src) => transports.hasConnection(src),
    realm: opts.sip.realm,
    attempts: opts.chat.attempts,
    retryDelayMs: opts.chat.retryDelayMs,
    alreadyDone: async (moId) => (await inbox.getSipState(moId))?.state === 'delivered',
    record: (moId, state, attempts, detail) => inbox.setSipState(moId, state, attempts, detail),
    onOutcome: (state) => chatOutcomes.inc({ outcome: state }),
    log,
  });
  // A batch is held until each of its messages is delivered or given up: the ack wait covers
  // every attempt, so JetStream does not redeliver a batch that is still being worked on.
  const worstCaseMs =
    opts.chat.attempts * (opts.chat.timeoutMs + 1_000) + opts.chat.retryDelayMs * 2 ** opts.chat.attempts;
  const consumption: Consumption = await bus.consume<ChatEvent>(
    'sip-gateway',
    'inbound',
    async (events) => {
      await Promise.all(events.map((e) => chat.deliver(e)));
    },
    {
      maxBatchMessages: 32,
      ackWaitMs: worstCaseMs + 30_000,
      retryDelayMs: 2_000,
      onError: (err) =>
        log.warn({ err: (err as Error).message }, 'sip chat batch not done, will be redelivered'),
    },
  );
  life.add('consumer', () => consumption.stop());

  ready = true;
  life.add('readiness', () => {
    ready = false;
  });
  log.info(
    {
      port: server.port,
      udp: transports.udpPort,
      tcp: transports.tcpPort,
      tls: transports.tlsPort || undefined,
      realm: opts.sip.realm,
    },
    'sip-gateway started',
  );
  return {
    close: () => life.close(),
    port: server.port,
    sipPorts: { udp: transports.udpPort, tcp: transports.tcpPort, tls: transports.tlsPort },
  };
}
