import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewaySettingsError } from '@smsfleet/core';
import { createTestDb, type TestDb } from '../test/test-db.js';
import { GatewaySettingsRepo } from './gateway-settings-repo.js';

let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb();
});
afterAll(() => tdb.close());

describe('GatewaySettingsRepo', () => {
  it('merges validated settings, removes emptied keys, refuses bad values without writing', async () => {
    const repo = new GatewaySettingsRepo(tdb.db);
    expect(await repo.get(4)).toEqual({});
    expect(await repo.merge(4, { ratePerSecond: '25', smshfailstring: 'ERR' })).toEqual({
      ratePerSecond: 25,
      smsfailstring: 'ERR',
    });
    expect(await repo.merge(4, { ratePerSecond: '', insecureTls: 'true' })).toEqual({
      smsfailstring: 'ERR',
      insecureTls: true,
    });
    await expect(repo.merge(4, { maxParallel: '0' })).rejects.toBeInstanceOf(GatewaySettingsError);
    expect(await repo.get(4)).toEqual({ smsfailstring: 'ERR', insecureTls: true });
    await repo.merge(0, { method: 'POST' });
    const all = await repo.getAll();
    expect([...all.settings.keys()].sort()).toEqual([0, 4]);
    // A row written behind our back that no longer validates is reported, not fatal.
    await tdb.db('gateway_settings').insert({ gateway_id: 9, settings: '{"maxParallel":-1}' });
    expect((await repo.getAll()).invalid.get(9)).toContain('maxParallel');
    expect(await repo.delete(4)).toBe(true);
    expect(await repo.get(4)).toEqual({});
  });
});
