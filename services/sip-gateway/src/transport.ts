/**
 * SIP transports: UDP, TCP and (with a certificate) TLS listeners. Every received message goes to
 * one callback with its source and a `reply` that answers on the same socket or connection;
 * `send` reaches a peer (for outgoing MESSAGE), reusing a connection the peer opened when there is
 * one. Responses to our own requests come through the same callback.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { SipTransportName } from './registrar.js';
import {
  MAX_MESSAGE_BYTES,
  encode,
  parseDatagram,
  streamFramer,
  type SipMessageObject,
} from './sip-message.js';

export interface Source {
  transport: SipTransportName;
  address: string;
  port: number;
}

export type OnSipMessage = (
  m: SipMessageObject | undefined,
  src: Source,
  reply: (m: SipMessageObject) => void,
  raw?: Buffer,
) => void;

export interface TransportOptions {
  host: string;
  port: number;
  tlsPort: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Idle TCP/TLS connections are closed after this long. */
  idleMs: number;
  /** Verify the certificate of a peer we open a TLS connection to (SIP_TLS_VERIFY_PEER). */
  tlsVerifyPeer: boolean;
}

function connKey(transport: SipTransportName, address: string, port: number): string {
  return `${transport}:${address.replace(/^::ffff:/, '')}:${port}`;
}

export class SipTransports {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private tlsServer: tls.Server | undefined;
  private readonly conns = new Map<string, net.Socket>();
  udpPort = 0;
  tcpPort = 0;
  tlsPort = 0;

  constructor(
    private readonly opts: TransportOptions,
    private readonly onMessage: OnSipMessage,
    private readonly onError: (what: string, err: Error) => void,
  ) {}

  async start(): Promise<void> {
    const udp = dgram.createSocket({ type: net.isIPv6(this.opts.host) ? 'udp6' : 'udp4', reuseAddr: false });
    this.udp = udp;
    udp.on('message', (buf, rinfo) => {
      const src: Source = { transport: 'udp', address: rinfo.address, port: rinfo.port };
      // Keep-alive CRLFs (RFC 5626) and empty datagrams are not messages.
      if (buf.length <= 4 && buf.toString('latin1').trim() === '') return;
      const m = buf.length > MAX_MESSAGE_BYTES ? undefined : parseDatagram(buf);
      this.onMessage(m, src, (r) => this.sendUdp(r, src.address, src.port), buf);
    });
    udp.on('error', (err) => this.onError('udp', err));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.opts.port, this.opts.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.udpPort = udp.address().port;

    this.tcp = net.createServer((s) => this.accept(s, 'tcp'));
    this.tcpPort = await this.listen(this.tcp, this.opts.port === 0 ? 0 : this.udpPort);

    if (this.opts.tlsCertFile && this.opts.tlsKeyFile) {
      this.tlsServer = tls.createServer(
        { cert: fs.readFileSync(this.opts.tlsCertFile), key: fs.readFileSync(this.opts.tlsKeyFile) },
        (s) => this.accept(s, 'tls'),
      );
      this.tlsServer.on('tlsClientError', (err) => this.onError('tls handshake', err));
      this.tlsPort = await this.listen(this.tlsServer, this.opts.tlsPort);
    }
  }

  private listen(server: net.Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.opts.host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private accept(s: net.Socket, transport: SipTransportName): void {
    const src: Source = {
      transport,
      address: (s.remoteAddress ?? '').replace(/^::ffff:/, ''),
      port: s.remotePort ?? 0,
    };
    this.track(s, src);
  }

  private track(s: net.Socket, src: Source): void {
    const key = connKey(src.transport, src.address, src.port);
    this.conns.set(key, s);
    s.setTimeout(this.opts.idleMs, () => s.destroy());
    s.setNoDelay(true);
    const reply = (r: SipMessageObject) => {
      if (!s.destroyed) s.write(encode(r));
    };
    const feed = streamFramer(
      (m) => this.onMessage(m, src, reply),
      () => {
        // Too large or no end of headers in sight: answer once and drop the connection.
        this.onMessage(undefined, src, reply);
        s.destroy();
      },
    );
    s.on('data', (chunk: Buffer) => {
      try {
        feed(chunk);
      } catch (err) {
        this.onError(`${src.transport} framing`, err as Error);
        s.destroy();
      }
    });
    s.on('error', () => s.destroy());
    s.on('close', () => {
      if (this.conns.get(key) === s) this.conns.delete(key);
    });
  }

  private sendUdp(m: SipMessageObject, address: string, port: number): void {
    this.udp?.send(encode(m), port, address, (err) => {
      if (err) this.onError('udp send', err);
    });
  }

  /** Sends a request or response to a peer; opens a TCP/TLS connection when none is open. */
  async send(m: SipMessageObject, to: Source): Promise<void> {
    if (to.transport === 'udp') {
      const udp = this.udp;
      if (!udp) throw new Error('UDP transport is closed');
      await new Promise<void>((resolve, reject) =>
        udp.send(encode(m), to.port, to.address, (err) => (err ? reject(err) : resolve())),
      );
      return;
    }
    const key = connKey(to.transport, to.address, to.port);
    let s = this.conns.get(key);
    if (!s || s.destroyed) {
      s = await new Promise<net.Socket>((resolve, reject) => {
        const sock =
          to.transport === 'tls'
            ? tls.connect(
                { host: to.address, port: to.port, rejectUnauthorized: this.opts.tlsVerifyPeer },
                () => resolve(sock),
              )
            : net.connect({ host: to.address, port: to.port }, () => resolve(sock));
        sock.once('error', reject);
        sock.setTimeout(10_000, () => sock.destroy(new Error('connect timeout')));
      });
      this.track(s, to);
    }
    s.write(encode(m));
  }

  /** True when a TCP/TLS connection with that peer is open here. */
  hasConnection(to: Source): boolean {
    const s = this.conns.get(connKey(to.transport, to.address, to.port));
    return !!s && !s.destroyed;
  }

  /** The Via sent-by for requests we send on a transport. */
  viaPort(transport: SipTransportName): number {
    return transport === 'tls' ? this.tlsPort : transport === 'tcp' ? this.tcpPort : this.udpPort;
  }

  async close(): Promise<void> {
    for (const s of this.conns.values()) s.destroy();
    this.conns.clear();
    const closeServer = (srv: net.Server | undefined) =>
      new Promise<void>((resolve) => (srv ? srv.close(() => resolve()) : resolve()));
    await Promise.all([closeServer(this.tcp), closeServer(this.tlsServer)]);
    await new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve()));
    this.udp = undefined;
  }
}
