/**
 * Administrative alerts by SMS. Every api-gateway replica runs this loop, but each tick only the
 * replica holding the Redis lease `P:alerts:leader` evaluates (the lease lasts three ticks and is
 * renewed by its holder, so a dead leader is replaced within three ticks). The api-gateway hosts
 * it because it already has everything an alert needs: the send path (SendService), the
 * dashboard's fleet-wide readings (OpsStateReader: circuits, queues, delivery figures from Redis),
 * the NATS connection (billing backlog) and the live config.
 *
 * Per tick: readings -> core `evaluateAlerts` (thresholds from config, last-sent times) -> each
 * alert is claimed fleet-wide with `SET P:alerts:rl:<kind>:<subject> NX PX <smsalertrepeat>`, sent
 * to every `smsalertnumbers` number as the server (uncharged), and recorded in the Redis list
 * `P:alerts:log` (newest first, capped) that the ops dashboard shows.
 *
 * Routing: with `smsalertgateway` set to an enabled SMS GW user id, alerts go through that gateway
 * whatever the routing table says, so an alert about a failing gateway does not wait behind that
 * gateway's open circuit; 0 uses normal routing.
 */
import os from 'node:os';
import type { ConfigSnapshot } from '@smsfleet/config';
import {
  evaluateAlerts,
  parseAlertNumbers,
  type Alert,
  type AlertReadings,
  type AlertThresholds,
} from '@smsfleet/core';
import type { Redis } from '@smsfleet/queue';
import { Counter } from '@smsfleet/runtime';
import type { ApiContext, GatewayRef } from '../api-context.js';
import { OpsStateReader } from '../ops/ops-state.js';
import { sendServiceFor } from '../send-service.js';

/** How many alerts the log keeps. */
export const ALERT_LOG_MAX = 200;

export interface AlertRecord {
  at: number;
  kind: Alert['kind'];
  subject: string;
  text: string;
  value: number;
  threshold: number;
  /** Admin numbers it was sent to. */
  to: string[];
  smsids: string[];
  /** Gateway the SMS went to (when sent). */
  gatewayId?: number;
  /** Why it could not be sent (the alert is still recorded). */
  error?: string;
}

export function alertKeys(prefix: string) {
  return {
    leader: `${prefix}:alerts:leader`,
    log: `${prefix}:alerts:log`,
    last: `${prefix}:alerts:last`,
    claim: (key: string) => `${prefix}:alerts:rl:${key}`,
  };
}

/** The latest alerts, newest first. */
export async function readAlerts(redis: Redis, prefix: string, limit = 50): Promise<AlertRecord[]> {
  const raw = await redis.lrange(alertKeys(prefix).log, 0, limit - 1);
  const out: AlertRecord[] = [];
  for (const r of raw) {
    try {
      out.push(JSON.parse(r) as AlertRecord);
    } catch {
      // a malformed entry is skipped
    }
  }
  return out;
}

export function thresholdsOf(cfg: ConfigSnapshot): AlertThresholds {
  return {
    queueDepth: cfg.smsalertqueuedepth,
    billingLagSeconds: cfg.smsalertbillinglag,
    billingPending: cfg.smsalertbillingpending,
    deliveryRatePercent: cfg.smsalertdeliveryrate,
    deliveryMinFinals: cfg.smsalertdeliverymin,
    repeatSeconds: cfg.smsalertrepeat,
    circuitOpen: cfg.smsalertcircuit,
  };
}

