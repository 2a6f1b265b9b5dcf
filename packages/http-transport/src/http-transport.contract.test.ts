/**
 * Contract suite of the HTTP transport: what the provider receives (method, URL, body, headers)
 * for every keyword, body style, header template and the unicode case, against plain node:http
 * servers on port 0; and how answers are judged, against the simulator's provider behaviours.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundSms } from '@smsfleet/core';
import { startHttpSim, type HttpSim } from '@smsfleet/smsc-sim';
import { HttpTransport, type HttpGatewayConfig } from './http-transport.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const UNICODE = 'Árvíztűrő tükörfúrógép — 你好 😀 & a+b=c? 100% #1';

function message(over: Partial<OutboundSms> = {}): OutboundSms {
  return {
    smsid: 'sms-0001',
    userId: 42,
    gatewayId: 7,
    from: '+3612345',
    to: '36201234567',
    text: 'Hello world',
    encoding: 'GSM7',
    segments: 1,
    clientIp: '10.1.2.3',
    acceptedAt: Date.now(),
    ...over,
  };
}

let server: Server;
let base = '';
let seen: Seen[] = [];
let answer: { status: number; body: string; headers?: Record<string, string> } = {
  status: 200,
  body: 'OK 1',
};
const transports: HttpTransport[] = [];

function transport(cfg: Omit<HttpGatewayConfig, 'url'> & { url?: string }): HttpTransport {
  const t = new HttpTransport({ url: `${base}/send?to=[tonum]&text=[message]`, ...cfg });
  transports.push(t);
  return t;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  seen = [];
  answer = { status: 200, body: 'OK 1' };
});

describe('requests the provider receives', () => {
  it('GET with every keyword URL-encoded in the URL', async () => {
    const t = transport({
      url:
        `${base}/send?fromid=[fromid]&from=[fromnum]&to=[tonum]&text=[message]&n=[smscounter]` +
        `&id=[smsid]&gw=[gatewayid]&ip=[clientip]&literal=a%20b`,
    });
    const r = await t.send(message({ text: UNICODE, segments: 2 }));
    expect(r.ok).toBe(true);
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe('GET');
    expect(req.body).toBe('');
    const q = new URL(req.url, base).searchParams;
    expect(Object.fromEntries(q)).toEqual({
      fromid: '42',
      from: '+3612345',
      to: '36201234567',
      text: UNICODE,
      n: '2',
      id: 'sms-0001',
      gw: '7',
      ip: '10.1.2.3',
      literal: 'a b',
    });
    // The raw URL carries UTF-8 percent-encoding, never raw `&`, `+`, `#` from the text.
    expect(req.url).toContain(encodeURIComponent(UNICODE));
  });

  it('credentials in the gateway URL become HTTP Basic authentication, never part of the path', async () => {
    const t = transport({ url: `${base.replace('://', '://acme:p%40ss%3Aw0rd@')}/send?to=[tonum]` });
    expect((await t.send(message())).ok).toBe(true);
    const req = seen[0]!;
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('acme:p@ss:w0rd').toString('base64')}`);
    expect(req.url).toBe('/send?to=36201234567');
  });

  it('POST form body (smssenddata) with URL-encoded values and a form content type', async () => {
    const t = transport({ body: 'user=me&to=[tonum]&msg=[message]&id=[smsid]' });
    await t.send(message({ text: UNICODE }));
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      user: 'me',
      to: '36201234567',
      msg: UNICODE,
      id: 'sms-0001',
    });
  });

  it('POST JSON body: values JSON-escaped, quotes and newlines included', async () => {
    const text = 'He said "hi"\nnew line \\ back ' + UNICODE;
    const t = transport({
      body: '{"to":"[tonum]","from":"[fromnum]","text":"[message]","ref":"[smsid]","n":[smscounter]}',
    });
    await t.send(message({ text }));
    const req = seen[0]!;
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req.body)).toEqual({
      to: '36201234567',
      from: '+3612345',
      text,
      ref: 'sms-0001',
      n: 1,
    });
  });

  it('POST XML body: values XML-escaped', async () => {
    const text = `<b>Tom & "Jerry"</b> it's ${UNICODE}`;
    const t = transport({ body: '<sms><to>[tonum]</to><text>[message]</text><gw>[gatewayid]</gw></sms>' });
    await t.send(message({ text }));
    const req = seen[0]!;
    expect(req.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(req.body).toBe(
      `<sms><to>36201234567</to><text>&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt; it&apos;s ${UNICODE.replace('&', '&amp;')}</text><gw>7</gw></sms>`,
    );
  });

  it('POST plain text body (bodyFormat text): values as they are', async () => {
    const t = transport({ body: 'To: [tonum]\n[message]', bodyFormat: 'text' });
    await t.send(message({ text: `a&b=c ${UNICODE}` }));
    expect(seen[0]!.body).toBe(`To: 36201234567\na&b=c ${UNICODE}`);
    expect(seen[0]!.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('headers from smssendheader lines, with keywords; a configured content type wins', async () => {
    const t = transport({
      body: '{"text":"[message]"}',
      headers:
        'Authorization: Bearer s3cr3t\nX-Sms-Id: [smsid]\nX-From: [fromnum]\nContent-Type: application/vnd.sms+json',
    });
    await t.send(message());
    const h = seen[0]!.headers;
    expect(h['authorization']).toBe('Bearer s3cr3t');
    expect(h['x-sms-id']).toBe('sms-0001');
    expect(h['x-from']).toBe('+3612345');
    expect(h['content-type']).toBe('application/vnd.sms+json');
  });

  it('method POST forced without body data, GET forced with none', async () => {
    await transport({ method: 'POST' }).send(message());
    expect(seen[0]!.method).toBe('POST');
    expect(new URL(seen[0]!.url, base).searchParams.get('text')).toBe('Hello world');
  });

  it('long text split per segment when splitLong, whole otherwise', async () => {
    const long = 'x'.repeat(200);
    await transport({}).send(message({ text: long, segments: 2 }));
    expect(seen).toHaveLength(1);
    expect(new URL(seen[0]!.url, base).searchParams.get('text')).toBe(long);
    seen = [];
    const r = await transport({ url: `${base}/s?text=[message]&part=[smscounter]`, splitLong: true }).send(
      message({ text: long, segments: 2 }),
    );
    expect(r.ok).toBe(true);
    expect(seen.map((s) => new URL(s.url, base).searchParams.get('part'))).toEqual(['1', '2']);
    expect(seen.map((s) => new URL(s.url, base).searchParams.get('text')).join('')).toBe(long);
  });

  it('{SELECT} placeholders get the message values as bound parameters', async () => {
    const calls: { sql: string; params: readonly (string | number)[] }[] = [];
    const t = transport({
      url: `${base}/s?key={SELECT apikey FROM keys WHERE user = [fromid] AND num = '[tonum]'}&text=[message]`,
      sql: (sql, params) => {
        calls.push({ sql, params });
        return Promise.resolve('k&1');
      },
    });
    const text = `x' OR 1=1; -- [tonum] {SELECT 1}`;
    await t.send(message({ text }));
    expect(calls).toEqual([
      { sql: 'SELECT apikey FROM keys WHERE user = ? AND num = ?', params: [42, '36201234567'] },
    ]);
    const q = new URL(seen[0]!.url, base).searchParams;
    expect(q.get('key')).toBe('k&1');
    expect(q.get('text')).toBe(text);
  });
});

describe('answers', () => {
  it.each([
    { status: 200, body: '{"status":"ok","message_id":"abc-1"}', ok: true, id: 'abc-1' },
    { status: 200, body: 'OK 12345', ok: true, id: '12345' },
    { status: 202, body: '0: Accepted for delivery', ok: true },
    { status: 200, body: 'ERROR: invalid number', ok: false, permanent: true },
    { status: 400, body: '{"error":"bad destination"}', ok: false, permanent: true },
    { status: 500, body: 'oops', ok: false, permanent: false },
    { status: 503, body: '', ok: false, permanent: false },
  ])('$status $body', async (c) => {
    answer = { status: c.status, body: c.body };
    const r = await transport({}).send(message());
    expect(r.ok).toBe(c.ok);
    if (r.ok && c.id) expect(r.providerMessageId).toBe(c.id);
    if (!r.ok) expect(r.permanent).toBe(c.permanent);
  });

  it('smssuccessstring / smsfailstring decide over the guess, idRegex extracts the id', async () => {
    answer = { status: 200, body: 'result=queued;ref=Q-77;error=none' };
    const r = await transport({ successString: 'queued', idRegex: 'ref=([A-Z0-9-]+)' }).send(message());
    expect(r).toMatchObject({ ok: true, providerMessageId: 'Q-77' });
    answer = { status: 200, body: 'status: REJECTED_BY_ROUTE' };
    const f = await transport({ failString: 'REJECTED' }).send(message());
    expect(f).toMatchObject({ ok: false, permanent: true });
  });

  it('429 reports Retry-After', async () => {
    answer = { status: 429, body: 'slow down', headers: { 'retry-after': '3' } };
    const r = await transport({}).send(message());
    expect(r).toMatchObject({ ok: false, permanent: false, retryAfterMs: 3000, throttled: true });
  });

  it('a 503 is temporary but not throttling (it counts as a failed attempt)', async () => {
    answer = { status: 503, body: 'down', headers: { 'retry-after': '3' } };
    const r = await transport({}).send(message());
    expect(r).toMatchObject({ ok: false, permanent: false, retryAfterMs: 3000 });
    expect(r).not.toHaveProperty('throttled');
  });
});

describe('against the simulator', () => {
  let sim: HttpSim;
  beforeAll(async () => {
    sim = await startHttpSim({ behaviour: { recordRequests: true } });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    sim.reset();
    sim.setBehaviour({
      answerStyle: 'json',
      latencyMs: 0,
      failRate: 0,
      rejectRate: 0,
      down: false,
      failFirst: 0,
      throttleFirst: 0,
    });
  });
  const simTransport = (over: Partial<HttpGatewayConfig> = {}) =>
    transport({ url: `${sim.url}/send?to=[tonum]&from=[fromnum]&text=[message]&id=[smsid]`, ...over });

  it.each([
    ['json', 'sim-1'],
    ['text', 'sim-1'],
    ['clickatell', 'sim-1'],
    ['xml', 'sim-1'],
    ['kannel', undefined],
  ] as const)('success answer style %s', async (style, id) => {
    sim.setBehaviour({ answerStyle: style });
    // XML answers carry the id in an element: the gateway's idRegex finds it.
    const idRegex = style === 'xml' ? '<messageid>([^<]+)</messageid>' : undefined;
    const r = await simTransport({ idRegex }).send(message({ text: UNICODE }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.providerMessageId).toBe(id);
    expect(sim.messages()[0]).toMatchObject({
      to: '36201234567',
      from: '+3612345',
      text: UNICODE,
      smsid: 'sms-0001',
    });
  });

  it.each(['json', 'text', 'clickatell', 'xml', 'kannel'] as const)(
    'permanent rejection style %s',
    async (style) => {
      sim.setBehaviour({ answerStyle: style, rejectRate: 1 });
      const r = await simTransport().send(message());
      expect(r).toMatchObject({ ok: false, permanent: true });
    },
  );

  it('5xx is temporary', async () => {
    sim.setBehaviour({ failFirst: 1, failStatus: 502 });
    expect(await simTransport().send(message())).toMatchObject({ ok: false, permanent: false });
    expect(await simTransport().send(message())).toMatchObject({ ok: true });
  });

  it('429 with Retry-After', async () => {
    sim.setBehaviour({ throttleFirst: 1, retryAfterS: 2 });
    expect(await simTransport().send(message())).toMatchObject({
      ok: false,
      permanent: false,
      retryAfterMs: 2000,
    });
    expect(sim.stats().throttled).toBe(1);
  });

  it('slow provider: response timeout is temporary', async () => {
    sim.setBehaviour({ latencyMs: 1500 }); // undici checks timeouts on a coarse (~0.5 s) clock
    const r = await simTransport({ responseTimeoutMs: 100 }).send(message());
    expect(r).toMatchObject({ ok: false, permanent: false, reason: 'provider timeout' });
  });

  it('provider down (socket closed) and refused connections are temporary, without secrets in reasons', async () => {
    sim.setBehaviour({ down: true });
    const r = await simTransport({ url: `${sim.url}/send?password=hunter2&to=[tonum]&text=[message]` }).send(
      message(),
    );
    expect(r).toMatchObject({ ok: false, permanent: false });
    const refused = await transport({
      url: 'http://user:hunter2@127.0.0.1:1/send?token=hunter2&to=[tonum]',
    }).send(message());
    expect(refused).toMatchObject({ ok: false, permanent: false });
    expect(JSON.stringify([r, refused])).not.toContain('hunter2');
  });

  it('the simulator records the raw request', async () => {
    const r = await simTransport({
      body: '{"to":"[tonum]","text":"[message]"}',
      url: `${sim.url}/send`,
    }).send(message({ text: UNICODE }));
    expect(r).toMatchObject({ ok: true });
    const [req] = sim.requests();
    expect(req).toMatchObject({ method: 'POST', url: '/send' });
    expect(sim.stats()).toMatchObject({ received: 1, accepted: 1 });
    expect(JSON.parse(req!.body)).toEqual({ to: '36201234567', text: UNICODE });
    expect(sim.messages()[0]?.text).toBe(UNICODE);
  });
});

describe('HTTPS', () => {
  let dir: string;
  let https: ReturnType<typeof createHttpsServer>;
  let url = '';
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'smsfleet-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    https = createHttpsServer(
      { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
      (_req, res) => res.end('OK tls-1'),
    );
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(https.address() as AddressInfo).port}/send?to=[tonum]`;
  });
  afterAll(async () => {
    https.closeAllConnections();
    await new Promise((r) => https.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks certificates by default and accepts any with insecureTls', async () => {
    const strict = await transport({ url }).send(message());
    expect(strict).toMatchObject({ ok: false, permanent: false });
    if (!strict.ok) expect(strict.reason).toMatch(/TLS certificate rejected/);
    const loose = await transport({ url, insecureTls: true }).send(message());
    expect(loose).toMatchObject({ ok: true, providerMessageId: 'tls-1' });
  });
});
