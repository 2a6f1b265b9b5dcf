import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { EventBus } from '@smsfleet/bus';
import { ConfigRepo, UsersRepo } from '@smsfleet/db';
import { Redis } from '@smsfleet/queue';
import type { OutboundSms, ReceiptEvent, SmsEvent } from '@smsfleet/core';
import { createTestDb, type TestDb } from '../../../packages/db/test/test-db.js';
import { startVerifier } from './app.js';

const id = randomBytes(4).toString('hex');
const prefix = `v${id}`;
const queuePrefix = `vt-${id}`;
let tdb: TestDb;
let bus: EventBus;
let verifier: { close: () => Promise<string[]> };
const finals = new Map<string, SmsEvent[]>();
let provider: http.Server;
let providerUrl = '';
const verifyAnswers = new Map<string, string[]>(); // messageId -> answers in order
const verifyCalls = new Map<string, number>();

function msg(smsid: string): OutboundSms {
  return {
    smsid,
    userId: 999,
    gatewayId: 7,
    from: '100',
    to: '36201234567',
    text: 'hi',
    encoding: 'GSM7',
    segments: 1,
    clientIp: '127.0.0.1',
    acceptedAt: Date.now(),
  };
}
const submitted = (smsid: string, extra: Partial<SmsEvent>): SmsEvent => ({
  smsid,
  state: 'submitted',
  at: Date.now(),
  msg: msg(smsid),
  submittedAt: Date.now(),
  ...extra,
});
const receipt = (
  providerMessageId: string,
  stat: string,
  extra: Partial<ReceiptEvent> = {},
): ReceiptEvent => ({
  gatewayId: 7,
  providerMessageId,
  stat,
  receivedAt: Date.now(),
  source: 'smpp',
  ...extra,
});

async function finalOf(smsid: string, timeoutMs = 10_000): Promise<SmsEvent> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const f = finals.get(smsid);
    if (f?.length) return f[0]!;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no final state for ${smsid}`);
}

beforeAll(async () => {
  tdb = await createTestDb();
  provider = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const mid = u.searchParams.get('messageId') ?? '';
    verifyCalls.set(mid, (verifyCalls.get(mid) ?? 0) + 1);
    const answers = verifyAnswers.get(mid) ?? [];
    const a = answers.length > 1 ? answers.shift()! : (answers[0] ?? 'hang');
    if (a === 'hang') return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' }).end(a);
  });
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', () => r()));
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}/status?to=[tonum]`;
  const cfg = new ConfigRepo(tdb.db);
  await cfg.set('smsverifyurl', providerUrl);
  await cfg.set('smsverifydelay', '100');
  verifier = await startVerifier({
    infra: {
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: tdb.url,
      natsUrl: 'nats://127.0.0.1:4222',
      queuePrefix,
      eventPrefix: prefix,
      logLevel: 'silent',
    },
    httpPort: 0,
    log: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    receiptMaxAgeMs: 3000,
    earlyReceiptTtlMs: 60_000,
    verifyMaxAgeMs: 2500,
    verifyTimeoutMs: 300,
    verifyConcurrency: 8,
    webhookConcurrency: 4,
    webhookTimeoutMs: 1000,
  });
  bus = await EventBus.connect({ url: 'nats://127.0.0.1:4222', prefix });
  await bus.consume<SmsEvent>('test-finals', 'final', async (events) => {
    for (const e of events) finals.set(e.smsid, [...(finals.get(e.smsid) ?? []), e]);
  });
}, 60_000);

