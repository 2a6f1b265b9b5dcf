import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditRepo, ConfigRepo, UsersRepo } from '@smsfleet/db';
import { Queue, gatewayQueueName } from '@smsfleet/queue';
import { EventBus } from '@smsfleet/bus';
import { apiFixture, type ApiApp } from '../../test/api-fixture.js';

/**
 * The web pages' security on the server: cookie flags, CSRF, security headers, admin-only actions
 * (a non-admin or demoted session gets 403 and changes nothing), and one audit row per admin action.
 */
const fx = apiFixture({ tag: 'websec', pool: 2 });
const { infra, sfx } = fx;
let app: ApiApp;
let proxied: ApiApp;
let gatewayId = 0;
let aliceId = 0;
const ADMIN_PW = `adm-${sfx}`;
const ALICE_PW = `alice-${sfx}`;

beforeAll(async () => {
  await fx.start();
  await fx.setConfig({ apiv2key: `key-${sfx}` });
  const users = fx.users;
  await users.create({ name: 'root', password: ADMIN_PW, type: 'admin' });
  await users.create({ name: 'demoted', password: ADMIN_PW, type: 'admin' });
  await users.create({ name: 'carol', password: ALICE_PW, type: 'user', credit: '10' });
  aliceId = (await users.create({ name: 'alice', password: ALICE_PW, type: 'user', credit: '10' })).id;
  gatewayId = (
    await users.create({
      name: 'gw',
      password: '',
      type: 'smsgw',
      smsurl: 'http://127.0.0.1:9/send?to=[tonum]',
    })
  ).id;
  app = await fx.startApp();
  proxied = await fx.startApp({ trustProxy: 'loopback' });
}, 60_000);

afterAll(async () => {
  await fx.stopApps();
  await q?.close();
  await fx.close();
}, 60_000);

const url = (path: string, port = app.port) => `http://127.0.0.1:${port}${path}`;

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
}

