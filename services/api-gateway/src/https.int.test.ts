import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ConfigRepo,
  UsersRepo,
  createDb,
  dropDatabase,
  ensureDatabase,
  migrate,
  type Knex,
} from '@smsfleet/db';
import { createRedis } from '@smsfleet/queue';
import { EnvError, createLogger, readTlsEnv, type InfraEnv } from '@smsfleet/runtime';
import { startApiGateway } from './app.js';

/** HTTPS when a certificate is configured: the Mizu API (bare fast path) and Express routes over TLS. */
const sfx = randomBytes(4).toString('hex');
const infra: InfraEnv = {
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  databaseUrl: `${(process.env.TEST_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '')}/smsfleet_t_https_${sfx}`,
  queuePrefix: `thttps${sfx}`,
  eventPrefix: `thttps${sfx}`,
  logLevel: 'silent',
};
const KEY = `key-${sfx}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsfleet-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
let db: Knex;
let app: { close: () => Promise<string[]>; port: number; httpsPort?: number };

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
  await ensureDatabase(infra.databaseUrl);
  db = createDb(infra.databaseUrl, { pool: { min: 0, max: 2 } });
  await migrate(db);
  await new ConfigRepo(db).set('apiv2key', KEY);
  await new UsersRepo(db).create({
    name: 'gw',
    password: '',
    type: 'smsgw',
    smsurl: 'http://127.0.0.1:9/s?to=[tonum]',
  });
  const tls = readTlsEnv({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, HTTPS_PORT: '0' }, 8443);
  app = await startApiGateway({
    infra,
    httpPort: 0,
    log: createLogger('https-test', 'silent'),
    chunkSize: 200,
    batchWaitMs: 2,
    saltWindowSeconds: 60,
    ...(tls ? { tls } : {}),
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  const redis = createRedis(infra.redisUrl, 'https-test');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${infra.queuePrefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
  await db?.destroy();
  await dropDatabase(infra.databaseUrl);
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
