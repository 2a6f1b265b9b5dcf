import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from './api-context.js';
import { createMizuHandler } from './mizu-route.js';

const logged: string[] = [];
const codes: string[] = [];
const ctx = {
  config: { current: () => ({ httpstrictresponse: true }) },
  log: {
    warn: (_o: unknown, msg: string) => void logged.push(msg),
    error: (_o: unknown, msg: string) => void logged.push(msg),
  },
} as unknown as ApiContext;

let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer(createMizuHandler(ctx, { onError: (code) => void codes.push(code) }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise((r) => server.close(r)));

describe('the Mizu handler when the client goes away', () => {
  it('a client that disconnects in the middle of its body is neither answered nor logged as an outage', async () => {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(
      'POST /mvapireq/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
        'Content-Length: 1000\r\n\r\napientry=asendsms&bnum=',
    );
    await new Promise((r) => setTimeout(r, 50));
    sock.destroy();
    for (let i = 0; i < 50 && codes.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(codes).toEqual(['CLIENT_ABORTED']);
    expect(logged).toEqual([]);
  });

  it('a request without apientry still gets its ERROR answer', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/mvapireq/?x=1`);
    expect(r.status).toBe(406);
    expect(await r.text()).toMatch(/^ERROR/);
  });
});
