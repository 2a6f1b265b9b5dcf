/**
 * `{SELECT ...}` placeholders against a real MariaDB: a message text made of SQL, quotes and
 * template brackets reaches the provider unchanged, and changes neither the query nor the data.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemplateQueryRunner, UsersRepo } from '@smsfleet/db';
import { HttpTransport } from '@smsfleet/http-transport';
import type { OutboundSms } from '@smsfleet/core';
import { createTestDb, type TestDb } from '../../../packages/db/test/test-db.js';

let tdb: TestDb;
let server: Server;
let base = '';
const urls: string[] = [];
const bodies: string[] = [];

beforeAll(async () => {
  tdb = await createTestDb();
  const users = new UsersRepo(tdb.db);
  await users.create({ name: 'alice', password: 'pw-alice', type: 'user' });
  await users.create({ name: 'bob', password: 'pw-bob', type: 'user' });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      urls.push(req.url ?? '');
      bodies.push(body);
      res.end('OK 1');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await tdb.close();
});

const EVIL = `x' OR '1'='1'; DROP TABLE users; -- "quoted" \\ [tonum] [message] {SELECT password FROM users} %27`;

function msg(text: string, userId: number): OutboundSms {
  return {
    smsid: 'sql-1',
    userId,
    gatewayId: 3,
    from: `1000' OR 1=1 --`,
    to: '36201234567',
    text,
    encoding: 'GSM7',
    segments: 1,
    clientIp: '127.0.0.1',
    acceptedAt: Date.now(),
  };
}

describe('{SELECT} placeholders', () => {
  it('bind values as parameters: an evil text reaches the provider unchanged and changes no query', async () => {
    const runner = new TemplateQueryRunner(tdb.db);
    const t = new HttpTransport({
      url:
        `${base}/send?text=[message]` +
        `&matches={SELECT COUNT(*) FROM users WHERE name = [message] OR name = '[fromnum]'}` +
        `&owner={SELECT name FROM users WHERE id = [fromid]}`,
      body: '{"text":"[message]","who":"{SELECT name FROM users WHERE id = [fromid]}"}',
      sql: (q, p, ms) => runner.run(q, p, ms),
    });
    const before = await tdb.db('users').count({ n: '*' }).first();
    const r = await t.send(msg(EVIL, 1));
    await t.close();
    expect(r.ok).toBe(true);
    const q = new URL(urls.at(-1)!, base).searchParams;
    expect(q.get('text')).toBe(EVIL);
    // Injected, `name = 'x' OR '1'='1'` would match both users; bound, it matches none.
    expect(q.get('matches')).toBe('0');
    expect(q.get('owner')).toBe('alice');
    expect(JSON.parse(bodies.at(-1)!)).toEqual({ text: EVIL, who: 'alice' });
    const after = await tdb.db('users').count({ n: '*' }).first();
    expect(after).toEqual(before);
  });

  it('runs read-only and with a timeout', async () => {
    const runner = new TemplateQueryRunner(tdb.db);
    await expect(runner.run('SELECT 1; DELETE FROM users', [], 1000)).rejects.toThrow();
    await expect(runner.run('DELETE FROM users', [], 1000)).rejects.toThrow(/only SELECT/);
    // A SELECT that would write (locking read in a READ ONLY transaction is fine, writes are not).
    await expect(runner.run('SELECT SLEEP(3)', [], 200)).rejects.toThrow();
    expect(await tdb.db('users').count({ n: '*' }).first()).toEqual({ n: 2 });
  });
});
