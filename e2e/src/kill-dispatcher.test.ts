import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Fleet, waitFor } from './fleet.js';

const TOTAL = 5000;
const CHUNK_SIZE = 200;
const CHUNK_CONCURRENCY = 4;

describe('the dispatcher dies with SIGKILL in the middle of a 5,000-message run', () => {
  const fleet = new Fleet({
    env: {
      'api-gateway': { CHUNK_SIZE: String(CHUNK_SIZE) },
      // Short locks so the restarted dispatcher takes over the dead one's chunks within seconds.
      dispatcher: {
        CHUNK_CONCURRENCY: String(CHUNK_CONCURRENCY),
        GATEWAY_MAX_PARALLEL: '16',
        LOCK_DURATION_MS: '4000',
        STALLED_INTERVAL_MS: '1000',
      },
    },
  });
  beforeAll(async () => {
    await fleet.start();
    // A slower provider keeps the run going long enough to kill it half way.
    await fetch(`${fleet.url('smsc-sim')}/_sim/behaviour`, {
      method: 'POST',
      body: JSON.stringify({ latencyMs: 3 }),
      headers: { 'content-type': 'application/json' },
    });
  }, 120_000);
  afterAll(() => fleet.stop(), 60_000);

  test('every message reaches the simulator, only in-flight chunks are resent, one CDR each', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < TOTAL / 500; i++) {
      const numbers = Array.from({ length: 500 }, (_, k) => `3630${String(i * 500 + k).padStart(7, '0')}`);
      const res = await fetch(`${fleet.url('api-gateway')}/mvapireq/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          apientry: 'asendsms',
          authkey: fleet.apiKey,
          bnum: numbers.join(','),
          message: `kill test ${i}`,
        }).toString(),
      });
      const body = await res.text();
      expect(body).toMatch(/^OK /);
      accepted.push(...body.slice(3).split(','));
    }
    expect(new Set(accepted).size).toBe(TOTAL);

    const atKill = await waitFor(
      'a third of the run',
      async () => {
        const s = await fleet.simStats();
        return s.received >= TOTAL / 3 ? s.received : undefined;
      },
      60_000,
      20,
    );
    await fleet.kill('dispatcher', 'SIGKILL');
    const afterKill = (await fleet.simStats()).received;
    expect(afterKill).toBeLessThan(TOTAL);
    await fleet.startService('dispatcher');

    await waitFor('every CDR', async () => (await fleet.cdrCount()) >= TOTAL, 180_000, 250);
    const stats = await fleet.simStats();
    const resent = stats.received - stats.unique;
    console.log(
      `SIGKILL after ${atKill} received; the simulator got ${stats.received} requests for ${stats.unique} messages: ${resent} resent`,
    );

    // Every accepted message reached the provider.
    expect(stats.unique).toBe(TOTAL);
    const missing: string[] = [];
    for (const smsid of accepted.slice(0, 50))
      if ((await fleet.simMessages({ smsid })).length === 0) missing.push(smsid);
    expect(missing).toEqual([]);
    // At most the messages of the chunks in flight were sent twice.
    expect(resent).toBeLessThanOrEqual(CHUNK_CONCURRENCY * CHUNK_SIZE);
    // Exactly one CDR per message, for exactly the accepted messages.
    const rows = await fleet.db('cdr').select('smsid', 'state');
    expect(rows).toHaveLength(TOTAL);
    expect(new Set(rows.map((r: { smsid: string }) => r.smsid))).toEqual(new Set(accepted));
    expect(rows.every((r: { state: string }) => r.state === 'unknown')).toBe(true);
  });
});
