import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { EventBus } from '@smsfleet/bus';
import {
  ConfigRepo,
  UsersRepo,
  createDb,
  dropDatabase,
  ensureDatabase,
  migrate,
  type Knex,
} from '@smsfleet/db';
import { SecretKey, generateSecretKeyText } from '@smsfleet/security';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const ENTRIES = {
  'smsc-sim': 'packages/smsc-sim/dist/main.js',
  'api-gateway': 'services/api-gateway/dist/main.js',
  dispatcher: 'services/dispatcher/dist/main.js',
  verifier: 'services/verifier/dist/main.js',
  billing: 'services/billing/dist/main.js',
  inbound: 'services/inbound/dist/main.js',
  // Opt-in (FleetOptions.sipGateway): not started by default, so other tests carry no SIP load.
  'sip-gateway': 'services/sip-gateway/dist/main.js',
} as const;
export type ServiceName = keyof typeof ENTRIES;
/** Services a fleet starts only when asked (an option, or named in `only`). */
const OPT_IN: readonly ServiceName[] = ['sip-gateway'];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both). */
export async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    const free = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no port free for both TCP and UDP');
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

interface Proc {
  name: ServiceName;
  port: number;
  child?: ChildProcess;
  exited?: Promise<void>;
}

export interface FleetOptions {
  /** Extra environment per service. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Global config rows written before the services start. */
  config?: Record<string, string>;
  /** Start only these services (default: all). Ports are reserved for all, so url() works. */
  only?: ServiceName[];
  /** Also start services/sip-gateway (SIP on `fleet.sipPort`, UDP and TCP). Default false. */
  sipGateway?: boolean;
  /** How long a service may take to become ready (default 30 s; a loaded machine needs more). */
  readyTimeoutMs?: number;
  /** Redis of this fleet (default `REDIS_URL` or the shared 6379), e.g. a PrivateRedis that a test kills. */
  redisUrl?: string;
  /** NATS of this fleet (default `NATS_URL` or the shared 4222), e.g. a PrivateNats that a test kills. */
  natsUrl?: string;
  /**
   * The `DATABASE_URL` the services get, from the fleet's own (e.g. `(u) => proxy.via(u)` through a
   * DbProxy that a test cuts). The harness itself (migrations, `db`, counts) always goes direct.
   */
  serviceDatabaseUrl?: (databaseUrl: string) => string;
}

/**
 * One isolated fleet: its own database, queue prefix and event prefix, every service and the
 * simulator as real processes on free ports.
 */
export class Fleet {
  readonly id = randomBytes(4).toString('hex');
  readonly databaseUrl = `mysql://root@127.0.0.1:3306/smsfleet_e2e_${this.id}`;
  readonly queuePrefix = `e2e-${this.id}`;
  readonly eventPrefix = `e2e${this.id}`;
  readonly logDir = fs.mkdtempSync(path.join(os.tmpdir(), `smsfleet-e2e-${this.id}-`));
  readonly procs = new Map<ServiceName, Proc>();
  db!: Knex;
  apiKey = randomBytes(12).toString('hex');
  adminPassword = 'admin-pass';
  /** The fleet's server secret (SMSFLEET_SECRET_KEY): sealed passwords for authmd5, lookup tags. */
  secretKey = generateSecretKeyText();
  adminId = 0;
  /** The sip-gateway's SIP port (UDP and TCP), once it was started. */
  sipPort = 0;
  gatewayId = 0;

  constructor(private readonly opts: FleetOptions = {}) {}

  get infraEnv(): Record<string, string> {
    return {
      DATABASE_URL: this.opts.serviceDatabaseUrl?.(this.databaseUrl) ?? this.databaseUrl,
      REDIS_URL: this.opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      NATS_URL: this.opts.natsUrl ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      QUEUE_PREFIX: this.queuePrefix,
      EVENT_PREFIX: this.eventPrefix,
      SMSFLEET_SECRET_KEY: this.secretKey,
      LOG_LEVEL: 'info',
    };
  }

  url(name: ServiceName): string {
    return `http://127.0.0.1:${this.procs.get(name)!.port}`;
  }