/** KEYS[1] lease. ARGV: holder, ms. 1 when the caller holds the lease (renewed or taken). */
const LEASE_LUA = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
`;
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type RedisWithLease = Redis & {
  smsfleetAlertLease(key: string, holder: string, ms: number): Promise<number>;
  smsfleetAlertRelease(key: string, holder: string): Promise<number>;
};

export interface AlertMonitorOptions {
  /** Milliseconds between evaluations. */
  intervalMs: number;
  /** This replica's lease holder id (default: host, pid and a random part). */
  instance?: string;
  /** The billing service's durable consumer name. */
  billingDurable?: string;
}

export class AlertMonitor {
  private readonly redis: RedisWithLease;
  private readonly keys: ReturnType<typeof alertKeys>;
  private readonly reader: OpsStateReader;
  private readonly instance: string;
  private readonly sent: Counter;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: ApiContext,
    private readonly opts: AlertMonitorOptions,
  ) {
    const r = ctx.redis as RedisWithLease;
    if (typeof (r as Partial<RedisWithLease>).smsfleetAlertLease !== 'function') {
      r.defineCommand('smsfleetAlertLease', { numberOfKeys: 1, lua: LEASE_LUA });
      r.defineCommand('smsfleetAlertRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    }
    this.redis = r;
    this.keys = alertKeys(ctx.infra.queuePrefix);
    this.reader = new OpsStateReader(ctx.redis, ctx.infra.queuePrefix);
    this.instance =
      opts.instance ?? `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.sent = new Counter({
      name: 'smsfleet_alerts_sent_total',
      help: 'Admin alert SMS sent (one per alert, whatever the number of admin numbers)',
      labelNames: ['kind'],
      registers: [ctx.registry],
    });
  }

  start(): this {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: Error) => this.ctx.log.warn({ err: err.message }, 'alert evaluation failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(loop, this.opts.intervalMs);
        });
    };
    this.timer = setTimeout(loop, this.opts.intervalMs);
    return this;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.redis.smsfleetAlertRelease(this.keys.leader, this.instance).catch(() => undefined);
    await this.reader.close();
  }

  /** One evaluation; returns the alerts this replica sent (none when another replica leads). */
  async tick(now = Date.now()): Promise<AlertRecord[]> {
    const cfg = this.ctx.config.current();
    const numbers = parseAlertNumbers(cfg.smsalertnumbers);
    if (numbers.length === 0) return [];
    const leads = await this.redis.smsfleetAlertLease(
      this.keys.leader,
      this.instance,
      Math.max(1_000, this.opts.intervalMs * 3),
    );
    if (leads !== 1) return [];

    const gateways = await this.gateways(cfg);
    const readings = await this.readings(gateways);
    const lastRaw = await this.redis.hgetall(this.keys.last);
    const last = new Map(Object.entries(lastRaw).map(([k, v]) => [k, Number(v)]));
    const alerts = evaluateAlerts(readings, thresholdsOf(cfg), last, now);
    const out: AlertRecord[] = [];
    for (const a of alerts) {
      // Fleet-wide rate limit: whoever sets the claim sends; a lost lease race sends nothing twice.
      const claimed = await this.redis.set(
        this.keys.claim(a.key),
        String(now),
        'PX',
        cfg.smsalertrepeat * 1000,
        'NX',
      );
      if (claimed !== 'OK') continue;
      await this.redis.hset(this.keys.last, a.key, now);
      out.push(await this.send(a, numbers, gateways, cfg, now));
    }
    return out;
  }

  private async gateways(cfg: ConfigSnapshot): Promise<GatewayRef[]> {
    const list = (await this.ctx.users.listGateways())
      .filter((u) => u.enabled)
      .map((u) => ({ id: u.id, name: u.name }));
    if (cfg.smsurl) list.unshift({ id: 0, name: 'smsurl (global)' });
    return list;
  }

  private async readings(gateways: GatewayRef[]): Promise<AlertReadings> {
    const state = await this.reader.read(gateways);
    const billing = await this.ctx.bus
      .consumerBacklog(this.opts.billingDurable ?? 'billing', 'final')
      .catch((err: Error) => {
        this.ctx.log.warn({ err: err.message }, 'billing backlog not readable');
        return undefined;
      });
    const now = Date.now();
    return {
      gateways: state.gateways.map((g) => ({
        id: g.id,
        name: g.name,
        circuit: { state: g.circuit.state, reason: g.circuit.reason },
        queuedMessages: g.pendingMessages,
        finals: g.window.finalTotal,
        okRate: g.window.okRate,
      })),
      ...(billing
        ? {
            billing: {
              pending: billing.pending + billing.ackPending,
              oldestAgeSeconds:
                billing.oldestAt === null ? null : Math.max(0, (now - billing.oldestAt) / 1000),
            },
          }
        : {}),
    };
  }

  private async send(
    a: Alert,
    numbers: string[],
    gateways: GatewayRef[],
    cfg: ConfigSnapshot,
    now: number,
  ): Promise<AlertRecord> {
    const record: AlertRecord = {
      at: now,
      kind: a.kind,
      subject: a.subject,
      text: a.text,
      value: a.value,
      threshold: a.threshold,
      to: numbers,
      smsids: [],
    };
    this.ctx.log.warn({ alert: a.kind, subject: a.subject, value: a.value, threshold: a.threshold }, a.text);
    try {
      const { messages } = await sendServiceFor(this.alertContext(gateways, cfg)).send({
        // The server itself: no rights check, never charged (CDRs under user 0).
        principal: { userId: 0, name: 'alerts', admin: true },
        recipients: numbers,
        text: a.text,
        cfg,
      });
      record.smsids = messages.map((m) => m.smsid);
      record.gatewayId = messages[0]?.gatewayId;
      this.sent.inc({ kind: a.kind });
    } catch (err) {
      record.error = (err as Error).message.slice(0, 300);
      this.ctx.log.error({ alert: a.kind, err: record.error }, 'alert SMS not sent');
    }
    await this.redis
      .multi()
      .lpush(this.keys.log, JSON.stringify(record))
      .ltrim(this.keys.log, 0, ALERT_LOG_MAX - 1)
      .exec();
    return record;
  }

  private forcedCtx: { id: number; ctx: ApiContext } | undefined;

  /**
   * The context alerts are sent with: the api-gateway's own, or, with `smsalertgateway` naming an
   * enabled gateway, one whose routing always answers that gateway (its own SendService instance).
   */
  private alertContext(gateways: GatewayRef[], cfg: ConfigSnapshot): ApiContext {
    const id = cfg.smsalertgateway;
    if (id === 0) return this.ctx;
    const gw = gateways.find((g) => g.id === id);
    if (!gw) {
      this.ctx.log.warn({ smsalertgateway: id }, 'alert gateway unknown or disabled: normal routing');
      return this.ctx;
    }
    if (this.forcedCtx?.id !== id) {
      const ref: GatewayRef = { id: gw.id, name: gw.name };
      this.forcedCtx = { id, ctx: { ...this.ctx, chooseGateway: () => ref } };
    }
    return this.forcedCtx.ctx;
  }
}

/** Starts the monitor on this replica; it stops with the api-gateway. */
export function startAlertMonitor(ctx: ApiContext, opts: AlertMonitorOptions): AlertMonitor {
  const m = new AlertMonitor(ctx, opts).start();
  ctx.onClose('alert-monitor', () => m.close());
  return m;
}
