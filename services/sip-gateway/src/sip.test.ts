import { describe, expect, it } from 'vitest';
import {
  ChatDelivery,
  endpointTarget,
  isPermanent,
  targetOf,
  type ChatDeliveryDeps,
} from './chat-delivery.js';
import { DigestAuth, digestResponse, readCredentials, type DigestCredentials } from './digest.js';
import { sipStatusForMizuError } from './mizu-client.js';
import type { Binding, Registrar } from './registrar.js';
import { ServerTransactions, transactionKey } from './server-transactions.js';
import {
  bodyText,
  checkRequest,
  encode,
  isRequest,
  makeResponse,
  parseDatagram,
  streamFramer,
  uriUser,
  parseUri,
  type SipMessageObject,
  type SipRequest,
} from './sip-message.js';

const CRLF = '\r\n';
function raw(lines: string[], body = ''): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([
    Buffer.from([...lines, `Content-Length: ${b.length}`, '', ''].join(CRLF), 'utf8'),
    b,
  ]);
}
const MESSAGE_LINES = [
  'MESSAGE sip:%2B36201234567@sip.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK776;rport',
  'f: "Alice" <sip:alice@sip.example.com>;tag=49583',
  't: <sip:+36201234567@sip.example.com>',
  'i: asd88asd77a@10.0.0.1',
  'CSeq: 1 MESSAGE',
  'Max-Forwards: 70',
  'c: text/plain;charset=UTF-8',
];

function request(lines = MESSAGE_LINES, body = 'Szia, ez egy üzenet ✓'): SipRequest {
  const m = parseDatagram(raw(lines, body));
  if (!m || !isRequest(m)) throw new Error('not parsed');
  return m;
}

describe('SIP parsing (the sip package) and checks', () => {
  it('parses a MESSAGE with compact headers and a UTF-8 body', () => {
    const m = request();
    expect(m.method).toBe('MESSAGE');
    expect(m.headers['call-id']).toBe('asd88asd77a@10.0.0.1');
    expect(m.headers.cseq).toEqual({ seq: 1, method: 'MESSAGE' });
    expect(m.headers.from?.params['tag']).toBe('49583');
    expect(m.headers['content-type']).toBe('text/plain;charset=UTF-8');
    expect(bodyText(m)).toBe('Szia, ez egy üzenet ✓');
    expect(uriUser(parseUri(m.uri))).toBe('+36201234567');
    expect(checkRequest(m, '')).toBeUndefined();
  });

  it('reports what is missing or inconsistent', () => {
    const without = (name: string) => MESSAGE_LINES.filter((l) => !l.startsWith(name));
    expect(checkRequest(request(without('i:')), '')).toBe('missing Call-ID');
    expect(checkRequest(request(without('Via:')), '')).toBe('missing Via');
    expect(checkRequest(request(without('f:')), '')).toBe('missing From');
    const badCseq = MESSAGE_LINES.map((l) => (l.startsWith('CSeq') ? 'CSeq: 1 REGISTER' : l));
    expect(checkRequest(request(badCseq), '')).toBe('CSeq method does not match');
    // A body cut short on the way (datagram shorter than its Content-Length).
    const cut = raw(MESSAGE_LINES, 'hello').subarray(0, -2);
    const m = parseDatagram(cut)!;
    expect(checkRequest(m, '')).toBe('body shorter than Content-Length');
    expect(parseDatagram(Buffer.from('hello world\r\n\r\n'))).toBeUndefined();
  });

  it('answers with a To tag and the transaction headers, and counts Content-Length in bytes', () => {
    const req = request();
    const res = makeResponse(req, 202, 'Accepted', { headers: { 'x-smsid': 'abc' } });
    const text = encode(res).toString('utf8');
    expect(text).toMatch(/^SIP\/2\.0 202 Accepted\r\n/);
    expect(text).toMatch(/To: +<sip:\+36201234567@sip\.example\.com>;tag=[0-9a-f]{12}\r\n/);
    expect(text).toMatch(/Via: SIP\/2\.0\/UDP 10\.0\.0\.1:5070;branch=z9hG4bK776;rport\r\n/);
    expect(text).toMatch(/X-Smsid: abc\r\n/);
    const withBody = encode({ ...res, content: Buffer.from('é✓', 'utf8').toString('binary') });
    expect(withBody.toString('utf8')).toMatch(/Content-Length: 5\r\n/);
  });

  it('frames TCP streams: two messages in one chunk, one message over many chunks', () => {
    const got: SipMessageObject[] = [];
    const feed = streamFramer(
      (m) => got.push(m),
      () => got.push({ headers: {}, reason: 'flood' }),
    );
    const one = raw(MESSAGE_LINES, 'first');
    const two = raw(MESSAGE_LINES, 'second ✓');
    feed(Buffer.concat([one, two]));
    const three = raw(MESSAGE_LINES, 'third');
    for (let i = 0; i < three.length; i += 7) feed(three.subarray(i, i + 7));
    expect(got.map((m) => bodyText(m))).toEqual(['first', 'second ✓', 'third']);
  });

  it('reports a flood (headers without an end)', () => {
    let flooded = 0;
    const feed = streamFramer(
      () => undefined,
      () => flooded++,
      1000,
    );
    feed(Buffer.from('X'.repeat(2000)));
    expect(flooded).toBe(1);
  });
});