  async start(): Promise<this> {
    await ensureDatabase(this.databaseUrl);
    this.db = createDb(this.databaseUrl, { pool: { min: 0, max: 2 } });
    await migrate(this.db);
    for (const name of Object.keys(ENTRIES) as ServiceName[])
      this.procs.set(name, { name, port: await freePort() });
    const users = new UsersRepo(this.db, { secretKey: SecretKey.fromText(this.secretKey) });
    const config = new ConfigRepo(this.db);
    await config.set('apiv2key', this.apiKey);
    for (const [k, v] of Object.entries(this.opts.config ?? {})) await config.set(k, v);
    this.adminId = (await users.create({ name: 'admin', password: this.adminPassword, type: 'admin' })).id;
    this.gatewayId = (
      await users.create({
        name: 'sim',
        password: '',
        type: 'smsgw',
        smsurl: `${this.url('smsc-sim')}/send?to=[tonum]&from=[fromnum]&text=[message]&id=[smsid]`,
      })
    ).id;
    const only = this.opts.only;
    const optedIn = (n: ServiceName) =>
      !OPT_IN.includes(n) || (n === 'sip-gateway' && this.opts.sipGateway === true) || !!only?.includes(n);
    await Promise.all(
      [...this.procs.keys()]
        .filter((n) => (!only || only.includes(n)) && optedIn(n))
        .map((n) => this.startService(n)),
    );
    return this;
  }

  async startService(name: ServiceName): Promise<void> {
    const p = this.procs.get(name)!;
    const log = fs.openSync(path.join(this.logDir, `${name}.log`), 'a');
    const portEnv: Record<string, string> =
      name === 'smsc-sim' ? { SIM_HTTP_PORT: String(p.port) } : { HTTP_PORT: String(p.port) };
    if (name === 'sip-gateway') {
      this.sipPort ||= await freeSipPort();
      Object.assign(portEnv, {
        SIP_PORT: String(this.sipPort),
        SIP_HOST: '127.0.0.1',
        SIP_API_URL: `${this.url('api-gateway')}/mvapireq/`,
      });
    }
    const child = spawn(process.execPath, [path.join(REPO_ROOT, ENTRIES[name])], {
      env: { PATH: process.env.PATH ?? '', ...this.infraEnv, ...portEnv, ...(this.opts.env?.[name] ?? {}) },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    p.child = child;
    p.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      `${name} ready`,
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${name} exited with ${child.exitCode}; log: ${this.logTail(name)}`);
        const r = await fetch(`${this.url(name)}/${name === 'smsc-sim' ? 'healthz' : 'readyz'}`);
        return r.ok;
      },
      // Generous: a loaded 2-core machine can take many seconds to start six Node processes.
      this.opts.readyTimeoutMs ?? 120_000,
    );
  }

  async kill(name: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.procs.get(name)!;
    p.child?.kill(signal);
    await p.exited;
  }

  logTail(name: ServiceName, lines = 30): string {
    try {
      return fs
        .readFileSync(path.join(this.logDir, `${name}.log`), 'utf8')
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch {
      return '';
    }
  }

  log(name: ServiceName): string {
    return fs.readFileSync(path.join(this.logDir, `${name}.log`), 'utf8');
  }

  /** Sends through the Mizu API; returns status and body. */
  async mizu(params: Record<string, string>, init?: RequestInit): Promise<{ status: number; body: string }> {
    const res = await fetch(
      `${this.url('api-gateway')}/mvapireq/?${new URLSearchParams(params).toString()}`,
      init,
    );
    return { status: res.status, body: await res.text() };
  }

  async simStats(): Promise<{ received: number; unique: number; duplicates: number }> {
    return (await (await fetch(`${this.url('smsc-sim')}/_sim/stats`)).json()) as {
      received: number;
      unique: number;
      duplicates: number;
    };
  }

  async simMessages(
    query: Record<string, string>,
  ): Promise<{ to: string; from: string; text: string; smsid: string }[]> {
    const r = await fetch(`${this.url('smsc-sim')}/_sim/messages?${new URLSearchParams(query).toString()}`);
    return (await r.json()) as { to: string; from: string; text: string; smsid: string }[];
  }

  async metric(name: ServiceName, metric: string): Promise<number> {
    const text = await (await fetch(`${this.url(name)}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n'))
      if (line.startsWith(metric) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
    return sum;
  }

  async cdrCount(): Promise<number> {
    const r = await this.db('cdr').count({ n: '*' }).first();
    return Number(r?.n ?? 0);
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.procs.values()].map(async (p) => {
        if (p.child && p.child.exitCode === null && p.child.signalCode === null) {
          p.child.kill('SIGTERM');
          const t = setTimeout(() => p.child?.kill('SIGKILL'), 15_000);
          await p.exited;
          clearTimeout(t);
        }
      }),
    );
    await this.db?.destroy();
    await dropDatabase(this.databaseUrl).catch(() => undefined);
    const redis = new Redis(this.infraEnv.REDIS_URL!);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.queuePrefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
    const bus = await EventBus.connect({ url: this.infraEnv.NATS_URL!, prefix: this.eventPrefix });
    await bus.deleteStream();
    await bus.close();
  }
}
