import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  SmppMoRequest,
  SmppSim,
  SmppSimBehaviour,
  SmppSimMessageFilter,
  SmppSimWholeFilter,
  SmppSubmitOutcome,
} from '../smpp-sim.js';

// HTTP control of the SMPP simulator for other processes (e2e tests, the demo), mounted under
// /_sim/smpp/ on the HTTP simulator's port by main.ts:
//   GET  /_sim/smpp                 {port, tls, systemId, binds}
//   GET  /_sim/smpp/stats           SmppSimStats
//   GET  /_sim/smpp/messages        ?destination=&text=&outcome=&messageId=&afterSeq=&limit= (default 100)
//   GET  /_sim/smpp/wholes          ?destination=&text=&limit= (default 100)
//   GET  /_sim/smpp/counts          ?duplicatesOnly=1
//   GET  /_sim/smpp/binds
//   GET|POST /_sim/smpp/behaviour   POST body: Partial<SmppSimBehaviour> as JSON
//   POST /_sim/smpp/reset
//   POST /_sim/smpp/mo              body: {from, to, text, parts?, order?}

export type ControlRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: string,
) => boolean;

const PREFIX = '/_sim/smpp';
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_LIMIT = 100;
const OUTCOMES: readonly SmppSubmitOutcome[] = [
  'accepted',
  'throttled',
  'queueFull',
  'rejected',
  'dropped',
  'unanswered',
];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(new HttpError(413, 'body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') {
        resolve({});
        return;
      }
      try {
        const value: unknown = JSON.parse(text);
        if (value === null || typeof value !== 'object' || Array.isArray(value))
          throw new Error('not an object');
        resolve(value as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'invalid json body: expected an object'));
      }
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

function limitOf(q: URLSearchParams): number {
  const raw = q.get('limit');
  if (raw === null) return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'limit must be an integer >= 0');
  return n;
}

/**
 * The /_sim/smpp/* routes. `sim` undefined (SMPP not enabled) answers 404 with the reason, so a
 * test that forgot SIM_SMPP_PORT learns why. Returns false for paths outside /_sim/smpp.
 */
export function smppControlRoutes(sim: SmppSim | undefined): ControlRoute {
  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string,
  ): Promise<void> {
    if (!sim) {
      send(res, 404, { status: 'error', error: 'the SMPP simulator is not enabled (set SIM_SMPP_PORT)' });
      return;
    }
    const method = req.method ?? 'GET';
    const q = new URLSearchParams(query);
    const route = `${method} ${path.slice(PREFIX.length) || '/'}`;
    switch (route) {
      case 'GET /':
        send(res, 200, { port: sim.port, tls: sim.tls, systemId: sim.systemId, binds: sim.binds() });
        return;
      case 'GET /stats':
        send(res, 200, sim.stats());
        return;
      case 'GET /binds':
        send(res, 200, sim.binds());
        return;
      case 'GET /messages': {
        const filter: SmppSimMessageFilter = { limit: limitOf(q) };
        const destination = q.get('destination') ?? q.get('to');
        if (destination !== null) filter.destinationAddr = destination;
        const text = q.get('text');
        if (text !== null) filter.text = text;
        const messageId = q.get('messageId');
        if (messageId !== null) filter.messageId = messageId;
        const outcome = q.get('outcome');
        if (outcome !== null) {
          if (!(OUTCOMES as readonly string[]).includes(outcome)) {
            throw new HttpError(400, `outcome must be one of ${OUTCOMES.join(', ')}`);
          }
          filter.outcome = outcome as SmppSubmitOutcome;
        }
        const afterSeq = q.get('afterSeq');
        if (afterSeq !== null) {
          const n = Number(afterSeq);
          if (!Number.isInteger(n)) throw new HttpError(400, 'afterSeq must be an integer');
          filter.afterSeq = n;
        }
        send(res, 200, sim.messages(filter));
        return;
      }
      case 'GET /wholes': {
        const filter: SmppSimWholeFilter = { limit: limitOf(q) };
        const destination = q.get('destination') ?? q.get('to');
        if (destination !== null) filter.destinationAddr = destination;
        const text = q.get('text');
        if (text !== null) filter.text = text;
        send(res, 200, sim.wholeMessages(filter));
        return;
      }
      case 'GET /counts': {
        const only = q.get('duplicatesOnly');
        send(res, 200, sim.counts({ duplicatesOnly: only === '1' || only === 'true' }));
        return;
      }
      case 'GET /behaviour':
        send(res, 200, sim.behaviour());
        return;
      case 'POST /behaviour': {
        const body = await readJson(req);
        let next: SmppSimBehaviour;
        try {
          next = sim.setBehaviour(body);
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
        send(res, 200, next);
        return;
      }
      case 'POST /reset':
        await readJson(req);
        sim.reset();
        send(res, 200, sim.stats());
        return;
      case 'POST /mo': {
        const body = await readJson(req);
        let result: { parts: number; reference: number };
        try {
          result = sim.sendMo(body as unknown as SmppMoRequest);
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
        send(res, 200, result);
        return;
      }
      default:
        send(res, 404, { status: 'error', error: 'not found' });
    }
  }

  return (req, res, path, query) => {
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return false;
    handle(req, res, path, query).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) {
        req.socket.destroy();
        return;
      }
      if (err instanceof HttpError) send(res, err.status, { status: 'error', error: err.message });
      else send(res, 500, { status: 'error', error: 'internal' });
    });
    return true;
  };
}