describe('digest authentication', () => {
  it('computes the RFC 2617 example response', () => {
    const c: DigestCredentials = {
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      response: '',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    };
    expect(digestResponse(c, 'GET', 'Circle Of Life')).toBe('6629fae49393a05397450978507c4ef1');
  });

  const auth = new DigestAuth(Buffer.alloc(32, 7), 'smsfleet.test', 60_000);
  const creds = (nonce: string, password: string, over: Partial<DigestCredentials> = {}) => {
    const c: DigestCredentials = {
      username: 'alice',
      realm: 'smsfleet.test',
      nonce,
      uri: 'sip:smsfleet.test',
      response: '',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'abc',
      ...over,
    };
    return { ...c, response: digestResponse(c, 'REGISTER', password) };
  };

  it('accepts the right password on its own nonce, from any replica with the same key', () => {
    const now = 1_700_000_000_000;
    const nonce = auth.nonce(now);
    expect(auth.verify(creds(nonce, 'pw'), 'REGISTER', 'pw', now + 1000)).toEqual({ ok: true });
    const otherReplica = new DigestAuth(Buffer.alloc(32, 7), 'smsfleet.test', 60_000);
    expect(otherReplica.verify(creds(nonce, 'pw'), 'REGISTER', 'pw', now + 1000)).toEqual({ ok: true });
    // Without qop (RFC 2069 style) too.
    const plain = creds(nonce, 'pw', { qop: undefined, nc: undefined, cnonce: undefined });
    expect(auth.verify(plain, 'REGISTER', 'pw', now)).toEqual({ ok: true });
  });

  it('refuses a wrong password, another method, a forged or foreign nonce; an old nonce is stale', () => {
    const now = 1_700_000_000_000;
    const nonce = auth.nonce(now);
    expect(auth.verify(creds(nonce, 'wrong'), 'REGISTER', 'pw', now)).toMatchObject({
      ok: false,
      stale: false,
      reason: 'wrong credentials',
    });
    expect(auth.verify(creds(nonce, 'pw'), 'MESSAGE', 'pw', now)).toMatchObject({ ok: false });
    const forged = `${nonce.slice(0, -3)}AAA`;
    expect(auth.checkNonce(forged, now)).toBe('invalid');
    const foreign = new DigestAuth(Buffer.alloc(32, 8), 'smsfleet.test', 60_000).nonce(now);
    expect(auth.checkNonce(foreign, now)).toBe('invalid');
    expect(auth.verify(creds(nonce, 'pw'), 'REGISTER', 'pw', now + 61_000)).toMatchObject({
      ok: false,
      stale: true,
    });
    // A stale nonce with a wrong password is simply wrong.
    expect(auth.verify(creds(nonce, 'x'), 'REGISTER', 'pw', now + 61_000)).toMatchObject({ stale: false });
    expect(auth.verify(creds(nonce, 'pw', { realm: 'other' }), 'REGISTER', 'pw', now)).toMatchObject({
      reason: 'wrong realm',
    });
  });

  it('reads an Authorization header as the parser gives it, and builds challenges', () => {
    const m = parseDatagram(
      raw([
        'REGISTER sip:smsfleet.test SIP/2.0',
        'Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1',
        'From: <sip:alice@smsfleet.test>;tag=1',
        'To: <sip:alice@smsfleet.test>',
        'Call-ID: x',
        'CSeq: 2 REGISTER',
        'Authorization: Digest username="alice",realm="smsfleet.test",nonce="n.o.nce",uri="sip:smsfleet.test",response="ABCDEF",qop=auth,nc=00000001,cnonce="c1",algorithm=MD5',
      ]),
    )!;
    expect(readCredentials(m.headers.authorization?.[0])).toEqual({
      username: 'alice',
      realm: 'smsfleet.test',
      nonce: 'n.o.nce',
      uri: 'sip:smsfleet.test',
      response: 'abcdef',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'c1',
      opaque: undefined,
    });
    expect(readCredentials({ scheme: 'Basic', username: 'x' })).toBeUndefined();
    const ch = auth.challenge(true);
    expect(ch).toMatchObject({ scheme: 'Digest', realm: '"smsfleet.test"', qop: '"auth"', stale: 'true' });
  });
});

