import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../test/test-db.js';
import { isSecretHash, verifySecret } from '@smsfleet/security';
import { API_KEY_PREFIX, ApiKeysRepo, apiKeyIdOf, hashApiKey } from './api-keys-repo.js';
import { BatchesRepo } from './batches-repo.js';
import { UsersRepo } from './users-repo.js';

describe('ApiKeysRepo and BatchesRepo', () => {
  let t: TestDb;
  let userId: number;
  beforeAll(async () => {
    t = await createTestDb();
    userId = (await new UsersRepo(t.db).create({ name: 'alice', password: 'p', type: 'user' })).id;
  });
  afterAll(() => t.close());

  it('stores only the hash; the token finds its key until revoked', async () => {
    const repo = new ApiKeysRepo(t.db);
    const { key, token } = await repo.create(userId, 'ci');
    expect(token.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(token.length).toBeGreaterThan(40);
    expect(apiKeyIdOf(token)).toBe(key.id);
    const rows = (await t.db('api_keys').select('*')) as Record<string, unknown>[];
    expect(JSON.stringify(rows)).not.toContain(token.slice(20));
    expect(JSON.stringify(rows)).not.toContain(hashApiKey(token));
    expect(isSecretHash(String(rows[0]!.secret_hash))).toBe(true);
    expect(await verifySecret(hashApiKey(token), String(rows[0]!.secret_hash))).toBe(true);
    expect((await repo.findByToken(token))?.id).toBe(key.id);
    expect(await repo.findByToken(`${token}x`)).toBeUndefined();
    // The right id with a wrong secret, another key's id, garbage: no key.
    expect(await repo.findByToken(token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).toBeUndefined();
    expect(await repo.findByToken(`sfk_${key.id + 1}.${token.split('.')[1]}`)).toBeUndefined();
    expect(await repo.findByToken('sfk_')).toBeUndefined();
    expect(await repo.findByToken('nonsense')).toBeUndefined();
    expect(await repo.revoke(key.id)).toBe(true);
    expect(await repo.revoke(key.id)).toBe(false);
    expect(await repo.findByToken(token)).toBeUndefined();
    const [listed] = await repo.list({ userId });
    expect(listed).toMatchObject({ id: key.id, enabled: false, label: 'ci' });
    expect(listed!.revokedAt).toBeInstanceOf(Date);
  });

  it('batches move between states only forward', async () => {
    const repo = new BatchesRepo(t.db);
    const id = '0190a0a0-0000-7000-8000-000000000001';
    await repo.create({ id, userId, total: 3 });
    expect(await repo.get(id)).toMatchObject({ id, userId, total: 3, state: 'queuing', scheduledAt: null });
    expect(await repo.transition(id, ['queuing'], 'cancelled')).toBe(true);
    expect(await repo.transition(id, ['queuing'], 'queued')).toBe(false);
    expect((await repo.get(id))?.state).toBe('cancelled');
  });
});
