import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './fleet.js';

/**
 * Private infrastructure for fault tests: a Redis or NATS server of our own on a free port, with
 * its data in a temporary folder, that can be killed with SIGKILL and restarted on the same port
 * and data. The shared servers (6379, 4222, 3306) are never touched.
 */

/** Children still running when this process exits are killed with it (no orphans on a crash). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

abstract class PrivateServer {
  readonly dir: string;
  port = 0;
  protected child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  /** How often the server was started (1 after start(), 2 after the first restart ...). */
  starts = 0;

  constructor(kind: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `smsfleet-${kind}-`));
  }

  abstract get url(): string;
  protected abstract command(): { bin: string; args: string[] };
  protected abstract isReady(): Promise<boolean>;

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get logFile(): string {
    return path.join(this.dir, 'server.log');
  }

  protected async pickPorts(): Promise<void> {
    this.port = await freePort();
  }

  /** Starts on a free port (first call) or on the same port and data (after kill/stop). */
  async start(timeoutMs = 30_000): Promise<this> {
    if (this.running) return this;
    if (this.port === 0) await this.pickPorts();
    const { bin, args } = this.command();
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(bin, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    track(child);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.starts++;
    await waitFor(
      `${path.basename(bin)} on port ${this.port}`,
      async () => {
        if (child.exitCode !== null) {
          const tail = fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n');
          throw new Error(`${bin} exited with ${child.exitCode}: ${tail}`);
        }
        return this.isReady();
      },
      timeoutMs,
      50,
    );
    return this;
  }

  /** kill -9: no shutdown, no final write; what was not on disk is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** kill -9, then start again on the same port and data. */
  async restart(downMs = 0): Promise<void> {
    await this.kill();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  /** Graceful stop and removal of the data folder. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGTERM');
      const t = setTimeout(() => this.child?.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(t);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sends one line to a TCP port and returns the first answer line ('' when refused). */
function ask(port: number, line: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: string) => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(''), timeoutMs);
    s.on('connect', () => s.write(line));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) done(buf.slice(0, nl));
    });
    s.on('error', () => done(''));
  });
}

export interface PrivateRedisOptions {
  /**
   * `appendfsync` policy (default `always`: a write is on disk before Redis answers it; `everysec`
   * may lose the last second of acknowledged writes on a crash of the machine or of Redis).
   */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** AOF on (default true). Off: a killed Redis comes back empty. */
  appendonly?: boolean;
}

/** A private `redis-server` with AOF persistence in its own temporary folder. */
export class PrivateRedis extends PrivateServer {
  constructor(private readonly opts: PrivateRedisOptions = {}) {
    super('redis');
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  protected command(): { bin: string; args: string[] } {
    return {
      bin: process.env.REDIS_SERVER_BIN ?? 'redis-server',
      args: [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        this.opts.appendonly === false ? 'no' : 'yes',
        '--appendfsync',
        this.opts.appendfsync ?? 'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
      ],
    };
  }

  protected async isReady(): Promise<boolean> {
    // `-LOADING` while the AOF is replayed: not ready yet.
    return (await ask(this.port, 'PING\r\n')) === '+PONG';
  }
}

/** A private `nats-server -js` with JetStream file storage in its own temporary folder. */
export class PrivateNats extends PrivateServer {
  monitorPort = 0;

  constructor() {
    super('nats');
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  protected override async pickPorts(): Promise<void> {
    this.port = await freePort();
    this.monitorPort = await freePort();
  }

  protected command(): { bin: string; args: string[] } {
    return {
      bin: process.env.NATS_SERVER_BIN ?? 'nats-server',
      args: [
        '-a',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-m',
        String(this.monitorPort),
        '-js',
        '-sd',
        path.join(this.dir, 'js'),
      ],
    };
  }

  protected async isReady(): Promise<boolean> {
    // /healthz answers 200 once JetStream has recovered its streams and consumers.
    const r = await fetch(`http://127.0.0.1:${this.monitorPort}/healthz`).catch(() => undefined);
    return r?.ok === true;
  }
}

/**
 * A TCP proxy to a server (MariaDB) that can be taken down: every open connection is cut and new
 * ones are refused until it comes back, as when the database server stops.
 */
export class DbProxy {
  private readonly sockets = new Set<net.Socket>();
  private down = false;
  private server!: net.Server;
  port = 0;

  async start(target: { host: string; port: number }): Promise<this> {
    this.server = net.createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = net.connect(target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** `mysql://user@127.0.0.1:3306/db` -> the same URL through this proxy. */
  via(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get isDown(): boolean {
    return this.down;
  }

  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
