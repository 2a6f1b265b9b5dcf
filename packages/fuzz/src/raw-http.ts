import net from 'node:net';

/** One answer as read off the socket: nothing normalised, so malformed answers show. */
export interface RawResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Map<string, string>;
  body: Buffer;
}

export type RawResult = { ok: true; response: RawResponse } | { ok: false; error: string };

interface Pending {
  socket: net.Socket;
  isHead: boolean;
  resolve: (r: RawResult) => void;
  timer: NodeJS.Timeout;
}

type Parsed = { response: RawResponse; used: number; close: boolean } | 'more' | { error: string };

function parseResponse(buf: Buffer, isHead: boolean, ended: boolean): Parsed {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return ended ? { error: 'connection closed inside the answer head' } : 'more';
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return { error: `not an HTTP answer: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}` };
  const status = Number(m[1]);
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  const start = end + 4;
  const close = (headers.get('connection') ?? '').toLowerCase().includes('close');
  if (status >= 100 && status < 200) {
    // 100 Continue and friends: skip, the real answer follows.
    return { response: { status, headers, body: Buffer.alloc(0) }, used: start, close: false };
  }
  if (isHead || status === 204 || status === 304)
    return { response: { status, headers, body: Buffer.alloc(0) }, used: start, close };
  if ((headers.get('transfer-encoding') ?? '').toLowerCase().includes('chunked')) {
    const parts: Buffer[] = [];
    let p = start;
    for (;;) {
      const eol = buf.indexOf('\r\n', p);
      if (eol < 0) return ended ? { error: 'connection closed inside a chunk' } : 'more';
      const size = parseInt(buf.subarray(p, eol).toString('latin1'), 16);
      if (!Number.isFinite(size)) return { error: 'bad chunk size' };
      if (size === 0) {
        const trailerEnd = buf.indexOf('\r\n', eol + 2);
        if (trailerEnd < 0) return ended ? { error: 'connection closed in the trailer' } : 'more';
        return { response: { status, headers, body: Buffer.concat(parts) }, used: trailerEnd + 2, close };
      }
      if (buf.length < eol + 2 + size + 2)
        return ended ? { error: 'connection closed inside a chunk' } : 'more';
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      p = eol + 2 + size + 2;
    }
  }
  const cl = headers.get('content-length');
  if (cl !== undefined) {
    const n = Number(cl);
    if (!Number.isInteger(n) || n < 0) return { error: `bad content-length ${cl}` };
    if (buf.length < start + n) return ended ? { error: 'connection closed inside the body' } : 'more';
    return { response: { status, headers, body: buf.subarray(start, start + n) }, used: start + n, close };
  }
  // Neither length nor chunks: the body runs until the server closes.
  if (!ended) return 'more';
  return { response: { status, headers, body: buf.subarray(start) }, used: buf.length, close: true };
}

/**
 * A keep-alive HTTP/1.1 connection that writes requests as given bytes (so they can be as broken
 * as the fuzzer likes) and reads answers with a small strict parser. One request at a time.
 */
export class RawConnection {
  private socket: net.Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private ended = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.host, port: this.port });
      s.setNoDelay(true);
      const onError = (err: Error) => reject(err);
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        s.on('error', () => undefined); // EPIPE/ECONNRESET: handled through 'close'
        // Events of a socket already replaced are ignored.
        s.on('data', (d: Buffer) => {
          if (this.socket !== s) return;
          this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
          this.drain();
        });
        s.on('end', () => {
          if (this.socket !== s) return;
          this.ended = true;
          this.drain();
        });
        s.on('close', () => {
          if (this.socket === s) {
            this.ended = true;
            this.drain();
            this.socket = undefined;
          }
          if (this.pending?.socket === s)
            this.finish({ ok: false, error: 'connection closed without an answer' });
        });
        resolve(s);
      });
    });
  }

  private finish(r: RawResult): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  private drain(): void {
    while (this.pending && this.buf.length > 0) {
      const r = parseResponse(this.buf, this.pending.isHead, this.ended);
      if (r === 'more') return;
      if ('error' in r) {
        this.buf = Buffer.alloc(0);
        this.reset();
        this.finish({ ok: false, error: r.error });
        return;
      }
      this.buf = this.buf.subarray(r.used);
      if (r.response.status >= 100 && r.response.status < 200) continue;
      if (r.close) this.reset();
      this.finish({ ok: true, response: r.response });
    }
  }

  /** Drops the socket: the next request opens a fresh one. */
  reset(): void {
    const s = this.socket;
    this.socket = undefined;
    s?.destroy();
  }

  async request(
    bytes: Buffer,
    opts: { isHead: boolean; timeoutMs: number; fresh?: boolean },
  ): Promise<RawResult> {
    if (opts.fresh) this.reset();
    if (!this.socket || this.socket.destroyed) {
      this.buf = Buffer.alloc(0);
      this.ended = false;
      try {
        this.socket = await this.connect();
      } catch (err) {
        return { ok: false, error: `connect failed: ${(err as Error).message}` };
      }
    }
    const socket = this.socket;
    return new Promise<RawResult>((resolve) => {
      const timer = setTimeout(() => {
        this.reset();
        this.finish({ ok: false, error: `no answer within ${opts.timeoutMs} ms` });
      }, opts.timeoutMs);
      this.pending = { socket, isHead: opts.isHead, resolve, timer };
      socket.write(bytes);
    });
  }

  close(): void {
    this.reset();
  }
}
