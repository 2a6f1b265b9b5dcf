import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Consumption } from '@smsfleet/bus';
import type { OutboundSms } from '@smsfleet/core';
import { CircuitBreaker, OpsStatsWriter } from '@smsfleet/queue';
import { apiFixture, type ApiApp } from '../../test/api-fixture.js';
import { alertKeys, readAlerts, type AlertRecord } from './alert-monitor.js';

/**
 * Admin alerts against real Redis, MariaDB and NATS. The readings are made by the real components
 * that make them in production: the dispatcher's CircuitBreaker, the api-gateway's own queueing
 * (messages to a gateway no dispatcher serves), OpsStatsWriter final-state counts, and a billing
 * consumer that holds its batch without acking. Two api-gateway replicas run the monitor every
 * 200 ms on the same prefix: each alert must go out once.
 */
const fx = apiFixture({ tag: 'al', bus: true });
const { infra, sfx } = fx;
const KEY = `key-${sfx}`;
const ADMINS = ['36209990001', '36209990002'];
const TICK_MS = 200;

let gwMain = 0;
let gwAlert = 0;
const apps: ApiApp[] = [];
let billingHold: (() => void) | undefined;
let billing: Consumption | undefined;

const queuedOn = (gatewayId: number): Promise<OutboundSms[]> => fx.queued(gatewayId);

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Recorded alerts of a kind about the main gateway (or billing). */
async function alertsOf(kind: string): Promise<AlertRecord[]> {
  const subject = kind === 'billing-lag' ? 'billing' : `gw:${gwMain}`;
  return (await readAlerts(fx.redis, infra.queuePrefix, 200)).filter(
    (a) => a.kind === kind && a.subject === subject,
  );
}

beforeAll(async () => {
  await fx.start();
  const { bus, users } = fx;
  await users.create({ name: 'root', password: 'root-pw', type: 'admin' });
  // The first gateway takes normal traffic (no routing rules); the second carries alerts.
  gwMain = (await users.create({ name: 'main', password: '', type: 'smsgw', smsurl: 'http://127.0.0.1:9/x' }))
    .id;
  gwAlert = (
    await users.create({ name: 'alerts', password: '', type: 'smsgw', smsurl: 'http://127.0.0.1:9/y' })
  ).id;

  // Billing: a consumer that received a batch and never acks it (billing stuck on MySQL).
  await bus.publish('final', [
    { smsid: 'stuck-1', state: 'delivered', at: Date.now(), gatewayId: gwMain } as never,
  ]);
  const hold = new Promise<void>((r) => (billingHold = r));
  billing = await bus.consume('billing', 'final', () => hold);
  await waitFor('billing backlog', async () => {
    const b = await bus.consumerBacklog('billing', 'final');
    return b && b.ackPending === 1 && b.oldestAt !== null ? b : undefined;
  });

  await fx.setConfig({
    apiv2key: KEY,
    smsalertnumbers: ADMINS.join(', '),
    smsalertgateway: String(gwAlert),
    smsalertqueuedepth: '5',
    smsalertbillinglag: '2',
    smsalertdeliveryrate: '80',
    smsalertdeliverymin: '10',
    smsalertrepeat: '600',
  });
  for (let i = 0; i < 2; i++) apps.push(await fx.startApp({ alertIntervalMs: TICK_MS }));
}, 60_000);

afterAll(async () => {
  await fx.stopApps();
  billingHold?.();
  await billing?.stop();
  await fx.close();
}, 60_000);

/** An alert of `kind` was recorded; its SMS are queued on the alert gateway, uncharged. */
async function expectSent(kind: string, subject: string, text: RegExp): Promise<AlertRecord> {
  const [a] = await waitFor(kind, async () => {
    const l = await alertsOf(kind);
    return l.length ? l : undefined;
  });
  expect(a).toMatchObject({ kind, subject, to: ADMINS, gatewayId: gwAlert });
  expect(a!.text).toMatch(text);
  expect(a!.smsids).toHaveLength(2);
  const queued = await waitFor('alert SMS queued', async () => {
    const q = (await queuedOn(gwAlert)).filter((m) => a!.smsids.includes(m.smsid));
    return q.length === 2 ? q : undefined;
  });
  for (const m of queued) {
    expect(m).toMatchObject({ userId: 0, text: a!.text, gatewayId: gwAlert });
    expect(m.reserved).toBeUndefined();
  }
  expect(queued.map((m) => m.to).sort()).toEqual(ADMINS);
  return a!;
}

/** Several more ticks of both replicas pass and the alert is still recorded once. */
async function expectOnce(kind: string): Promise<void> {
  await sleep(TICK_MS * 6);
  expect(await alertsOf(kind)).toHaveLength(1);
}

