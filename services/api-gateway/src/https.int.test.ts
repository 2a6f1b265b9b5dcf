import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EnvError, readTlsEnv } from '@smsfleet/runtime';
import { apiFixture, type ApiApp } from '../test/api-fixture.js';

/** HTTPS when a certificate is configured: the Mizu API (bare fast path) and Express routes over TLS. */
const fx = apiFixture({ tag: 'https', pool: 2 });
const KEY = `key-${fx.sfx}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsfleet-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
let app: ApiApp;

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1, made by the openssl CLI (node:crypto cannot make X.509).
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
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  await fx.start();
  await fx.setConfig({ apiv2key: KEY });
  await fx.users.create({
    name: 'gw',
    password: '',
    type: 'smsgw',
    smsurl: 'http://127.0.0.1:9/s?to=[tonum]',
  });
  const tls = readTlsEnv({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, HTTPS_PORT: '0' }, 8443);
  app = await fx.startApp(tls ? { tls } : {});
}, 60_000);

afterAll(async () => {
  await fx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

function get(
  urlPath: string,
  opts: { ca?: Buffer } = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port: app.httpsPort, path: urlPath, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
  });
}

describe('HTTPS for the API', () => {
  test('the Mizu API answers over HTTPS with the configured certificate, HSTS included', async () => {
    expect(app.httpsPort).toBeGreaterThan(0);
    const ca = fs.readFileSync(certFile);
    const q = new URLSearchParams({
      apientry: 'asendsms',
      authkey: KEY,
      anum: '1000',
      bnum: '36201234567',
      message: 'over TLS',
    });
    const r = await get(`/mvapireq/?${q.toString()}`, { ca });
    expect(r.body).toMatch(/^OK \S+/);
    expect(r.status).toBe(200);
    expect(r.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    const bad = await get(`/mvapireq/?apientry=asendsms&authkey=wrong&bnum=1&message=x`, { ca });
    expect(bad.body).toMatch(/^ERROR/);
    // Express routes and the health endpoints share the listener.
    const page = await get('/ops/', { ca });
    expect(page.status).toBe(200);
    expect(page.headers['strict-transport-security']).toMatch(/max-age=/);
    expect((await get('/readyz', { ca })).body).toBe('ready');
    // The plain port stays (probes, clients inside the network), without HSTS.
    const plain = await fetch(`http://127.0.0.1:${app.port}/healthz`);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });

  test('a client that does not trust the certificate is refused by TLS, not answered', async () => {
    await expect(get('/healthz')).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  test('TLS settings from the environment', () => {
    expect(readTlsEnv({}, 8443)).toBeUndefined();
    expect(() => readTlsEnv({ TLS_CERT_FILE: certFile }, 8443)).toThrow(/set together/);
    expect(() => readTlsEnv({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: '/nonexistent/key.pem' }, 8443)).toThrow(
      /TLS_KEY_FILE: cannot read \/nonexistent\/key\.pem \(ENOENT\)/,
    );
    expect(() =>
      readTlsEnv({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, HTTPS_PORT: 'x' }, 8443),
    ).toThrow(EnvError);
    expect(readTlsEnv({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }, 8443)?.port).toBe(8443);
  });
});
