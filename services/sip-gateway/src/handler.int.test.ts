import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DigestAuth, digestResponse, type DigestCredentials } from './digest.js';
import { SipHandler, type SipHandlerConfig } from './handler.js';
import type { SendOutcome } from './mizu-client.js';
import { Registrar } from './registrar.js';
import {
  encode,
  isRequest,
  parseDatagram,
  toWire,
  type SipMessageObject,
  type SipRequest,
} from './sip-message.js';
import type { Source } from './transport.js';

/** The handler with a real Redis registrar (own key prefix) and a recording send API. */
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `sipt-${randomBytes(4).toString('hex')}`;
const REALM = 'smsfleet.test';
const src: Source = { transport: 'udp', address: '10.1.2.3', port: 5070 };

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

let cseq = 0;
function req(
  method: string,
  opts: {
    uri?: string;
    to?: string;
    headers?: string[];
    body?: string;
    auth?: { user: string; password: string; nonce: string };
  } = {},
): SipRequest {
  const uri = opts.uri ?? `sip:${REALM}`;
  const lines = [
    `${method} ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.1.2.3:5070;branch=z9hG4bK' + randomBytes(4).toString('hex'),
    `From: <sip:alice@${REALM}>;tag=1`,
    `To: <${opts.to ?? `sip:alice@${REALM}`}>`,
    'Call-ID: call-1@10.1.2.3',
    `CSeq: ${++cseq} ${method}`,
    ...(opts.headers ?? []),
  ];
  if (opts.auth) {
    const c: DigestCredentials = {
      username: opts.auth.user,
      realm: REALM,
      nonce: opts.auth.nonce,
      uri,
      response: '',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'cn',
    };
    const r = digestResponse(c, method, opts.auth.password);
    lines.push(
      `Authorization: Digest username="${c.username}",realm="${REALM}",nonce="${c.nonce}",uri="${uri}",response="${r}",qop=auth,nc=00000001,cnonce="cn",algorithm=MD5`,
    );
  }
  const body = opts.body ?? '';
  const head = [...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', ''].join('\r\n');
  const m = parseDatagram(Buffer.concat([Buffer.from(head), Buffer.from(body, 'utf8')]));
  if (!m || !isRequest(m)) throw new Error('bad test request');
  return m;
}

describe('SipHandler with a Redis registrar', () => {
  const auth = new DigestAuth(randomBytes(32), REALM, 60_000);
  const registrar = new Registrar(redis, prefix);
  let cfg: SipHandlerConfig;
  let sent: { user: string; to: string; text: string }[];
  let answer: SendOutcome;
  const failures: string[] = [];
  const handler = new SipHandler({
    auth,
    userSecret: async (name) =>
      name === 'alice'
        ? { name, password: 'alice-pw', enabled: true }
        : name === 'carol'
          ? { name, password: 'carol-pw', enabled: false }
          : undefined,
    recordAuthFailure: async (user) => void failures.push(user),
    claimNonceUse: async (nonce, nc, cnonce) => {
      const key = `${prefix}:nc:${nonce}|${nc}|${cnonce}`;
      return (await redis.set(key, '1', 'PX', 60_000, 'NX')) === 'OK';
    },
    registrar,
    config: () => cfg,
    sendSms: async (p) => {
      sent.push({ user: p.user, to: p.to, text: p.text });
      return answer;
    },
    maxBodyBytes: 100,
    minExpiresS: 60,
    maxExpiresS: 3600,
    defaultExpiresS: 3600,
    log: { info: () => undefined, warn: () => undefined },
  });
  const alice = () => ({ user: 'alice', password: 'alice-pw', nonce: auth.nonce() });
  const status = (m: SipMessageObject | undefined) => `${m?.status} ${m?.reason}`;

  beforeEach(() => {
    cfg = {
      sendsmsmessages: 1,
      sendsmsmessages_country: '',
      sendsmsmessages_mobileprefixes: '',
      apiv2key: 'k',
    };
    sent = [];
    answer = { ok: true, smsid: 'sms-1' };
  });

  it('challenges, then registers, refreshes, caps and removes contacts', async () => {
    const contact = 'Contact: <sip:alice@10.1.2.3:5070>';
    const challenge = await handler.handle(req('REGISTER', { headers: [contact] }), src);
    expect(status(challenge)).toBe('401 Unauthorized');
    expect(encode(challenge!).toString()).toMatch(
      /WWW-Authenticate: Digest realm="smsfleet\.test",nonce="[^"]+",algorithm=MD5,qop="auth"/,
    );

    const ok = await handler.handle(
      req('REGISTER', { headers: [contact, 'Expires: 7200'], auth: alice() }),
      src,
    );
    expect(status(ok)).toBe('200 OK');
    expect(encode(ok!).toString()).toMatch(/Contact: +<sip:alice@10\.1\.2\.3:5070>;expires=3600/);
    const [b] = await registrar.bindings('alice');
    expect(b).toMatchObject({
      contact: 'sip:alice@10.1.2.3:5070',
      transport: 'udp',
      address: '10.1.2.3',
      port: 5070,
    });
    expect(await redis.pttl(`${prefix}:sip:reg:alice`)).toBeGreaterThan(3_500_000);

    const brief = await handler.handle(
      req('REGISTER', { headers: [`${contact};expires=10`], auth: alice() }),
      src,
    );
    expect(status(brief)).toBe('423 Interval Too Brief');
    expect(encode(brief!).toString()).toMatch(/Min-Expires: 60/);

    const off = await handler.handle(
      req('REGISTER', { headers: [`${contact};expires=0`], auth: alice() }),
      src,
    );
    expect(status(off)).toBe('200 OK');
    expect(await registrar.bindings('alice')).toEqual([]);

    await handler.handle(req('REGISTER', { headers: [contact, 'Expires: 300'], auth: alice() }), src);
    const star = await handler.handle(
      req('REGISTER', { headers: ['Contact: *', 'Expires: 0'], auth: alice() }),
      src,
    );
    expect(status(star)).toBe('200 OK');
    expect(await redis.exists(`${prefix}:sip:reg:alice`)).toBe(0);
  });

  it('refuses wrong credentials, disabled users, and registering someone else', async () => {
    failures.length = 0;
    const bad = await handler.handle(
      req('REGISTER', { headers: ['Contact: <sip:x@1.2.3.4>'], auth: { ...alice(), password: 'nope' } }),
      src,
    );
    expect(status(bad)).toBe('403 Forbidden');
    expect(failures).toEqual(['alice']);
    const carol = await handler.handle(
      req('REGISTER', {
        to: `sip:carol@${REALM}`,
        headers: ['Contact: <sip:x@1.2.3.4>'],
        auth: { user: 'carol', password: 'carol-pw', nonce: auth.nonce() },
      }),
      src,
    );
    expect(status(carol)).toBe('403 Forbidden');
    const other = await handler.handle(
      req('REGISTER', { to: `sip:bob@${REALM}`, headers: ['Contact: <sip:x@1.2.3.4>'], auth: alice() }),
      src,
    );
    expect(status(other)).toBe('403 Forbidden');
    // A stale nonce is challenged again with stale=true.
    const staleNonce = auth.nonce(Date.now() - 120_000);
    const stale = await handler.handle(
      req('REGISTER', { headers: ['Contact: <sip:x@1.2.3.4>'], auth: { ...alice(), nonce: staleNonce } }),
      src,
    );
    expect(status(stale)).toBe('401 Unauthorized');
    expect(encode(stale!).toString()).toMatch(/stale=true/);
  });

  const msg = (target: string, body = 'Hello ✓', ctype = 'text/plain; charset=utf-8', auth = alice()) =>
    req('MESSAGE', {
      uri: `sip:${target}@${REALM}`,
      to: `sip:${target}@${REALM}`,
      headers: [`Content-Type: ${ctype}`],
      body,
      auth,
    });

  it('sends a MESSAGE to a mobile number as the user, and answers 202 with the smsid', async () => {
    const r = await handler.handle(msg('+36201234567', 'Hello ✓\r\n'), src);
    expect(status(r)).toBe('202 Accepted');
    expect(r?.headers['x-smsid']).toBe('sms-1');
    expect(sent).toEqual([{ user: 'alice', to: '+36201234567', text: 'Hello ✓' }]);
    expect(status(await handler.handle(req('MESSAGE', { uri: 'sip:+36201234567@x', body: 'x' }), src))).toBe(
      '401 Unauthorized',
    );
  });

  it('refuses by content type, size, encoding, target and send answer, sending nothing', async () => {
    const html = await handler.handle(msg('+36201234567', '<b>x</b>', 'text/html'), src);
    expect(status(html)).toBe('415 Unsupported Media Type');
    expect(html?.headers['accept']).toBe('text/plain');
    expect(
      status(await handler.handle(msg('+36201234567', 'x', 'text/plain;charset=iso-8859-2'), src)),
    ).toMatch(/^415/);
    expect(status(await handler.handle(msg('+36201234567', 'x'.repeat(101)), src))).toMatch(/^413/);
    expect(status(await handler.handle(msg('+36201234567', ' \r\n'), src))).toMatch(/^488/);
    expect(status(await handler.handle(msg('+3612345678'), src))).toBe('404 Not Found');
    expect(status(await handler.handle(msg('helpdesk'), src))).toBe('404 Not Found');
    cfg.sendsmsmessages = 0;
    expect(status(await handler.handle(msg('+36201234567'), src))).toBe('404 Not Found');
    expect(sent).toEqual([]);

    cfg.sendsmsmessages = 1;
    const bin = req('MESSAGE', {
      uri: `sip:+36201234567@${REALM}`,
      headers: ['Content-Type: text/plain'],
      auth: alice(),
    });
    bin.content = toWire('x').replace('x', '\xff\xfe');
    expect(status(await handler.handle(bin, src))).toMatch(/^400/);

    answer = { ok: false, status: 403, reason: 'Insufficient Credit', detail: 'no credit' };
    const broke = await handler.handle(msg('+36201234567'), src);
    expect(status(broke)).toBe('403 Insufficient Credit');
    expect(broke?.headers['warning']).toBe('399 smsfleet "no credit"');
  });

  it('refuses a replayed authorization (same nonce, nc and cnonce) with a fresh challenge', async () => {
    const creds = alice();
    const first = await handler.handle(msg('+36201234567', 'once', undefined, creds), src);
    expect(status(first)).toBe('202 Accepted');
    const replay = await handler.handle(msg('+36201234567', 'once', undefined, creds), src);
    expect(status(replay)).toBe('401 Unauthorized');
    expect(sent).toHaveLength(1);
  });

  it('answers OPTIONS, refuses calls and unknown methods', async () => {
    expect(status(await handler.handle(req('OPTIONS'), src))).toBe('200 OK');
    const invite = await handler.handle(req('INVITE'), src);
    expect(status(invite)).toBe('405 Method Not Allowed');
    expect(invite?.headers['allow']).toBe('REGISTER, MESSAGE, OPTIONS, ACK');
    expect(status(await handler.handle(req('FOO'), src))).toBe('501 Not Implemented');
    expect(await handler.handle(req('ACK'), src)).toBeUndefined();
  });
});