describe('server transactions', () => {
  it('absorbs retransmissions: nothing while in progress, then the same response', () => {
    const tx = new ServerTransactions(1000);
    const req = parseDatagram(raw(MESSAGE_LINES, 'x'))! as SipRequest;
    const key = transactionKey(req, { transport: 'udp', address: '10.0.0.1', port: 5070 });
    expect(tx.begin(key, 0)).toEqual({ state: 'new' });
    expect(tx.begin(key, 10)).toEqual({ state: 'retransmission', response: undefined });
    const res = makeResponse(req, 202, 'Accepted');
    tx.finish(key, res, 20);
    expect(tx.begin(key, 30)).toEqual({ state: 'retransmission', response: res });
    tx.prune(5000);
    expect(tx.size).toBe(0);
    expect(tx.begin(key, 5000)).toEqual({ state: 'new' });
  });
});

describe('Mizu errors as SIP answers', () => {
  it.each([
    ['NO_CREDIT', 403],
    ['NOT_ALLOWED', 403],
    ['AUTH', 403],
    ['MISSING_NUMBER', 404],
    ['BAD_REQUEST', 488],
    ['UNAVAILABLE', 503],
    ['NO_GATEWAY', 503],
    ['SOMETHING_NEW', 500],
  ])('%s -> %i', (code, status) => {
    expect(sipStatusForMizuError(code).status).toBe(status);
  });
});

describe('chat delivery', () => {
  const binding: Binding = {
    contact: 'sip:alice@192.0.2.10:5070',
    expiresAt: Date.now() + 60_000,
    transport: 'udp',
    address: '198.51.100.1',
    port: 40000,
    callId: 'c',
    cseq: 1,
  };
  const event = {
    moId: 'mo1',
    userId: 7,
    from: '36209998877',
    to: '36700000031',
    text: 'hi ✓',
    chatEndpoint: '',
  };

  function setup(answers: number[], bindings: Binding[] = [binding], endpoint = '') {
    const sent: { uri: string; to: unknown; body: string }[] = [];
    const recorded: unknown[] = [];
    const deps: ChatDeliveryDeps = {
      registrar: { bindings: async () => bindings } as unknown as Registrar,
      userName: async () => 'alice',
      request: async (m, to) => {
        sent.push({ uri: m.uri!, to, body: bodyText(m)! });
        const status = answers.shift() ?? 408;
        return { status, reason: 'x' };
      },
      via: () => ({ host: '127.0.0.1', port: 5060 }),
      connected: () => false,
      realm: 'smsfleet.test',
      attempts: 3,
      retryDelayMs: 1,
      alreadyDone: async () => false,
      record: async (...a) => void recorded.push(a),
      sleep: async () => undefined,
      log: { info: () => undefined, warn: () => undefined },
    };
    return { chat: new ChatDelivery(deps), sent, recorded, event: { ...event, chatEndpoint: endpoint } };
  }

  it('sends a MESSAGE to the registered contact and records the delivery', async () => {
    const s = setup([200]);
    expect(await s.chat.deliver(s.event)).toBe('delivered');
    expect(s.sent).toEqual([
      { uri: binding.contact, to: { transport: 'udp', address: '192.0.2.10', port: 5070 }, body: 'hi ✓' },
    ]);
    expect(s.recorded).toEqual([['mo1', 'delivered', 1, '200 x']]);
  });

  it('retries temporary failures and gives up after the attempts; a permanent refusal stops at once', async () => {
    const s = setup([408, 503, 480]);
    expect(await s.chat.deliver(s.event)).toBe('failed');
    expect(s.sent).toHaveLength(3);
    expect(s.recorded).toEqual([['mo1', 'failed', 3, '480 x']]);
    const p = setup([404]);
    expect(await p.chat.deliver(p.event)).toBe('failed');
    expect(p.sent).toHaveLength(1);
    const r = setup([408, 202]);
    expect(await r.chat.deliver(r.event)).toBe('delivered');
  });

  it('without a registration uses a sip: chat endpoint, else records no-contact', async () => {
    const e = setup([200], [], 'sip:alice@203.0.113.5:5080;transport=tcp');
    expect(await e.chat.deliver(e.event)).toBe('delivered');
    expect(e.sent[0]!.to).toEqual({ transport: 'tcp', address: '203.0.113.5', port: 5080 });
    const n = setup([], [], 'https://hooks.example.com/x');
    expect(await n.chat.deliver(n.event)).toBe('no-contact');
    expect(n.sent).toHaveLength(0);
    expect(n.recorded).toEqual([['mo1', 'no-contact', 0, 'no SIP registration']]);
  });

  it('reaches TCP clients over their own connection while it is open', () => {
    const tcp = { ...binding, transport: 'tcp' as const };
    expect(targetOf(tcp, () => true)).toEqual({ transport: 'tcp', address: '198.51.100.1', port: 40000 });
    expect(targetOf(tcp, () => false)).toEqual({ transport: 'tcp', address: '192.0.2.10', port: 5070 });
    expect(endpointTarget('sips:bob@example.com')).toEqual({
      uri: 'sips:bob@example.com',
      to: { transport: 'tls', address: 'example.com', port: 5061 },
    });
    expect(isPermanent(404)).toBe(true);
    expect(isPermanent(480)).toBe(false);
    expect(isPermanent(503)).toBe(false);
  });
});
