import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EventBus } from '@smsfleet/bus';
import type { SmsEvent } from '@smsfleet/core';
import { Fleet, waitFor } from './fleet.js';

interface CdrRow {
  smsid: string;
  type: string;
  user_id: number;
  gateway_id: number;
  caller: string;
  callee: string;
  segments: number;
  duration: number;
  cost: string;
  state: string;
}

describe('one SMS through the whole fleet', () => {
  // Non-default price and duration: the CDR must show them.
  const fleet = new Fleet({ config: { smsprice: '0.05', smstime: '30' } });
  beforeAll(() => fleet.start(), 120_000);
  afterAll(() => fleet.stop(), 60_000);

  test('asendsms with authmd5 -> simulator -> exactly one CDR, and a redelivered final event writes no second CDR', async () => {
    const salt = randomBytes(8).toString('hex');
    const md5 = createHash('md5').update(`admin:${fleet.adminPassword}:${salt}`).digest('hex');
    const { status, body } = await fleet.mizu({
      apientry: 'asendsms',
      authid: 'admin',
      authsalt: salt,
      authmd5: md5,
      anum: '3611111111',
      bnum: '36202222222',
      message: 'Hello from the e2e test',
      now: '555',
    });
    expect(status).toBe(200);
    expect(body).toMatch(/^OK [0-9a-f-]{36}$/);
    const smsid = body.slice(3);

    const received = await waitFor('simulator received it', async () => {
      const m = await fleet.simMessages({ smsid });
      return m.length ? m : undefined;
    });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      to: '36202222222',
      from: '3611111111',
      text: 'Hello from the e2e test',
      smsid,
    });

    const cdr = await waitFor(
      'the CDR',
      async () => (await fleet.db<CdrRow>('cdr').where({ smsid }).first()) ?? undefined,
    );
    expect(cdr).toMatchObject({
      type: 'SMS',
      user_id: fleet.adminId,
      gateway_id: fleet.gatewayId,
      caller: '3611111111',
      callee: '36202222222',
      segments: 1,
      duration: 30,
      state: 'unknown',
    });
    expect(Number(cdr.cost)).toBe(0.05);
    expect(await fleet.cdrCount()).toBe(1);

    // Deliver the same final event again (as JetStream would after a lost ack), under a new msgId
    // so the stream's de-duplication does not hide it: billing must not write a second CDR.
    const bus = await EventBus.connect({ url: fleet.infraEnv.NATS_URL!, prefix: fleet.eventPrefix });
    try {
      const finalEvent: SmsEvent = {
        smsid,
        state: 'unknown',
        at: Date.now(),
        msg: {
          smsid,
          userId: fleet.adminId,
          gatewayId: fleet.gatewayId,
          from: '3611111111',
          to: '36202222222',
          text: 'Hello from the e2e test',
          encoding: 'GSM7',
          segments: 1,
          clientIp: '127.0.0.1',
          acceptedAt: Date.now(),
        },
      };
      await bus.publish('final', [finalEvent], `replay-${smsid}`);
    } finally {
      await bus.close();
    }
    await waitFor(
      'billing processed the replay',
      async () => (await fleet.metric('billing', 'smsfleet_cdr_duplicates_total')) >= 1,
    );
    expect(await fleet.db('cdr').where({ smsid }).count({ n: '*' }).first()).toEqual({ n: 1 });
    expect(await fleet.cdrCount()).toBe(1);
    expect((await fleet.simStats()).received).toBe(1);
  });

  test('Unicode text is sent whole and counted as UCS2 segments', async () => {
    const text = 'Árvíztűrő tükörfúrógép – ünnepi üdvözlet 😀 '.repeat(2);
    const { body } = await fleet.mizu({
      apientry: 'asendsms',
      authkey: fleet.apiKey,
      bnum: '36203333333',
      txt: text,
    });
    expect(body).toMatch(/^OK /);
    const smsid = body.slice(3);
    const [m] = await waitFor('simulator received it', async () => {
      const l = await fleet.simMessages({ smsid });
      return l.length ? l : undefined;
    });
    expect(m!.text).toBe(text);
    const cdr = await waitFor(
      'the CDR',
      async () => (await fleet.db<CdrRow>('cdr').where({ smsid }).first()) ?? undefined,
    );
    expect(cdr.segments).toBe(2);
  });
});
