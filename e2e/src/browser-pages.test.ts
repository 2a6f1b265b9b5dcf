import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { UsersRepo } from '@smsfleet/db';
import { docsPath, launchBrowser, type TestBrowser } from './browser.js';
import { Fleet, waitFor } from './fleet.js';

/** Polls a locator's text until `ok` accepts it; returns the text. */
async function textUntil(
  loc: Locator,
  ok: (t: string) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<string> {
  let last = '';
  try {
    return await waitFor(
      what,
      async () => {
        last = ((await loc.textContent({ timeout: 1_000 })) ?? '').trim();
        return ok(last) ? last : undefined;
      },
      timeoutMs,
      100,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message} (last text: ${JSON.stringify(last)})`);
  }
}

const num = (t: string) => Number(t.replace(/,/g, ''));

describe('ops dashboard and SMS portal in a real browser', () => {
  // The provider's verify endpoint says every message was delivered, so the portal can show it.
  const verify = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"delivered"}');
  });
  let fleet: Fleet;
  let tb: TestBrowser;
  const userPassword = 'alice-pass-1';

  beforeAll(async () => {
    await new Promise<void>((r) => verify.listen(0, '127.0.0.1', r));
    const verifyPort = (verify.address() as AddressInfo).port;
    fleet = new Fleet({
      config: {
        smsprice: '0.01',
        smsverifyurl: `http://127.0.0.1:${verifyPort}/verify?id=[messageid]`,
        smsverifydelay: '100',
      },
      // Slow enough that a few thousand messages take seconds: the dashboard must show them moving.
      env: {
        'api-gateway': { CHUNK_SIZE: '50' },
        dispatcher: { GATEWAY_MAX_PARALLEL: '8', CHUNK_CONCURRENCY: '1' },
      },
      only: ['smsc-sim', 'api-gateway', 'dispatcher', 'verifier', 'billing'],
      readyTimeoutMs: 120_000,
    });
    await fleet.start();
    await fetch(`${fleet.url('smsc-sim')}/_sim/behaviour`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 20 }),
    });
    await new UsersRepo(fleet.db).create({
      name: 'alice',
      password: userPassword,
      type: 'user',
      credit: '10',
    });
    tb = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await tb?.close();
    await fleet?.stop();
    await new Promise<void>((r) => verify.close(() => r()));
  }, 60_000);

  const sendBulk = async (count: number, tag: string) => {
    for (let i = 0; i < count; i += 1000) {
      const to = Array.from(
        { length: Math.min(1000, count - i) },
        (_, k) => `3620${String(i + k).padStart(7, '0')}`,
      );
      const { body } = await fleet.mizu(
        { apientry: 'asendsms', authkey: fleet.apiKey },
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ bnum: to.join(','), message: `ops test ${tag}` }).toString(),
        },
      );
      expect(body).toMatch(/^OK /);
    }
  };

  const login = async (page: Page, path: string, name: string, password: string) => {
    await page.goto(`${fleet.url('api-gateway')}${path}`);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForURL(`**${path}`), page.click('button[type=submit]')]);
  };

  test('ops: an admin logs in, watches a batch move, pauses the gateway (queue stops) and resumes it (queue drains)', async () => {
    const page = await tb.newPage({ width: 1500, height: 800 });
    // An end user is refused.
    await page.goto(`${fleet.url('api-gateway')}/ops/`);
    await page.fill('input[name=name]', 'alice');
    await page.fill('input[name=password]', userPassword);
    await page.click('button[type=submit]');
    expect(await page.textContent('.error')).toContain('Wrong user name or password');

    await login(page, '/ops/', 'admin', fleet.adminPassword);
    const row = page.locator(`#gateways tr[data-gateway="${fleet.gatewayId}"]`);
    const pending = row.locator('[data-field=pending]');
    const rate = row.locator('[data-field=rate]');
    await textUntil(pending, (t) => t === '0', 'the gateway row');

    const total = 3000;
    await sendBulk(total, 'batch');
    const seen = new Set<number>();
    let maxRate = 0;
    const read = async () => ({
      pending: num(((await pending.textContent()) ?? '').trim()),
      rate: num(((await rate.textContent()) ?? '').trim()),
      chunks: ((await row.locator('[data-field=chunks]').textContent()) ?? '').trim(),
    });
    // Numbers move while the batch runs: several distinct queue depths and a send rate.
    await waitFor(
      'the dashboard numbers to move',
      async () => {
        const v = await read();
        if (Number.isFinite(v.pending) && v.pending > 0) seen.add(v.pending);
        if (Number.isFinite(v.rate)) maxRate = Math.max(maxRate, v.rate);
        return seen.size >= 3 && maxRate > 0 ? true : undefined;
      },
      120_000,
      200,
    );
    expect(Math.max(...seen)).toBeGreaterThan(total / 2);

    // Pause in the middle of the batch: once the chunk in hand is done, the queue stops and the
    // provider receives nothing more.
    await row.locator('button[data-action=pause]').click();
    await textUntil(row.locator('[data-field=queue-state]'), (t) => t === 'paused', 'paused badge');
    const stopped = await waitFor('the active chunk to finish', async () => {
      const v = await read();
      return /^\d+ \/ 0 \//.test(v.chunks) ? v : undefined;
    });
    // The counters reach Redis within a second of the last send.
    await new Promise((r) => setTimeout(r, 1_500));
    const held = (await read()).pending;
    const received = (await fleet.simStats()).received;
    expect(held).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await read()).pending).toBe(held);
    expect((await fleet.simStats()).received).toBe(received);
    expect(stopped.chunks).toMatch(/^[1-9]\d* \/ 0 \//);
    // The README's screenshot: a paused gateway holding part of a batch, with the figures so far.
    await page.screenshot({ path: docsPath('ops-dashboard.png'), fullPage: true });

    // Resume: the queue drains and every message reaches the provider, delivered.
    await row.locator('button[data-action=resume]').click();
    await textUntil(row.locator('[data-field=queue-state]'), (t) => t === 'running', 'running badge');
    await textUntil(pending, (t) => t === '0', 'queue drained after resume', 180_000);
    await waitFor(
      'the provider received the whole batch',
      async () => ((await fleet.simStats()).received >= total ? true : undefined),
      30_000,
    );
    await textUntil(page.locator('#t-delivery'), (t) => t.startsWith('100.0%'), 'delivered share', 60_000);

    // Admin forms: a config change and a credit change, each in the audit table under them.
    await page.fill('#config-key', 'smtpfrom');
    await page.fill('#config-value', 'ops@example.com');
    await page.click('#config-form button[type=submit]');
    await textUntil(page.locator('#message'), (t) => t.startsWith('Config smtpfrom'), 'config saved');
    await page.fill('#credit-user', 'admin');
    await page.fill('#credit-add', '2.5');
    await page.click('#credit-form button[type=submit]');
    await textUntil(page.locator('#message'), (t) => t.startsWith('Credit of admin'), 'credit changed');
    const actions = await waitFor('the audit table', async () => {
      const list = await page.locator('#audit tbody tr td:nth-child(4)').allTextContents();
      return list.length >= 4 ? list : undefined;
    });
    expect(actions.slice(0, 4)).toEqual(['user.credit', 'config.set', 'gateway.resume', 'gateway.pause']);
    await page.close();
  });

  test('portal: a user types a text that turns UCS2, sends it, sees it delivered, and sends a CSV batch with progress', async () => {
    const page = await tb.newPage({ width: 1280, height: 900 });
    await login(page, '/portal/', 'alice', userPassword);
    await textUntil(page.locator('#balance'), (t) => t === '10.00', 'balance');

    await page.fill('#to', '36201112233');
    await page.locator('#text').pressSequentially('Hello there');
    expect(await page.textContent('#c-encoding')).toBe('GSM7');
    expect(await page.textContent('#c-left')).toBe('149');
    expect(await page.textContent('#c-segments')).toBe('1');
    await page.locator('#text').pressSequentially(' – őszi üdvözlet');
    expect(await page.textContent('#c-encoding')).toBe('UCS2');
    // 'Hello there – őszi üdvözlet' is 27 UTF-16 units: 70 - 27 left in a single UCS2 part.
    expect(await page.textContent('#c-left')).toBe('43');
    await page.locator('#text').pressSequentially(' '.repeat(44));
    expect(await page.textContent('#c-segments')).toBe('2');
    await page.locator('#text').press('End');
    for (let i = 0; i < 44; i++) await page.locator('#text').press('Backspace');
    expect(await page.textContent('#c-segments')).toBe('1');

    await page.click('#send');
    await textUntil(page.locator('#send-result'), (t) => t.startsWith('Queued 1'), 'send result');
    const first = page.locator('#history tbody tr').first();
    expect(await first.locator('td').nth(1).textContent()).toBe('36201112233');
    const smsid = await first.getAttribute('data-smsid');
    expect(smsid).toBeTruthy();
    await textUntil(first.locator('td.state'), (t) => t === 'delivered', 'history shows delivered', 60_000);
    const cdr = await fleet.db('cdr').where({ smsid }).first();
    expect(cdr).toMatchObject({ state: 'delivered', callee: '36201112233', user_id: expect.any(Number) });
    // The sim got the whole UCS2 text.
    const [sent] = await fleet.simMessages({ smsid: smsid! });
    expect(sent!.text).toBe('Hello there – őszi üdvözlet');

    const csv = [
      'to,text',
      ...Array.from({ length: 25 }, (_, i) => `3630${String(i).padStart(7, '0')},Batch hello ${i}`),
    ].join('\n');
    await page.setInputFiles('#csv', { name: 'batch.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.click('#upload');
    await textUntil(
      page.locator('#batch-text'),
      (t) => t.startsWith('25 / 25 done (100%)'),
      'batch progress',
      60_000,
    );
    expect(
      await page.locator('#batch-progress').evaluate((e) => (e as unknown as { value: number }).value),
    ).toBe(100);
    await textUntil(page.locator('#balance'), (t) => Number(t) < 10, 'balance charged');
    await page.locator('#text').pressSequentially('Szép napot! ő');
    await page.screenshot({ path: docsPath('portal.png'), fullPage: true });
    await page.close();
  });
});