async function login(
  area: 'ops' | 'portal',
  name: string,
  password: string,
  port = app.port,
  headers: Record<string, string> = {},
): Promise<Session> {
  const r = await fetch(url(`/${area}/login`, port), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ name, password }).toString(),
  });
  expect(r.status, `${area} login of ${name}`).toBe(303);
  const setCookie = r.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0]!;
  const page = await (await fetch(url(`/${area}/`, port), { headers: { cookie } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? '';
  expect(csrf).not.toBe('');
  return { cookie, csrf, setCookie };
}

function post(
  path: string,
  s: { cookie: string },
  opts: { csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  return fetch(url(path), {
    method: 'POST',
    headers: {
      cookie: s.cookie,
      ...(opts.csrf !== undefined ? { 'x-csrf-token': opts.csrf } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.headers ?? {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
}

let q: Queue | undefined;
const queue = () =>
  (q ??= new Queue(gatewayQueueName(gatewayId), { connection: fx.redis, prefix: infra.queuePrefix }));
const auditCount = async () => Number((await fx.db('audit_log').count({ n: '*' }).first())?.n ?? 0);
const credit = async (id: number) => (await new UsersRepo(fx.db).findById(id))!.credit;
const configValue = async (key: string) => new ConfigRepo(fx.db).get(key);

/** Every admin action of /ops with a body that would succeed for an admin. */
const ADMIN_ACTIONS: { path: string; body?: unknown }[] = [
  { path: '/ops/api/gateways/GW/pause' },
  { path: '/ops/api/gateways/GW/resume' },
  { path: '/ops/api/gateways/GW/retry-failed' },
  { path: '/ops/api/config', body: { key: 'smsprice', value: '0.07' } },
  { path: '/ops/api/credit', body: { user: 'alice', add: '5' } },
];
const actionPath = (p: string) => p.replace('GW', String(gatewayId));

describe('cookies and headers', () => {
  test('the session cookie is HttpOnly and SameSite=Strict, Secure only over HTTPS', async () => {
    const s = await login('ops', 'root', ADMIN_PW);
    expect(s.setCookie).toMatch(/; HttpOnly/);
    expect(s.setCookie).toMatch(/; SameSite=Strict/);
    expect(s.setCookie).not.toMatch(/Secure/);
    // X-Forwarded-Proto counts only when a proxy is trusted.
    const spoofed = await login('ops', 'root', ADMIN_PW, app.port, { 'x-forwarded-proto': 'https' });
    expect(spoofed.setCookie).not.toMatch(/Secure/);
    const r = await fetch(url('/ops/login', proxied.port), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      body: new URLSearchParams({ name: 'root', password: ADMIN_PW }).toString(),
    });
    expect(r.status).toBe(303);
    expect(r.headers.get('set-cookie')).toMatch(/; Secure/);
    expect(r.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  test('every response carries the security headers (pages, JSON, errors, the bare listener)', async () => {
    for (const path of [
      '/ops/',
      '/portal/',
      '/v1/openapi.json',
      '/nope',
      '/healthz',
      '/metrics',
      '/mvapireq/?apientry=nope',
    ]) {
      const r = await fetch(url(path));
      await r.arrayBuffer();
      const h = r.headers;
      expect(h.get('x-content-type-options'), path).toBe('nosniff');
      expect(h.get('x-frame-options'), path).toBe('DENY');
      expect(h.get('referrer-policy'), path).toMatch(/no-referrer|same-origin/);
      expect(h.get('permissions-policy'), path).toMatch(/camera=\(\)/);
      expect(h.get('cross-origin-opener-policy'), path).toBe('same-origin');
      // Plain HTTP: no HSTS (browsers ignore it there, and it must not leak to HTTP answers).
      expect(h.get('strict-transport-security'), path).toBeNull();
    }
    const page = await fetch(url('/ops/'));
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
  });

  test('a cross-site login post is refused', async () => {
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
    ]) {
      const r = await fetch(url('/ops/login'), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ name: 'root', password: ADMIN_PW }).toString(),
      });
      expect(r.status).toBe(401);
      expect(r.headers.get('set-cookie') ?? '').not.toMatch(/sf_ops=[^;]+\./);
    }
  });
});

describe('admin-only actions are checked on the server', () => {
  test('a non-admin session gets 403 for every admin action and nothing changes', async () => {
    const portal = await login('portal', 'alice', ALICE_PW);
    // The same signed value presented as the ops cookie: valid signature, wrong account type.
    const asOps = { cookie: portal.cookie.replace(/^sf_portal=/, 'sf_ops=') };
    const before = {
      audit: await auditCount(),
      credit: await credit(aliceId),
      price: await configValue('smsprice'),
    };
    for (const a of ADMIN_ACTIONS) {
      const r = await post(actionPath(a.path), asOps, { csrf: portal.csrf, body: a.body });
      expect(r.status, a.path).toBe(403);
    }
    expect((await fetch(url('/ops/api/state'), { headers: asOps })).status).toBe(403);
    expect((await fetch(url('/ops/api/audit'), { headers: asOps })).status).toBe(403);
    expect(await queue().isPaused()).toBe(false);
    expect(await credit(aliceId)).toBe(before.credit);
    expect(await configValue('smsprice')).toBe(before.price);
    expect(await auditCount()).toBe(before.audit);
  });

  test('an admin demoted after login gets 403 as soon as the change is announced', async () => {
    const s = await login('ops', 'demoted', ADMIN_PW);
    expect((await post(actionPath('/ops/api/gateways/GW/pause'), s, { csrf: s.csrf })).status).toBe(200);
    expect((await post(actionPath('/ops/api/gateways/GW/resume'), s, { csrf: s.csrf })).status).toBe(200);
    const before = await auditCount();
    await fx.db('users').where({ name: 'demoted' }).update({ type: 'user' });
    // As the CLI does after a user change: the api-gateways drop their user cache at once.
    const bus = await EventBus.connect({ url: infra.natsUrl, prefix: infra.eventPrefix });
    bus.notify('users');
    await bus.nc.flush();
    await bus.close();
    await new Promise((r) => setTimeout(r, 300));
    const carol = await login('portal', 'carol', ALICE_PW);
    expect((await fetch(url('/portal/api/me'), { headers: { cookie: carol.cookie } })).status).toBe(200);
    await fx.db('users').where({ name: 'carol' }).update({ enabled: false });
    const bus2 = await EventBus.connect({ url: infra.natsUrl, prefix: infra.eventPrefix });
    bus2.notify('users');
    await bus2.nc.flush();
    await bus2.close();
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(url('/portal/api/me'), { headers: { cookie: carol.cookie } })).status).toBe(403);
    const send = await post('/portal/api/send', carol, {
      csrf: carol.csrf,
      body: { to: '36201234567', text: 'hi' },
    });
    expect(send.status).toBe(403);
    for (const a of ADMIN_ACTIONS)
      expect((await post(actionPath(a.path), s, { csrf: s.csrf, body: a.body })).status, a.path).toBe(403);
    expect(await queue().isPaused()).toBe(false);
    expect(await auditCount()).toBe(before);
  });

  test('without or with a wrong CSRF token (or from another origin) a post is refused and changes nothing', async () => {
    const s = await login('ops', 'root', ADMIN_PW);
    const portal = await login('portal', 'alice', ALICE_PW);
    const before = {
      audit: await auditCount(),
      credit: await credit(aliceId),
      price: await configValue('smsprice'),
    };
    for (const a of ADMIN_ACTIONS) {
      const p = actionPath(a.path);
      expect((await post(p, s, { body: a.body })).status, `${p} without token`).toBe(403);
      expect(
        (await post(p, s, { csrf: 'x'.repeat(s.csrf.length), body: a.body })).status,
        `${p} wrong token`,
      ).toBe(403);
      // Another session's token (alice's) is no good either.
      expect((await post(p, s, { csrf: portal.csrf, body: a.body })).status, `${p} foreign token`).toBe(403);
      expect(
        (await post(p, s, { csrf: s.csrf, body: a.body, headers: { origin: 'https://evil.example' } }))
          .status,
        `${p} cross-origin`,
      ).toBe(403);
    }
    // The portal's send form too: no message, no credit reserved.
    const send = await post('/portal/api/send', portal, { body: { to: '36201234567', text: 'hi' } });
    expect(send.status).toBe(403);
    expect(
      (await post('/portal/api/send', portal, { csrf: 'nope', body: { to: '36201234567', text: 'hi' } }))
        .status,
    ).toBe(403);
    expect((await post('/ops/logout', s, { csrf: 'nope' })).status).toBe(403);
    expect(await queue().isPaused()).toBe(false);
    expect(await queue().count()).toBe(0);
    expect(await credit(aliceId)).toBe(before.credit);
    expect(await configValue('smsprice')).toBe(before.price);
    expect(await auditCount()).toBe(before.audit);
  });
});

describe('audit log of /ops actions', () => {
  test('each admin action writes exactly one audit row with the acting admin', async () => {
    const s = await login('ops', 'root', ADMIN_PW);
    const root = (await new UsersRepo(fx.db).findByName('root'))!;
    const audit = new AuditRepo(fx.db);
    const expected = ['gateway.pause', 'gateway.resume', 'gateway.retry-failed', 'config.set', 'user.credit'];
    for (const [i, a] of ADMIN_ACTIONS.entries()) {
      const before = await auditCount();
      const r = await post(actionPath(a.path), s, { csrf: s.csrf, body: a.body });
      expect(r.status, a.path).toBe(200);
      expect(await auditCount()).toBe(before + 1);
      const [row] = await audit.list({ limit: 1 });
      expect(row).toMatchObject({ actor: 'root', actorId: root.id, source: 'web', action: expected[i] });
      expect(row!.remoteAddr).toMatch(/127\.0\.0\.1/);
    }
    expect(await configValue('smsprice')).toBe('0.07');
    expect(Number(await credit(aliceId))).toBe(15);
    const rows = await audit.list({ limit: 5 });
    expect(rows.find((r) => r.action === 'config.set')).toMatchObject({
      target: 'smsprice',
      details: { value: '0.07' },
    });
    expect(rows.find((r) => r.action === 'user.credit')).toMatchObject({
      target: `user:${aliceId}`,
      details: { add: '5' },
    });
    // The page's audit section reads the same rows.
    const list = (await (
      await fetch(url('/ops/api/audit?limit=5'), { headers: { cookie: s.cookie } })
    ).json()) as {
      entries: { action: string }[];
    };
    expect(list.entries.map((e) => e.action)).toEqual([...expected].reverse());
  });

  test('a secret config value is stored masked in the audit row; a refused change writes none', async () => {
    const s = await login('ops', 'root', ADMIN_PW);
    const secret = `very-secret-${sfx}`;
    expect(
      (await post('/ops/api/config', s, { csrf: s.csrf, body: { key: 'smtppassword', value: secret } }))
        .status,
    ).toBe(200);
    const raw = await fx.db('audit_log').select('details').orderBy('id', 'desc').first();
    expect(JSON.stringify(raw)).not.toContain(secret);
    const before = await auditCount();
    const bad = await post('/ops/api/config', s, { csrf: s.csrf, body: { key: 'smsprice', value: 'cheap' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/smsprice/);
    expect(
      (await post('/ops/api/config', s, { csrf: s.csrf, body: { key: 'nokey', value: '1' } })).status,
    ).toBe(400);
    expect(
      (await post('/ops/api/credit', s, { csrf: s.csrf, body: { user: 'nobody', add: '1' } })).status,
    ).toBe(404);
    expect(
      (await post('/ops/api/credit', s, { csrf: s.csrf, body: { user: 'alice', add: '1e9' } })).status,
    ).toBe(400);
    expect((await post('/ops/api/gateways/9999/pause', s, { csrf: s.csrf })).status).toBe(404);
    expect(await auditCount()).toBe(before);
  });
});
