import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import type { TlsListen } from './tls-env.js';

export interface ServiceServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Readiness: false while starting or shutting down. */
  ready: () => boolean;
  /** Extra request handling (the api-gateway mounts its application here). */
  handler?: http.RequestListener;
  /** A second listener speaking HTTPS with the same routes (TLS_CERT_FILE / TLS_KEY_FILE / HTTPS_PORT). */
  tls?: TlsListen;
}

export interface ServiceServer {
  server: http.Server;
  port: number;
  /** The HTTPS listener and its port when `tls` was given. */
  httpsServer?: https.Server;
  httpsPort?: number;
  close(): Promise<void>;
}

/**
 * Headers on every response of a service's HTTP server, including the bare listener's answers
 * (/healthz, /metrics, the Mizu fast path): no sniffing, no framing, no referrer, no powerful
 * features, and HSTS on HTTPS. Express routes add the page-specific ones (helmet) on top.
 */
export function setBaseSecurityHeaders(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('permissions-policy', PERMISSIONS_POLICY);
  if ((req.socket as TLSSocket).encrypted) res.setHeader('strict-transport-security', HSTS);
}

export const PERMISSIONS_POLICY =
  'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()';
export const HSTS = 'max-age=31536000; includeSubDomains';

function listen(server: http.Server | https.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
    server.closeIdleConnections();
  });
}

/**
 * The HTTP surface every service has: `/healthz` (the process is alive), `/readyz` (it takes work)
 * and `/metrics`. Other requests go to the optional handler, or get 404.
 */
export async function startServiceServer(opts: ServiceServerOptions): Promise<ServiceServer> {
  const listener: http.RequestListener = (req, res) => {
    setBaseSecurityHeaders(req, res);
    const url = req.url ?? '/';
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (url === '/readyz') {
      const ok = opts.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready' : 'not ready');
      return;
    }
    if (url === '/metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
      return;
    }
    if (opts.handler) {
      opts.handler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  };
  const server = http.createServer(listener);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const port = await listen(server, opts.port, opts.host ?? '0.0.0.0');
  let httpsServer: https.Server | undefined;
  let httpsPort: number | undefined;
  if (opts.tls) {
    httpsServer = https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, listener);
    httpsServer.keepAliveTimeout = 65_000;
    httpsServer.headersTimeout = 66_000;
    try {
      httpsPort = await listen(httpsServer, opts.tls.port, opts.tls.host ?? opts.host ?? '0.0.0.0');
    } catch (err) {
      await closeServer(server);
      throw err;
    }
  }
  let closed: Promise<void> | undefined;
  return {
    server,
    port,
    ...(httpsServer ? { httpsServer, httpsPort } : {}),
    close() {
      closed ??= Promise.all([closeServer(server), httpsServer && closeServer(httpsServer)]).then(
        () => undefined,
      );
      return closed;
    },
  };
}
