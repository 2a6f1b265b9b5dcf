import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigRepo } from './config-repo.js';
import { createTestDb, type TestDb } from '../test/test-db.js';

describe('ConfigRepo', () => {
  let t: TestDb;
  let config: ConfigRepo;
  beforeAll(async () => {
    t = await createTestDb();
    config = new ConfigRepo(t.db);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sets (upsert), gets, lists and deletes', async () => {
    expect(await config.getAll()).toEqual({});
    expect(await config.get('smsurl')).toBeUndefined();
    await config.set('smsurl', 'http://a/?to=[tonum]&m=[message]');
    await config.set('smsurl', 'http://b/');
    await config.set('smssignature', '— sent by smsfleet ✓');
    expect(await config.get('smsurl')).toBe('http://b/');
    expect(await config.getAll()).toEqual({ smsurl: 'http://b/', smssignature: '— sent by smsfleet ✓' });
    expect(await config.delete('smsurl')).toBe(true);
    expect(await config.delete('smsurl')).toBe(false);
    expect(await config.getAll()).toEqual({ smssignature: '— sent by smsfleet ✓' });
  });

  it('changes its version on every write that changes data, and only then', async () => {
    const v0 = await config.version();
    expect(await config.version()).toBe(v0);
    await config.set('smstime', '60');
    const v1 = await config.version();
    expect(v1).not.toBe(v0);
    await config.set('smstime', '60'); // same value: nothing changed
    expect(await config.version()).toBe(v1);
    await config.set('smstime', '30');
    const v2 = await config.version();
    expect(v2).not.toBe(v1);
    await config.delete('smstime');
    expect(await config.version()).not.toBe(v2);
  });

  it('notices two writes in the same millisecond (checksum, not just MAX(updated_at))', async () => {
    await config.set('smsprice', '1');
    await t.db.raw("UPDATE config SET updated_at = '2020-01-01 00:00:00.000'");
    const before = await config.version();
    await t.db.raw(
      "UPDATE config SET value = '2', updated_at = '2020-01-01 00:00:00.000' WHERE `key` = 'smsprice'",
    );
    expect(await config.version()).not.toBe(before);
  });
});
