import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EventBus } from '@smsfleet/bus';
import { ConfigRepo, GatewaySettingsRepo, RegisteredNumbersRepo, RoutesRepo, UsersRepo } from '@smsfleet/db';
import { createRedis, readCircuitStatus, type Redis } from '@smsfleet/queue';
import { Fleet, freePort, waitFor } from './fleet.js';

/**
 * Issue 11, sign-up verification and admin alerts, across the whole fleet (each service a real
 * process): the code SMS reaches the SMSC simulator and the code read there verifies; a gateway
 * whose provider is down opens its circuit and the alert SMS reaches the simulator through the
 * configured alert gateway.
 */
describe('uauthverify and admin alerts', () => {
  const fleet = new Fleet({
    config: { uauthverify: 'true', smsrouting: '1', httpstrictresponse: 'true' },
    env: {
      'api-gateway': { ALERT_INTERVAL_MS: '300' },
      dispatcher: { GATEWAY_REFRESH_MS: '200', RETRY_BASE_DELAY_MS: '100' },
    },
  });
  let bus: EventBus;
  let redis: Redis;
  let brokenId = 0;
  const ADMIN_NUMBER = '36209998877';

  beforeAll(async () => {
    await fleet.start();
    bus = await EventBus.connect({ url: fleet.infraEnv.NATS_URL!, prefix: fleet.eventPrefix, name: 'e2e' });
    redis = createRedis(fleet.infraEnv.REDIS_URL!, 'e2e');
  }, 180_000);

  afterAll(async () => {
    await bus?.close();
    await redis?.quit();
    await fleet.stop();
  }, 120_000);

  test('the code SMS reaches the simulator; the code read there verifies and registers the number', async () => {
    const users = new UsersRepo(fleet.db);
    const carol = await users.create({ name: 'carol', password: 'carol-pw', type: 'user', credit: '5' });
    const number = '36201239876';
    const sent = await fleet.mizu({ apientry: 'uauthverifysend', authkey: fleet.apiKey, bnum: number });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatch(/^OK [0-9a-f-]{36}$/);
    const smsid = sent.body.slice(3);
    const msg = await waitFor('code SMS at the simulator', async () =>
      (await fleet.simMessages({ to: number })).find((m) => m.smsid === smsid),
    );
    const code = /is (\d{6}) \(valid 5 min\)/.exec(msg.text)?.[1];
    expect(code, msg.text).toBeDefined();

    const wrong = code === '000000' ? '111111' : '000000';
    expect(
      await fleet.mizu({
        apientry: 'uauthverifycheck',
        authid: 'carol',
        authpwd: 'carol-pw',
        bnum: number,
        code: wrong,
      }),
    ).toEqual({ status: 420, body: 'ERROR wrong code (4 attempts left)' });
    expect(
      await fleet.mizu({
        apientry: 'uauthverifycheck',
        authid: 'carol',
        authpwd: 'carol-pw',
        bnum: number,
        code: code!,
        attach: '1',
      }),
    ).toEqual({ status: 200, body: `OK verified ${number} registered` });
    expect(await new RegisteredNumbersRepo(fleet.db).listForUser(carol.id)).toEqual([number]);
    // The server sent it: no charge for carol, and billing wrote its CDR under user 0.
    expect((await users.findById(carol.id))!.credit).toBe('5.000000');
    await waitFor('CDR of the code SMS', async () =>
      (await fleet.db('cdr').where({ smsid }).first()) ? true : undefined,
    );
  });

  test('a failing gateway opens its circuit; the alert SMS reaches the simulator via the alert gateway', async () => {
    const users = new UsersRepo(fleet.db);
    // A provider nobody listens on: every send is a connection error (temporary), so the breaker counts.
    const dead = await freePort();
    brokenId = (
      await users.create({
        name: 'broken',
        password: '',
        type: 'smsgw',
        smsurl: `http://127.0.0.1:${dead}/send?to=[tonum]&text=[message]`,
      })
    ).id;
    await new GatewaySettingsRepo(fleet.db).merge(brokenId, { breakerThreshold: 2, breakerOpenMs: 120_000 });
    await new RoutesRepo(fleet.db).add({
      patternType: 'prefix',
      pattern: '3699',
      gatewayId: brokenId,
      priority: 1,
      weight: 1,
    });
    const config = new ConfigRepo(fleet.db);
    await config.set('smsalertnumbers', ADMIN_NUMBER);
    await config.set('smsalertgateway', String(fleet.gatewayId));
    for (const topic of ['users', 'gateways', 'routes', 'config']) bus.notify(topic);
    await bus.nc.flush();

    // Traffic for the broken gateway (once the api-gateway routes 3699 there).
    await waitFor(
      'a message routed to the broken gateway',
      async () => {
        const r = await fleet.mizu({
          apientry: 'asendsms',
          authkey: fleet.apiKey,
          bnum: `369900000${Math.floor(Math.random() * 10)}`,
          message: 'to nowhere',
        });
        if (!r.body.startsWith('OK ')) return undefined;
        const c = await readCircuitStatus(redis, fleet.queuePrefix, brokenId);
        return c.state === 'open' ? c : undefined;
      },
      60_000,
      500,
    );

    const alert = await waitFor(
      'alert SMS at the simulator',
      async () =>
        (await fleet.simMessages({ to: ADMIN_NUMBER })).find((m) => m.text.includes('circuit open')),
      60_000,
      200,
    );
    expect(alert.text).toMatch(new RegExp(`^smsfleet ALERT: gateway broken \\(${brokenId}\\) circuit open`));
    // Rate-limited: more ticks pass, still one alert SMS.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(
      (await fleet.simMessages({ to: ADMIN_NUMBER })).filter((m) => m.text.includes('circuit open')),
    ).toHaveLength(1);
  });
});
