import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Queue, Redis } from '@smsfleet/queue';
import { ConfigRepo } from '@smsfleet/db';
import { Fleet, waitFor } from './fleet.js';

describe('bad input to asendsms gets ERROR and enqueues nothing', () => {
  const fleet = new Fleet();
  let redis: Redis;
  beforeAll(async () => {
    await fleet.start();
    redis = new Redis(fleet.infraEnv.REDIS_URL!, { maxRetriesPerRequest: null });
  }, 120_000);
  afterAll(async () => {
    await redis?.quit();
    await fleet.stop();
  }, 60_000);

  const queued = async () => {
    const q = new Queue(`gw-${fleet.gatewayId}`, { connection: redis, prefix: fleet.queuePrefix });
    const counts = await q.getJobCounts();
    await q.close();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  test.each([
    [
      'no target number',
      { apientry: 'asendsms', authkey: 'KEY', message: 'hi' },
      /^ERROR missing target number/,
      421,
    ],
    [
      'empty target number',
      { apientry: 'asendsms', authkey: 'KEY', bnum: ' ', message: 'hi' },
      /^ERROR missing target number/,
      421,
    ],
    [
      'invalid target number',
      { apientry: 'asendsms', authkey: 'KEY', bnum: 'call-me', message: 'hi' },
      /^ERROR invalid target number/,
      406,
    ],
    [
      'empty message',
      { apientry: 'asendsms', authkey: 'KEY', bnum: '36201234567', message: '' },
      /^ERROR empty message/,
      406,
    ],
    [
      'blank message',
      { apientry: 'asendsms', authkey: 'KEY', bnum: '36201234567', txt: '   ' },
      /^ERROR empty message/,
      406,
    ],
    [
      'wrong key',
      { apientry: 'asendsms', authkey: 'wrong', bnum: '36201234567', message: 'hi' },
      /^ERROR authentication failed/,
      403,
    ],
    [
      'wrong password',
      { apientry: 'asendsms', authid: 'admin', authpwd: 'nope', bnum: '36201234567', message: 'hi' },
      /^ERROR authentication failed/,
      403,
    ],
    [
      'no credentials',
      { apientry: 'asendsms', bnum: '36201234567', message: 'hi' },
      /^ERROR authentication required/,
      403,
    ],
    [
      'unknown entry',
      { apientry: 'sendfax', authkey: 'KEY', bnum: '36201234567', message: 'hi' },
      /^ERROR unknown apientry/,
      406,
    ],
    ['missing entry', { authkey: 'KEY', bnum: '36201234567', message: 'hi' }, /^ERROR missing apientry/, 406],
  ])('%s', async (_name, params, answer, strictStatus) => {
    const p: Record<string, string> = { ...params };
    if (p.authkey === 'KEY') p.authkey = fleet.apiKey;
    const lax = await fleet.mizu(p);
    expect(lax.status).toBe(200);
    expect(lax.body).toMatch(answer);
    const json = await fleet.mizu({ ...p, format: 'json' });
    expect(JSON.parse(json.body)).toMatchObject({ status: 'ERROR' });
    expect(await queued()).toBe(0);
    expect((await fleet.simStats()).received).toBe(0);
    // With httpstrictresponse the same errors carry Mizu's HTTP codes.
    strictCases.push([p, strictStatus]);
  });

  const strictCases: [Record<string, string>, number][] = [];
  test('httpstrictresponse=true maps the same errors to HTTP codes', async () => {
    await new ConfigRepo(fleet.db).set('httpstrictresponse', 'true');
    // No notification was sent: the services' poll picks the change up.
    await waitFor('strict mode', async () => (await fleet.mizu({ apientry: 'nope' })).status === 406, 10_000);
    for (const [p, status] of strictCases) {
      const r = await fleet.mizu(p);
      expect(r.status, JSON.stringify(p)).toBe(status);
    }
    expect(await queued()).toBe(0);
    await new ConfigRepo(fleet.db).set('httpstrictresponse', 'false');
  });

  test('a good request afterwards is queued and sent', async () => {
    const r = await fleet.mizu({
      apientry: 'asendsms',
      authkey: fleet.apiKey,
      bnum: '36201234567',
      message: 'fine',
    });
    expect(r.body).toMatch(/^OK /);
    await waitFor('sent', async () => (await fleet.simStats()).received === 1);
  });
});
