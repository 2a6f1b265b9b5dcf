import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MizuClient } from './mizu-client.js';

/** The send-API client against a local HTTP server playing the api-gateway, and against nothing. */
let server: http.Server;
let url = '';
const seen: URLSearchParams[] = [];
let answer: { status: number; body: string } = { status: 200, body: '' };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push(new URLSearchParams(body));
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mvapireq/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('MizuClient', () => {
  const send = (c: MizuClient) => c.send({ apiKey: 'k', user: 'alice', to: '+36201234567', text: 'hi ✓' });

  it('posts sendsms as the user (authkey, authid, asuser=1, json) and returns the smsid', async () => {
    answer = { status: 200, body: '{"status":"OK","smsid":"abc"}' };
    expect(await send(new MizuClient({ url, timeoutMs: 2000 }))).toEqual({ ok: true, smsid: 'abc' });
    expect(Object.fromEntries(seen.at(-1)!)).toEqual({
      apientry: 'sendsms',
      authkey: 'k',
      authid: 'alice',
      asuser: '1',
      bnum: '+36201234567',
      txt: 'hi ✓',
      format: 'json',
    });
  });

  it('maps Mizu errors to SIP answers', async () => {
    const c = new MizuClient({ url, timeoutMs: 2000 });
    answer = { status: 200, body: '{"status":"ERROR","code":"NO_CREDIT","error":"not enough credit"}' };
    expect(await send(c)).toEqual({
      ok: false,
      status: 403,
      reason: 'Insufficient Credit',
      detail: 'not enough credit',
    });
    answer = {
      status: 200,
      body: '{"status":"ERROR","code":"BAD_REQUEST","error":"invalid target number: x"}',
    };
    expect(await send(c)).toMatchObject({ ok: false, status: 404 });
    answer = { status: 503, body: '{"status":"ERROR","code":"UNAVAILABLE","error":"queue down"}' };
    expect(await send(c)).toMatchObject({ ok: false, status: 503 });
    answer = { status: 502, body: '<html>bad gateway</html>' };
    expect(await send(c)).toMatchObject({ ok: false, status: 503 });
  });

  it('answers 503 with Retry-After when the api-gateway is unreachable, and without an apiv2key', async () => {
    const dead = new MizuClient({ url: 'http://127.0.0.1:9/mvapireq/', timeoutMs: 2000 });
    expect(await send(dead)).toMatchObject({ ok: false, status: 503, retryAfterS: 5 });
    const noKey = await new MizuClient({ url, timeoutMs: 2000 }).send({
      apiKey: '',
      user: 'a',
      to: '1',
      text: 'x',
    });
    expect(noKey).toMatchObject({ ok: false, status: 503, detail: expect.stringMatching(/apiv2key/) });
  });
});
