import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ServiceServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Readiness: false while starting or shutting down. */
  ready: () => boolean;
  /** Extra request handling (the api-gateway mounts its application here). */
  handler?: http.RequestListener;
}

export interface ServiceServer {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

/**
 * The HTTP surface every service has: `/healthz` (the process is alive), `/readyz` (it takes work)
 * and `/metrics`. Other requests go to the optional handler, or get 404.
 */
export async function startServiceServer(opts: ServiceServerOptions): Promise<ServiceServer> {
  const server = http.createServer((req, res) => {
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
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    server,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
