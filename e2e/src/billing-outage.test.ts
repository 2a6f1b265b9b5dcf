import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatDecimal, parseDecimal } from '@smsfleet/core';
import { UsersRepo } from '@smsfleet/db';
import { DbProxy, Fleet, waitFor } from './fleet.js';

const TOTAL = 2000;
const OUTAGE_MS = 30_000;

describe('billing survives a 30 s MariaDB outage', () => {
  const billingEnv: Record<string, string> = {};
  const fleet = new Fleet({
    config: { smsprice: '0.013' },
    env: { billing: billingEnv },
    readyTimeoutMs: 90_000,
  });
  const proxy = new DbProxy();
  let userId = 0;
  let before = 0n;
  const dead = Array.from({ length: 100 }, (_, i) => `3670${String(2_000_000 + i * 7)}`);

  beforeAll(async () => {
    await proxy.start({ host: '127.0.0.1', port: 3306 });
    // Billing (only billing) reaches MariaDB through the proxy.
    billingEnv.DATABASE_URL = fleet.databaseUrl.replace('127.0.0.1:3306', `127.0.0.1:${proxy.port}`);
    await fleet.start();
    const u = await new UsersRepo(fleet.db).create({
      name: 'carol',
      password: 'carol-pw',
      type: 'user',
      credit: '100',
    });
    userId = u.id;
    before = parseDecimal(u.credit);
    await fetch(`${fleet.url('smsc-sim')}/_sim/behaviour`, {
      method: 'POST',
      body: JSON.stringify({ failNumbers: dead }),
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([fleet.stop(), proxy.close()]);
  }, 60_000);

  test('2,000 messages with billing cut off from MariaDB for 30 s: 2,000 CDRs, no duplicates, credit exact', async () => {
    const numbers = Array.from({ length: TOTAL }, (_, i) =>
      i % 20 === 5 ? dead[i / 20 - 0.25]! : `3630${String(3_000_000 + i)}`,
    );
    expect(new Set(numbers.filter((n) => dead.includes(n))).size).toBe(dead.length);
    const send = async (slice: string[]) => {
      const r = await fleet.mizu({
        apientry: 'sendsms',
        authid: 'carol',
        authpwd: 'carol-pw',
        bnum: slice.join(','),
        message: 'outage test',
      });
      expect(r.body.slice(0, 200)).toMatch(/^OK /);
    };
    // Some CDRs are written before the outage begins.
    await send(numbers.slice(0, 500));
    await waitFor('first CDRs', async () => (await fleet.cdrCount()) > 0 || undefined, 30_000, 100);
    proxy.cut();
    const cutAt = Date.now();
    for (let i = 500; i < TOTAL; i += 500) await send(numbers.slice(i, i + 500));
    // Every message reaches its final state while billing cannot write.
    await waitFor(
      'all final events published',
      async () => (await fleet.simStats()).received >= TOTAL || undefined,
      30_000,
      200,
    );
    const duringOutage = await fleet.cdrCount();
    expect(duringOutage).toBeLessThan(TOTAL);
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    expect(await fleet.cdrCount()).toBe(duringOutage);
    proxy.restore();
    const restoredAt = Date.now();
    await waitFor('2,000 CDRs', async () => (await fleet.cdrCount()) >= TOTAL || undefined, 60_000, 200);
    const catchUpMs = Date.now() - restoredAt;

    const rows = await fleet
      .db<{ smsid: string; cost: string; state: string; callee: string }>('cdr')
      .select('smsid', 'cost', 'state', 'callee');
    expect(rows).toHaveLength(TOTAL);
    expect(new Set(rows.map((r) => r.smsid)).size).toBe(TOTAL);
    expect(
      rows
        .filter((r) => r.state === 'failed')
        .map((r) => r.callee)
        .sort(),
    ).toEqual([...dead].sort());
    let sum = 0n;
    for (const r of rows) sum += parseDecimal(r.cost);
    expect(formatDecimal(sum)).toBe(formatDecimal(13_000n * BigInt(TOTAL - dead.length)));
    const after = parseDecimal((await new UsersRepo(fleet.db).findById(userId))!.credit);
    expect(formatDecimal(before - after)).toBe(formatDecimal(sum));
    expect(fleet.log('billing')).toMatch(/cdr batch failed, will retry/);
    console.log(
      `billing outage: ${duringOutage} CDRs before/while cut, ${TOTAL} after restore, caught up in ${catchUpMs} ms`,
    );
  });
});
