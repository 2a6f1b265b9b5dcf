import { STATUS_CODES } from 'node:http';
import type express from 'express';
import type { Logger } from '@smsfleet/runtime';

/** Routes that answer in Mizu's text style (`ERROR <reason>`): the DLR and MO callbacks. */
function textRoute(req: express.Request): boolean {
  return req.path.startsWith('/dlr/') || (req.path === '/' && req.method === 'POST');
}

/** A client error's message, on one short line (it may echo what the client sent). */
function clientDetail(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  // eslint-disable-next-line no-control-regex -- control characters are the point here
  return m.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200) || 'bad request';
}

/**
 * The application's last error middleware: errors no route handled itself (body parsers: too
 * large, bad charset, bad compression; the router: a path parameter that is no valid
 * percent-encoding) answer as a clear refusal instead of Express's HTML page with a stack trace.
 * Errors that carry a 4xx `status` (http-errors) keep it; anything else is a logged 500.
 */
export function finalErrorHandler(log: Logger): express.ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const s = (err as { status?: unknown } | null)?.status;
    const status = typeof s === 'number' && s >= 400 && s < 500 ? s : 500;
    const detail = status < 500 ? clientDetail(err) : 'internal error';
    if (status >= 500) log.error({ err: (err as Error)?.message, path: req.path }, 'request failed');
    if (textRoute(req)) {
      res.status(status).type('text/plain; charset=utf-8').send(`ERROR ${detail}`);
      return;
    }
    res
      .status(status)
      .type('application/problem+json')
      .send(JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail }));
  };
}
