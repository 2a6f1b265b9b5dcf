import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RoutesRepo, UsersRepo } from '@smsfleet/db';
import { Fleet, freePort, waitFor } from './fleet.js';

const PER_GATEWAY = Number(process.env.FINAL_STATUS_COUNT ?? 2000);

interface SmppSimMessage {
  destinationAddr: string;
  messageId?: string;
  receiptStat?: string;
}

/**
 * Issue: final status of every message. 2,000 messages through an SMPP gateway with delivery
 * receipts (a mix of DELIVRD and UNDELIV) and 2,000 through an HTTP gateway with delayed verify
 * requests (pending first, some numbers undelivered): every message ends in the state its provider
 * reported, with exactly one CDR.
 */
describe('final status: SMPP receipts and HTTP verify requests', () => {
  let smppPort = 0;
  let fleet: Fleet;
  let smppGatewayId = 0;
  const undelivered = new Set<string>();

  beforeAll(async () => {
    smppPort = await freePort();
    fleet = new Fleet({
      env: { 'smsc-sim': { SIM_SMPP_PORT: String(smppPort) }, verifier: { EARLY_RECEIPT_TTL_MS: '120000' } },
      config: { smsverifydelay: '300', smsrouting: '1' },
    });
    await fleet.start();
    const sim = fleet.url('smsc-sim');
    // Receipts: 80 % delivered, 20 % undelivered, each after 50 ms.
    const b = await fetch(`${sim}/_sim/smpp/behaviour`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ receiptDelayMs: 50, receiptMix: { DELIVRD: 0.8, UNDELIV: 0.2 } }),
    });
    expect(b.status).toBe(200);
    for (let i = 0; i < PER_GATEWAY; i += 10) undelivered.add(`3630${String(i).padStart(7, '0')}`);
    const h = await fetch(`${sim}/_sim/behaviour`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ verifyStates: ['pending', 'delivered'], undeliveredNumbers: [...undelivered] }),
    });
    expect(h.status).toBe(200);
    const users = new UsersRepo(fleet.db);
    smppGatewayId = (
      await users.create({
        name: 'smpp-gw',
        password: '',
        type: 'smsgw',
        smsurl: `SMPP;server=127.0.0.1;serverport=${smppPort};username=smsfleet;password=smsfleet;bind=transceiver;window=20`,
      })
    ).id;
    const routes = new RoutesRepo(fleet.db);
    await routes.add({
      patternType: 'prefix',
      pattern: '3620',
      gatewayId: smppGatewayId,
      priority: 1,
      weight: 1,
    });
    await routes.add({
      patternType: 'prefix',
      pattern: '3630',
      gatewayId: fleet.gatewayId,
      priority: 1,
      weight: 1,
    });
    const { ConfigRepo } = await import('@smsfleet/db');
    await new ConfigRepo(fleet.db).set('smsverifyurl', `${sim}/status?messageId=[messageid]`);
    // The services poll routes, gateways and config: wait until a message routes to the SMPP gateway.
    await waitFor(
      'routing to the SMPP gateway',
      async () => {
        const r = await fetch(`${fleet.url('dispatcher')}/metrics`);
        return (await r.text()).length > 0;
      },
      10_000,
    );
    await new Promise((r) => setTimeout(r, 6000));
  }, 240_000);
  afterAll(() => fleet?.stop(), 60_000);

  test('4,000 messages: each ends in the state its provider reported, with one CDR', async () => {
    const send = async (numbers: string[], text: string) => {
      const res = await fetch(`${fleet.url('api-gateway')}/mvapireq/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          apientry: 'asendsms',
          authkey: fleet.apiKey,
          bnum: numbers.join(','),
          message: text,
        }).toString(),
      });
      const body = await res.text();
      expect(body).toMatch(/^OK /);
      return body.slice(3).split(',');
    };
    const smppIds: string[] = [];
    const httpIds: string[] = [];
    const step = Math.min(500, PER_GATEWAY);
    for (let i = 0; i < PER_GATEWAY; i += step) {
      const nums = (p: string) =>
        Array.from({ length: step }, (_, k) => `${p}${String(i + k).padStart(7, '0')}`);
      smppIds.push(...(await send(nums('3620'), `receipt test ${i}`)));
      httpIds.push(...(await send(nums('3630'), `verify test ${i}`)));
    }
    const outbound = () => fleet.db('cdr').where({ direction: 'outbound' });
    try {
      await waitFor(
        'every CDR',
        async () => Number((await outbound().count({ n: '*' }).first())?.n) >= 2 * PER_GATEWAY,
        240_000,
        500,
      );
    } catch (err) {
      const byGw = await outbound()
        .select('gateway_id', 'state')
        .count({ n: '*' })
        .groupBy('gateway_id', 'state');
      console.log('CDRs so far', JSON.stringify(byGw), '\nverifier:', fleet.logTail('verifier', 15));
      throw err;
    }
    interface Row {
      smsid: string;
      state: string;
      gateway_id: number;
      callee: string;
      provider_msgid: string | null;
    }
    const rows: Row[] = await outbound().select('smsid', 'state', 'gateway_id', 'callee', 'provider_msgid');
    expect(rows).toHaveLength(2 * PER_GATEWAY);
    expect(new Set(rows.map((r) => r.smsid)).size).toBe(2 * PER_GATEWAY);

    // SMPP: the state of each message is the receipt the SMSC sent for it.
    const smppMsgs = (await (
      await fetch(`${fleet.url('smsc-sim')}/_sim/smpp/messages?limit=100000`)
    ).json()) as SmppSimMessage[];
    const statById = new Map(
      smppMsgs.filter((m) => m.messageId).map((m) => [m.messageId!.toLowerCase(), m.receiptStat]),
    );
    const smppRows = rows.filter((r) => Number(r.gateway_id) === smppGatewayId);
    expect(smppRows).toHaveLength(PER_GATEWAY);
    expect(new Set(smppRows.map((r) => r.smsid))).toEqual(new Set(smppIds));
    const wrong = smppRows.filter((r) => {
      const stat = statById.get((r.provider_msgid ?? '').toLowerCase());
      const want =
        stat === 'DELIVRD' ? 'delivered' : stat === 'UNDELIV' ? 'undelivered' : `no receipt (${stat})`;
      return r.state !== want;
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(smppRows.some((r) => r.state === 'undelivered')).toBe(true);

    // HTTP: verify said pending first, then delivered, except for the undelivered numbers.
    const httpRows = rows.filter((r) => Number(r.gateway_id) === fleet.gatewayId);
    expect(new Set(httpRows.map((r) => r.smsid))).toEqual(new Set(httpIds));
    const wrongHttp = httpRows.filter(
      (r) => r.state !== (undelivered.has(r.callee) ? 'undelivered' : 'delivered'),
    );
    expect(wrongHttp.slice(0, 5)).toEqual([]);
  }, 300_000);
});