describe('admin alerts', () => {
  test('circuit open: alert through the alert gateway, once', async () => {
    const breaker = new CircuitBreaker(fx.redis, infra.queuePrefix);
    await breaker.recordFailure(gwMain, 'connect ECONNREFUSED 127.0.0.1:9', {
      failureThreshold: 1,
      openMs: 60_000,
    });
    await expectSent(
      'circuit-open',
      `gw:${gwMain}`,
      /^smsfleet ALERT: gateway main \(\d+\) circuit open: connect ECONNREFUSED/,
    );
    await expectOnce('circuit-open');
  });

  test('queue depth: messages piling up on a gateway no dispatcher serves', async () => {
    expect(await alertsOf('queue-depth')).toHaveLength(0);
    for (let i = 0; i < 5; i++) {
      const r = await fetch(
        `http://127.0.0.1:${apps[i % 2]!.port}/mvapireq/?${new URLSearchParams({
          apientry: 'asendsms',
          authkey: KEY,
          bnum: `3630100000${i}`,
          message: 'queued',
        }).toString()}`,
      );
      expect(await r.text()).toMatch(/^OK /);
    }
    await expectSent('queue-depth', `gw:${gwMain}`, /queue 5 messages \(threshold 5\)$/);
    await expectOnce('queue-depth');
    // The alert SMS pile up on the alert gateway too (no dispatcher here): it is a subject of its own.
    await waitFor('queue alert about the alert gateway', async () =>
      (await readAlerts(fx.redis, infra.queuePrefix, 200)).find(
        (a) => a.kind === 'queue-depth' && a.subject === `gw:${gwAlert}`,
      ),
    );
  });

  test('delivery rate below the threshold (final states as the verifier counts them)', async () => {
    const w = new OpsStatsWriter(fx.redis, infra.queuePrefix, { flushMs: 60_000 });
    w.count(gwMain, 'final:delivered', 6);
    w.count(gwMain, 'final:undelivered', 14);
    await w.close();
    await expectSent('delivery-rate', `gw:${gwMain}`, /delivery rate 30% of 20 \(below 80%\)$/);
    await expectOnce('delivery-rate');
  });

  test('billing lag: the oldest unbilled final is older than the threshold', async () => {
    const a = await expectSent('billing-lag', 'billing', /billing lags: 1 batches pending, oldest \d+ s$/);
    expect(a.value).toBeGreaterThanOrEqual(2);
    await expectOnce('billing-lag');
  });

  test('the same alert goes out again once its repeat window has passed', async () => {
    const k = alertKeys(infra.queuePrefix);
    // As if smsalertrepeat seconds had passed: the claim expired, the last-sent time is old.
    await fx.redis.del(k.claim(`circuit-open:gw:${gwMain}`));
    await fx.redis.hset(k.last, `circuit-open:gw:${gwMain}`, Date.now() - 601_000);
    // While another replica holds the lease, these two evaluate nothing.
    await fx.redis.set(k.leader, 'another-replica', 'PX', 60_000);
    await sleep(TICK_MS * 6);
    expect(await alertsOf('circuit-open')).toHaveLength(1);
    // That replica died: its lease ends, one of these takes over and the due alert goes out.
    await fx.redis.del(k.leader);
    await waitFor('second circuit alert', async () =>
      (await alertsOf('circuit-open')).length === 2 ? true : undefined,
    );
    await sleep(TICK_MS * 6);
    expect(await alertsOf('circuit-open')).toHaveLength(2);
    // Only circuit-open was due again.
    for (const kind of ['queue-depth', 'delivery-rate', 'billing-lag'])
      expect(await alertsOf(kind)).toHaveLength(1);
  });

  test('one replica leads; the dashboard shows the alerts to admins', async () => {
    const holder = await fx.redis.get(alertKeys(infra.queuePrefix).leader);
    expect(holder).toBeTruthy();
    const base = `http://127.0.0.1:${apps[0]!.port}`;
    expect((await fetch(`${base}/ops/api/alerts`)).status).toBe(401);
    const login = await fetch(`${base}/ops/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'root', password: 'root-pw' }).toString(),
    });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const r = await fetch(`${base}/ops/api/alerts`, { headers: { cookie } });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { numbers: number; gateway: number; alerts: AlertRecord[] };
    expect(body).toMatchObject({ numbers: 2, gateway: gwAlert });
    expect(body.alerts.map((a) => a.kind)).toEqual(
      expect.arrayContaining(['circuit-open', 'queue-depth', 'delivery-rate', 'billing-lag']),
    );
    const page = await (await fetch(`${base}/ops/`, { headers: { cookie } })).text();
    expect(page).toContain('<table id="alerts">');
    expect(page).toContain('/web-assets/ops-alerts.js');
    const js = await fetch(`${base}/web-assets/ops-alerts.js`);
    expect(js.status).toBe(200);
    expect(await js.text()).toContain('/ops/api/alerts');
  });
});