afterAll(async () => {
  await verifier?.close();
  await bus?.deleteStream();
  await bus?.close();
  provider?.close();
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${queuePrefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await tdb?.close();
}, 60_000);

describe('verifier: receipts', () => {
  test('a receipt finalises the message; a duplicate receipt changes nothing', async () => {
    await bus.publish('submitted', [submitted('r1', { providerMessageId: 'A1', awaitReceipt: true })]);
    await new Promise((r) => setTimeout(r, 300));
    // An unmatched receipt in the same batch must not disturb the matched one.
    await bus.publish('receipt', [receipt('nobody-1', 'DELIVRD'), receipt('A1', 'DELIVRD')]);
    expect((await finalOf('r1')).state).toBe('delivered');
    await bus.publish('receipt', [receipt('A1', 'UNDELIV')]);
    await new Promise((r) => setTimeout(r, 500));
    expect(finals.get('r1')).toHaveLength(1);
  });

  test('hex id at submit, decimal id in the receipt', async () => {
    await bus.publish('submitted', [submitted('r2', { providerMessageId: '2B0E7D51', awaitReceipt: true })]);
    await new Promise((r) => setTimeout(r, 300));
    await bus.publish('receipt', [receipt('722369873', 'UNDELIV', { err: '001' })]);
    const f = await finalOf('r2');
    expect(f.state).toBe('undelivered');
    expect(f.reason).toContain('err:001');
  });

  test('a receipt that arrives before its submit answer is held and matched', async () => {
    await bus.publish('receipt', [receipt('early-9', 'DELIVRD')]);
    await new Promise((r) => setTimeout(r, 300));
    expect(finals.has('r3')).toBe(false);
    await bus.publish('submitted', [submitted('r3', { providerMessageId: 'EARLY-9', awaitReceipt: true })]);
    expect((await finalOf('r3')).state).toBe('delivered');
  });

  test('multipart: delivered only when every part is; one failed part fails the message', async () => {
    await bus.publish('submitted', [
      submitted('m1', { providerMessageId: 'p1,p2,p3', partIds: ['p1', 'p2', 'p3'], awaitReceipt: true }),
      submitted('m2', { providerMessageId: 'q1,q2', partIds: ['q1', 'q2'], awaitReceipt: true }),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    await bus.publish('receipt', [
      receipt('p1', 'DELIVRD'),
      receipt('p3', 'DELIVRD'),
      receipt('q2', 'DELIVRD'),
    ]);
    await new Promise((r) => setTimeout(r, 400));
    expect(finals.has('m1')).toBe(false);
    await bus.publish('receipt', [receipt('p2', 'DELIVRD'), receipt('q1', 'EXPIRED')]);
    expect((await finalOf('m1')).state).toBe('delivered');
    const m2 = await finalOf('m2');
    expect(m2.state).toBe('expired');
    expect(m2.reason).toContain('parts');
  });

  test('no receipt within the maximum age ends unknown', async () => {
    await bus.publish('submitted', [submitted('r4', { providerMessageId: 'never', awaitReceipt: true })]);
    const f = await finalOf('r4', 15_000);
    expect(f.state).toBe('unknown');
    expect(f.reason).toMatch(/no receipt/);
  }, 20_000);

  test('a receipt for an unknown id is kept, not dropped, and produces no final', async () => {
    await bus.publish('receipt', [receipt('ghost-1', 'DELIVRD')]);
    const redis = new Redis('redis://127.0.0.1:6379');
    try {
      const until = Date.now() + 5000;
      let kept: string[] = [];
      while (Date.now() < until && !kept.some((k) => k.includes('ghost-1'))) {
        kept = await redis.lrange(`${queuePrefix}:rcpt-unmatched`, 0, -1);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(kept.some((k) => k.includes('ghost-1'))).toBe(true);
    } finally {
      await redis.quit();
    }
  });
});

describe('verifier: status webhooks', () => {
  test('a receiver that fails twice then accepts gets each state once, signed', async () => {
    const got: { state: string; sig: string; body: string }[] = [];
    let calls = 0;
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls++;
        if (calls <= 2) return res.writeHead(500).end('not yet');
        got.push({
          state: (JSON.parse(body) as { state: string }).state,
          sig: String(req.headers['x-smsfleet-signature']),
          body,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    try {
      const uid = (await new UsersRepo(tdb.db).create({ name: 'hooked', password: 'x', type: 'user' })).id;
      await tdb
        .db('users')
        .where({ id: uid })
        .update({
          webhook_url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
          webhook_secret: 'whsec',
        });
      const m = { ...msg('w1'), userId: Number(uid) };
      await bus.publish('failed', [
        { smsid: 'w1', state: 'failed', at: Date.now(), msg: m, reason: 'no route' },
      ]);
      const until = Date.now() + 15_000;
      while (Date.now() < until && got.length < 1) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1500));
      expect(calls).toBe(3);
      expect(got.map((g) => g.state)).toEqual(['failed']);
      const { createHmac } = await import('node:crypto');
      expect(got[0]!.sig).toBe(`sha256=${createHmac('sha256', 'whsec').update(got[0]!.body).digest('hex')}`);
    } finally {
      hook.close();
    }
  }, 25_000);
});

describe('verifier: delayed verify requests', () => {
  test.each([
    ['delivered', ['{"status":"delivered"}'], 'delivered'],
    ['failed', ['{"status":"failed"}'], 'undelivered'],
    [
      'pending then delivered',
      ['{"status":"pending"}', '{"status":"pending"}', '{"status":"DELIVRD"}'],
      'delivered',
    ],
    ['never answers', ['hang'], 'unknown'],
  ])(
    '%s',
    async (name, answers, want) => {
      const smsid = `v-${name.replace(/\W/g, '')}`;
      const mid = `mid-${smsid}`;
      verifyAnswers.set(mid, [...answers]);
      await bus.publish('submitted', [submitted(smsid, { providerMessageId: mid })]);
      const f = await finalOf(smsid, 20_000);
      expect(f.state).toBe(want);
      expect(verifyCalls.get(mid)).toBeGreaterThanOrEqual(answers.length === 3 ? 3 : 1);
    },
    25_000,
  );

  test('failed before submit is final at once', async () => {
    await bus.publish('failed', [
      { smsid: 'f1', state: 'failed', at: Date.now(), msg: msg('f1'), reason: 'rejected by gateway' },
    ]);
    expect((await finalOf('f1')).state).toBe('failed');
  });
});
