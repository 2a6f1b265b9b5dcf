import type http from 'node:http';
import { isUnreachableError } from '@smsfleet/core';
import type { ApiContext } from './api-context.js';
import { errorAnswer, MizuError, type MizuAnswer } from './mizu-answer.js';
import { MIZU_ENTRIES } from './mizu-entries.js';
import { param, parseMizuParams, type MizuParams } from './mizu-params.js';

const MAX_BODY_BYTES = 64 * 1024;
const BODY_TOO_LARGE = `request body too large (at most ${MAX_BODY_BYTES / 1024} KiB)`;

/** The client went away while sending its body: nobody is left to answer, nothing was done. */
class ClientAborted extends Error {}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const method = req.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      req.resume();
      resolve('');
      return;
    }
    let parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        // Answer first (destroying the request would leave the client without one); the rest
        // of the body is read and dropped, and the connection closes after the answer.
        // (A promise settles once: later chunks change nothing.)
        reject(new MizuError('BAD_REQUEST', BODY_TOO_LARGE));
        parts = [];
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', (err) => reject(new ClientAborted(err.message)));
  });
}

export interface MizuRouteHooks {
  onAnswer?(entry: string, answer: MizuAnswer): void;
  onError?(code: string): void;
}

/**
 * The Mizu API `/mvapireq/` on bare node:http: the hot send path pays for no middleware chain.
 * Parses query and body once, dispatches to the entry, maps errors through one table.
 */
export function createMizuHandler(
  ctx: ApiContext,
  hooks: MizuRouteHooks = {},
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const send = (res: http.ServerResponse, a: MizuAnswer) => {
    res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': Buffer.byteLength(a.body) });
    res.end(a.body);
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const query = q >= 0 ? url.slice(q + 1) : '';
    const clientIp = req.socket.remoteAddress ?? '';
    let json = false;
    let strict = false;
    void (async () => {
      try {
        const cfg = ctx.config.current();
        strict = cfg.httpstrictresponse;
        const rawBody = await readBody(req);
        let params: MizuParams;
        try {
          params = parseMizuParams(query, rawBody, req.headers['content-type']);
        } catch (err) {
          throw new MizuError('BAD_REQUEST', (err as Error).message);
        }
        json = param(params, 'format')?.toLowerCase() === 'json';
        const name = (param(params, 'apientry') ?? '').toLowerCase();
        if (name === '') throw new MizuError('UNKNOWN_ENTRY', 'missing apientry');
        const entry = Object.hasOwn(MIZU_ENTRIES, name) ? MIZU_ENTRIES[name] : undefined;
        if (!entry) throw new MizuError('UNKNOWN_ENTRY', `unknown apientry: ${name.slice(0, 40)}`);
        const answer = await entry({ params, clientIp, cfg, json, rawBody, headers: req.headers }, ctx);
        hooks.onAnswer?.(name, answer);
        send(res, answer);
      } catch (err) {
        if (err instanceof ClientAborted) {
          hooks.onError?.('CLIENT_ABORTED');
          res.destroy();
          return;
        }
        const e =
          err instanceof MizuError
            ? err
            : isUnreachableError(err)
              ? // MariaDB/Redis down: nothing was queued; say so and let the client retry (503 strict).
                (ctx.log.warn({ err: (err as Error).message }, 'mvapireq refused: backing store unreachable'),
                new MizuError(
                  'UNAVAILABLE',
                  'service temporarily unavailable (database unreachable), try again later',
                ))
              : (ctx.log.error({ err: (err as Error).message }, 'mvapireq failed'),
                new MizuError('FAILED', 'internal error'));
        hooks.onError?.(e.code);
        if (e.message === BODY_TOO_LARGE) res.setHeader('connection', 'close');
        if (!res.headersSent) send(res, errorAnswer(e, json, strict));
      }
    })();
  };
}
