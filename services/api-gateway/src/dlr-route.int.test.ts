import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ReceiptEvent } from '@smsfleet/core';
import { GatewaySettingsRepo } from '@smsfleet/db';
import { apiFixture, type ApiApp } from '../test/api-fixture.js';

/** HTTP providers' delivery reports at /dlr/{gatewayId}: access rules, extraction, the receipt event. */
const fx = apiFixture({ tag: 'dlr', pool: 2, bus: true });
let app: ApiApp;
const receipts: ReceiptEvent[] = [];

beforeAll(async () => {
  await fx.start();
  await fx.setConfig({ apiv2key: 'k' });
  const settings = new GatewaySettingsRepo(fx.db);
  await settings.merge(5, { dlrSecret: 's3cret' });
  await settings.merge(6, { dlrAllowIp: '10.0.0.0/8', dlrId: 'ref', dlrStatus: '<state>,,</state>' });
  await settings.merge(7, { dlrAllowIp: '127.0.0.1/32, ::1' });
  app = await fx.startApp();
  await fx.bus.consume<ReceiptEvent>('dlr-test', 'receipt', async (list) => void receipts.push(...list));
}, 60_000);

afterAll(() => fx.close(), 60_000);

async function dlr(path: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${app.port}${path}`, init);
  return { status: r.status, body: await r.text() };
}

async function receiptFor(id: string): Promise<ReceiptEvent> {
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    const r = receipts.find((x) => x.providerMessageId === id);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no receipt for ${id}`);
}

describe('/dlr/{gatewayId}', () => {
  test('a report with the right secret becomes a receipt event', async () => {
    expect(await dlr('/dlr/5?messageId=sim-77&status=delivered&secret=s3cret')).toEqual({
      status: 200,
      body: 'OK',
    });
    expect(await receiptFor('sim-77')).toMatchObject({ gatewayId: 5, stat: 'DELIVRD', source: 'http' });
  });

  test('the secret may come as a header; a JSON body works', async () => {
    const r = await dlr('/dlr/5', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-dlr-secret': 's3cret' },
      body: JSON.stringify({ id: 'sim-78', status: 'failed' }),
    });
    expect(r.status).toBe(200);
    expect((await receiptFor('sim-78')).stat).toBe('UNDELIV');
  });

  test.each([
    ['wrong secret', '/dlr/5?messageId=x1&status=delivered&secret=nope', 403],
    ['no secret', '/dlr/5?messageId=x2&status=delivered', 403],
    ['address not in the allowlist', '/dlr/6?ref=x3&status=delivered', 403],
    ['gateway without DLR settings', '/dlr/9?messageId=x4&status=delivered', 403],
    ['not a gateway id', '/dlr/abc?messageId=x5&status=delivered', 404],
    ['no id', '/dlr/7?status=delivered', 400],
    ['no status', '/dlr/7?messageId=x6', 400],
  ])('%s is refused and publishes nothing', async (_name, path, status) => {
    const r = await dlr(path);
    expect(r.status).toBe(status);
    expect(r.body).toMatch(/^ERROR /);
    await new Promise((res) => setTimeout(res, 100));
    expect(receipts.some((x) => /^x\d$/.test(x.providerMessageId))).toBe(false);
  });

  test('allowed address with the default parameter names', async () => {
    expect((await dlr('/dlr/7?msgid=sim-79&stat=EXPIRED')).status).toBe(200);
    expect((await receiptFor('sim-79')).stat).toBe('EXPIRED');
  });
});
