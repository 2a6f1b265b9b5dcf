import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '@smsfleet/runtime';
import { finalErrorHandler } from './error-answer.js';

const logged: unknown[] = [];
const log = { error: (o: unknown) => void logged.push(o) } as unknown as Logger;

let base = '';
let close: () => void = () => undefined;

beforeAll(async () => {
  const app = express();
  app.post('/', express.text({ type: () => true, limit: '1kb' }), (_req, res) => void res.send('OK'));
  app.all('/dlr/:id', express.text({ type: () => true, limit: '1kb' }), (_req, res) => void res.send('OK'));
  app.get('/v1/things/:id', (req, res) => void res.json({ id: req.params.id }));
  app.get('/boom', () => {
    throw new Error('db password=secret exploded');
  });
  app.use(finalErrorHandler(log));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close());

describe('the last error middleware', () => {
  it('answers a too large MO callback body with ERROR text and 413', async () => {
    const r = await fetch(`${base}/`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(r.status).toBe(413);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await r.text()).toBe('ERROR request entity too large');
  });

  it('answers an unknown charset on the DLR endpoint with ERROR text and 415', async () => {
    const r = await fetch(`${base}/dlr/3`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=bogus-7' },
      body: 'id=1',
    });
    expect(r.status).toBe(415);
    expect(await r.text()).toMatch(/^ERROR unsupported charset/);
  });

  it('answers a broken percent-encoding in a path parameter with a 400 problem document', async () => {
    const r = await fetch(`${base}/v1/things/%E0%A4%A`);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = (await r.json()) as { status: number; title: string; detail: string };
    expect(p).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(p.detail).toMatch(/Failed to decode param/);
  });

  it('answers anything else with a logged 500 that does not leak the error text', async () => {
    const r = await fetch(`${base}/boom`);
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).not.toMatch(/secret|stack|<html/i);
    expect(JSON.parse(text)).toMatchObject({ status: 500, detail: 'internal error' });
    expect(logged.length).toBe(1);
  });
});
