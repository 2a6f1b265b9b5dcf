import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeResponse, isRequest, type SipMessageObject } from './sip-message.js';
import { SipTransports, type Source } from './transport.js';

/** The listeners on real sockets: UDP, TCP (stream framing) and TLS, answering OPTIONS. */
const fixtures = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../packages/smsc-sim/fixtures',
);
const seen: Source[] = [];
let t: SipTransports;

const options = (branch: string) =>
  [
    'OPTIONS sip:gw.test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:1;branch=${branch}`,
    'From: <sip:a@gw.test>;tag=1',
    'To: <sip:gw.test>',
    'Call-ID: c1',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

beforeAll(async () => {
  t = new SipTransports(
    {
      host: '127.0.0.1',
      port: 0,
      tlsPort: 0,
      tlsCertFile: path.join(fixtures, 'smpp-sim-cert.pem'),
      tlsKeyFile: path.join(fixtures, 'smpp-sim-key.pem'),
      tlsVerifyPeer: false,
      idleMs: 5_000,
    },
    (m: SipMessageObject | undefined, src, reply) => {
      seen.push(src);
      if (m && isRequest(m)) reply(makeResponse(m, 200, 'OK'));
    },
    () => undefined,
  );
  await t.start();
});
afterAll(() => t.close());

function firstLine(s: string): string {
  return s.split('\r\n')[0] ?? '';
}

describe('SIP transports', () => {
  it('answers over UDP to the source address', async () => {
    const c = dgram.createSocket('udp4');
    const got = new Promise<string>((resolve) => c.once('message', (b) => resolve(b.toString())));
    c.send(options('z9hG4bKu1'), t.udpPort, '127.0.0.1');
    expect(firstLine(await got)).toBe('SIP/2.0 200 OK');
    c.close();
  });

  it('frames TCP: two requests in one write, both answered on the connection', async () => {
    const s = net.connect(t.tcpPort, '127.0.0.1');
    let buf = '';
    s.on('data', (d: Buffer) => (buf += d.toString()));
    s.write(options('z9hG4bKt1') + options('z9hG4bKt2'));
    await new Promise<void>((resolve) => {
      const iv = setInterval(() => {
        if ((buf.match(/SIP\/2\.0 200 OK/g) ?? []).length === 2) {
          clearInterval(iv);
          resolve();
        }
      }, 10);
    });
    expect(buf).toMatch(/branch=z9hG4bKt1/);
    expect(buf).toMatch(/branch=z9hG4bKt2/);
    expect(t.hasConnection(seen[seen.length - 1]!)).toBe(true);
    s.destroy();
  });

  it('speaks TLS when a certificate is configured', async () => {
    expect(t.tlsPort).toBeGreaterThan(0);
    const s = tls.connect({ host: '127.0.0.1', port: t.tlsPort, rejectUnauthorized: false });
    const got = new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
    s.write(options('z9hG4bKs1'));
    expect(firstLine(await got)).toBe('SIP/2.0 200 OK');
    expect(seen[seen.length - 1]?.transport).toBe('tls');
    s.destroy();
  });
});
