import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the simulated provider misbehaves. Checked in this order for every accepted-shape send:
 * `down`, `failNumbers`, `failFirst`, `failRate`, `rejectRate`. */
export interface SimBehaviour {
  /** 0..1: share of sends answered 503 "simulated temporary failure". */
  failRate: number;
  /** 0..1: share of sends answered 400 "simulated rejection". */
  rejectRate: number;
  /** Delay before answering a send, in milliseconds. */
  latencyMs: number;
  /** Destroy the socket of every send without an answer (control endpoints keep working). */
  down: boolean;
  /** Deterministic: fail the next N sends with 503. Setting it (again) re-arms the counter. */
  failFirst: number;
  /** Deterministic: reject sends to these `to` numbers with 400. */
  failNumbers: string[];
  /** HTTP status of the simulated temporary failures (`failRate`, `failFirst`); 500-599. */
  failStatus: number;
  /** Deterministic: answer the next N sends 429 with `Retry-After`. Setting it re-arms the counter. */
  throttleFirst: number;
  /** 0..1: share of sends answered 429 with `Retry-After`. */
  throttleRate: number;
  /** Seconds in the `Retry-After` header of 429 answers. */
  retryAfterS: number;
  /**
   * More than this many accepted sends in one wall-clock second are answered 429 with
   * `Retry-After` (a provider's rate limit). 0: off.
   */
  throttlePerSecond: number;
  /**
   * Every Nth send is accepted and kept, then its connection is destroyed without an answer (a
   * provider dropping the connection: the sender cannot know the message arrived). 0: off. The
   * count restarts when set.
   */
  dropEvery: number;
  /**
   * Style of the answers, as different real providers write them:
   * json `{"status":"ok","messageId":"sim-1"}` (rejection 400 JSON), text `OK sim-1` /
   * `ERROR: ...`, clickatell `ID: sim-1` / `ERR: 105, ...`, kannel `0: Accepted for delivery` /
   * 403 `Not routable...`, xml `<response><status>OK</status><messageid>sim-1</messageid>...`.
   */
  answerStyle: 'json' | 'text' | 'clickatell' | 'kannel' | 'xml';
  /** Keep the last 1000 raw requests (method, url, headers, body) for `/_sim/requests`. */
  recordRequests: boolean;
  /**
   * Verify answers (`GET|POST /status?messageId=`): the states one message reports on its 1st,
   * 2nd, ... verify request (the last one repeats), e.g. `["pending", "delivered"]`.
   */
  verifyStates: string[];
  /** Verify answers `undelivered` for these `to` numbers. */
  undeliveredNumbers: string[];
}

/** One raw request as the simulated provider received it (`recordRequests`). */
export interface SimRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  receivedAt: number;
}

export const MAX_STORED_REQUESTS = 1000;
const ANSWER_STYLES = ['json', 'text', 'clickatell', 'kannel', 'xml'] as const;

export interface SimStats {
  /** Every /send request, whatever its answer. */
  received: number;
  /** Accepted sends counted once per smsid (a send without an id counts as unique). */
  unique: number;
  /** Sum over smsids of (accepted count - 1): messages the provider accepted more than once. */
  duplicates: number;
  /** Answered 503 (simulated temporary failure). */
  failed: number;
  /** Answered 400 (simulated rejection or a request missing `to`/`text`). */
  rejected: number;
  /** Answered 200, or kept and then dropped without an answer (`dropEvery`). */
  accepted: number;
  /** Socket destroyed without an answer (`down`, `dropEvery`). */
  dropped: number;
  /** Answered 429 with Retry-After. */
  throttled: number;
}

export interface SimMessage {
  to: string;
  from: string;
  text: string;
  /** Our message id, from the `id` parameter; empty when the sender gave none. */
  smsid: string;
  /** Epoch milliseconds. */
  receivedAt: number;
  messageId: string;
}

export interface SimMessageFilter {
  smsid?: string;
  to?: string;
  /** At most this many, oldest first. */
  limit?: number;
}

export interface HttpSimOptions {
  /** 0 (the default) picks an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  behaviour?: Partial<SimBehaviour>;
  /** Extra control routes (main.ts mounts the SMPP simulator's /_sim/smpp/*): return true when handled. */
  routes?: (req: IncomingMessage, res: ServerResponse, path: string, query: string) => boolean;
}

export interface HttpSim {
  /** http://host:port */
  url: string;
  port: number;
  stats(): SimStats;
  /** Accepted messages, oldest first. */
  messages(filter?: SimMessageFilter): SimMessage[];
  /** Clears counters and stored messages and re-arms `failFirst`; the behaviour stays. */
  reset(): void;
  /** Merges into the current behaviour and returns the result. Throws on invalid values. */
  setBehaviour(b: Partial<SimBehaviour>): SimBehaviour;
  behaviour(): SimBehaviour;
  /** The last raw requests (with `recordRequests` on), oldest first. */
  requests(): SimRequest[];
  /** Idempotent. Drops keep-alive connections and pending delayed answers. */
  close(): Promise<void>;
}

/** Stored messages beyond this overwrite the oldest ones (ring buffer). */
export const MAX_STORED_MESSAGES = 1_000_000;
const MAX_BODY_BYTES = 1024 * 1024;
const HTTP_MESSAGES_DEFAULT_LIMIT = 100;

export const DEFAULT_BEHAVIOUR: Readonly<SimBehaviour> = Object.freeze({
  failRate: 0,
  rejectRate: 0,
  latencyMs: 0,
  down: false,
  failFirst: 0,
  failNumbers: [] as string[],
  failStatus: 503,
  throttleFirst: 0,
  throttleRate: 0,
  retryAfterS: 1,
  throttlePerSecond: 0,
  dropEvery: 0,
  answerStyle: 'json' as const,
  recordRequests: false,
  verifyStates: ['delivered'],
  undeliveredNumbers: [] as string[],
});

/** Validates `patch` and returns `base` with it applied. Throws a TypeError/RangeError on a bad value. */
export function mergeBehaviour(base: SimBehaviour, patch: Partial<SimBehaviour>): SimBehaviour {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new TypeError('behaviour must be an object');
  }
  const next: SimBehaviour = { ...base, failNumbers: [...base.failNumbers] };
  for (const [key, value] of Object.entries(patch) as [string, unknown][]) {
    if (value === undefined) continue;
    switch (key) {
      case 'failStatus':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 500 || value > 599)
          throw new RangeError('failStatus must be an integer between 500 and 599');
        next.failStatus = value;
        break;
      case 'answerStyle':
        if (typeof value !== 'string' || !(ANSWER_STYLES as readonly string[]).includes(value))
          throw new TypeError(`answerStyle must be one of ${ANSWER_STYLES.join(', ')}`);
        next.answerStyle = value as SimBehaviour['answerStyle'];
        break;
      case 'recordRequests':
        if (typeof value !== 'boolean') throw new TypeError('recordRequests must be a boolean');
        next.recordRequests = value;
        break;
      case 'throttleRate':
      case 'failRate':
      case 'rejectRate':
        if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
          throw new RangeError(`${key} must be a number between 0 and 1`);
        }
        next[key] = value;
        break;
      case 'latencyMs':
      case 'throttlePerSecond':
      case 'dropEvery':
      case 'throttleFirst':
      case 'retryAfterS':
      case 'failFirst':
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
          throw new RangeError(`${key} must be a number >= 0`);
        }
        next[key] = Math.floor(value);
        break;
      case 'down':
        if (typeof value !== 'boolean') throw new TypeError('down must be a boolean');
        next.down = value;
        break;
      case 'verifyStates':
      case 'undeliveredNumbers':
        if (!Array.isArray(value) || !value.every((n) => typeof n === 'string' || typeof n === 'number')) {
          throw new TypeError(`${key} must be an array of strings`);
        }
        if (key === 'verifyStates' && value.length === 0)
          throw new RangeError('verifyStates must not be empty');
        next[key] = value.map(String);
        break;
      case 'failNumbers':
        if (!Array.isArray(value) || !value.every((n) => typeof n === 'string' || typeof n === 'number')) {
          throw new TypeError('failNumbers must be an array of strings');
        }
        next.failNumbers = value.map(String);
        break;
      default:
        throw new TypeError(`unknown behaviour key: ${key}`);
    }
  }
  return next;
}

// Answers that never change are built once.
const JSON_HEADERS = 'application/json';
const BODY_MISSING_TO = JSON.stringify({ status: 'error', error: 'missing to' });
const BODY_MISSING_TEXT = JSON.stringify({ status: 'error', error: 'missing text' });
const BODY_TEMP_FAILURE = JSON.stringify({ status: 'error', error: 'simulated temporary failure' });
const BODY_REJECTION = JSON.stringify({ status: 'error', error: 'simulated rejection' });
const BODY_THROTTLED = JSON.stringify({ status: 'error', error: 'too many requests' });
const BODY_NOT_FOUND = JSON.stringify({ status: 'error', error: 'not found' });
const BODY_TOO_LARGE = JSON.stringify({ status: 'error', error: 'body too large' });
const BODY_INVALID_JSON = JSON.stringify({ status: 'error', error: 'invalid json body' });

interface SendParams {
  to: string;
  from: string;
  text: string;
  smsid: string;
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return '';
}

function paramsFromSearch(search: URLSearchParams, into: SendParams): void {
  const to = search.get('to');
  if (to !== null) into.to = to;
  const from = search.get('from');
  if (from !== null) into.from = from;
  const text = search.get('text');
  if (text !== null) into.text = text;
  const id = search.get('id') ?? search.get('smsid');
  if (id !== null) into.smsid = id;
}

function paramsFromObject(obj: Record<string, unknown>, into: SendParams): void {
  if (obj['to'] !== undefined) into.to = str(obj['to']);
  if (obj['from'] !== undefined) into.from = str(obj['from']);
  if (obj['text'] !== undefined) into.text = str(obj['text']);
  const id = obj['id'] ?? obj['smsid'];
  if (id !== undefined) into.smsid = str(id);
}

function send(res: ServerResponse, status: number, body: string, contentType = JSON_HEADERS): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(body);
  }
}

/** Reads the whole body as a string; resolves '' at once for body-less requests. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(new BodyError(413, BODY_TOO_LARGE));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed)
        resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

function parseJsonObject(body: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new BodyError(400, BODY_INVALID_JSON);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new BodyError(400, BODY_INVALID_JSON);
  return value as Record<string, unknown>;
}

export async function startHttpSim(opts: HttpSimOptions = {}): Promise<HttpSim> {
  const host = opts.host ?? '127.0.0.1';
  let behaviour = mergeBehaviour({ ...DEFAULT_BEHAVIOUR, failNumbers: [] }, opts.behaviour ?? {});
  let failNumbers = new Set(behaviour.failNumbers);
  let failFirstRemaining = behaviour.failFirst;
  let throttleFirstRemaining = behaviour.throttleFirst;
  let throttled = 0;
  let dropCounter = 0;
  let throttleSecond = 0;
  let acceptedThisSecond = 0;
  let recorded: SimRequest[] = [];

  // Counters.
  let received = 0;
  let accepted = 0;
  let acceptedWithoutId = 0;
  let acceptedWithId = 0;
  let failed = 0;
  let rejected = 0;
  let dropped = 0;
  let messageCounter = 0;
  const perSmsid = new Map<string, number>();
  const verifyIndex = new Map<string, { to: string; asked: number }>();
  // Ring buffer of accepted messages: `ring` grows to MAX_STORED_MESSAGES, then `ringStart` marks the oldest.
  let ring: SimMessage[] = [];
  let ringStart = 0;

  const timers = new Set<NodeJS.Timeout>();

  function stats(): SimStats {
    return {
      received,
      unique: perSmsid.size + acceptedWithoutId,
      duplicates: acceptedWithId - perSmsid.size,
      failed,
      rejected,
      accepted,
      dropped,
      throttled,
    };
  }

  function reset(): void {
    verifyIndex.clear();
    received = accepted = acceptedWithoutId = acceptedWithId = failed = rejected = dropped = throttled = 0;
    throttleFirstRemaining = behaviour.throttleFirst;
    dropCounter = 0;
    acceptedThisSecond = 0;
    recorded = [];
    messageCounter = 0;
    perSmsid.clear();
    ring = [];
    ringStart = 0;
    failFirstRemaining = behaviour.failFirst;
  }

  function setBehaviour(patch: Partial<SimBehaviour>): SimBehaviour {
    const next = mergeBehaviour(behaviour, patch);
    behaviour = next;
    failNumbers = new Set(next.failNumbers);
    if (patch.failFirst !== undefined) failFirstRemaining = next.failFirst;
    if (patch.throttleFirst !== undefined) throttleFirstRemaining = next.throttleFirst;
    if (patch.dropEvery !== undefined) dropCounter = 0;
    return { ...next, failNumbers: [...next.failNumbers] };
  }

  function messages(filter: SimMessageFilter = {}): SimMessage[] {
    const limit = filter.limit ?? Infinity;
    const out: SimMessage[] = [];
    const n = ring.length;
    if (limit <= 0) return out;
    for (let i = 0; i < n; i++) {
      const m = ring[(ringStart + i) % n]!;
      if (filter.smsid !== undefined && m.smsid !== filter.smsid) continue;
      if (filter.to !== undefined && m.to !== filter.to) continue;
      out.push({ ...m });
      if (out.length >= limit) break;
    }
    return out;
  }

  function store(m: SimMessage): void {
    if (ring.length < MAX_STORED_MESSAGES) {
      ring.push(m);
    } else {
      ring[ringStart] = m;
      ringStart = (ringStart + 1) % MAX_STORED_MESSAGES;
    }
  }

  /** Decides the answer for one well-formed send and updates the counters. */
  /** True when this send is over the `throttlePerSecond` budget of the current second. */
  function overRate(): boolean {
    if (behaviour.throttlePerSecond <= 0) return false;
    const second = Math.floor(Date.now() / 1000);
    if (second !== throttleSecond) {
      throttleSecond = second;
      acceptedThisSecond = 0;
    }
    if (acceptedThisSecond >= behaviour.throttlePerSecond) return true;
    acceptedThisSecond++;
    return false;
  }

  function answerSend(res: ServerResponse, p: SendParams): void {
    if (p.to === '') {
      rejected++;
      send(res, 400, BODY_MISSING_TO);
      return;
    }
    if (p.text === '') {
      rejected++;
      send(res, 400, BODY_MISSING_TEXT);
      return;
    }
    if (failNumbers.size > 0 && failNumbers.has(p.to)) {
      rejected++;
      sendRejection(res);
      return;
    }
    if (
      throttleFirstRemaining > 0 ||
      (behaviour.throttleRate > 0 && Math.random() < behaviour.throttleRate) ||
      overRate()
    ) {
      if (throttleFirstRemaining > 0) throttleFirstRemaining--;
      throttled++;
      res.setHeader('retry-after', String(behaviour.retryAfterS));
      send(res, 429, BODY_THROTTLED);
      return;
    }
    if (failFirstRemaining > 0) {
      failFirstRemaining--;
      failed++;
      send(res, behaviour.failStatus, BODY_TEMP_FAILURE);
      return;
    }
    if (behaviour.failRate > 0 && Math.random() < behaviour.failRate) {
      failed++;
      send(res, behaviour.failStatus, BODY_TEMP_FAILURE);
      return;
    }
    if (behaviour.rejectRate > 0 && Math.random() < behaviour.rejectRate) {
      rejected++;
      sendRejection(res);
      return;
    }
    accepted++;
    const messageId = `sim-${++messageCounter}`;
    if (p.smsid === '') {
      acceptedWithoutId++;
    } else {
      acceptedWithId++;
      perSmsid.set(p.smsid, (perSmsid.get(p.smsid) ?? 0) + 1);
    }
    store({ to: p.to, from: p.from, text: p.text, smsid: p.smsid, receivedAt: Date.now(), messageId });
    // For verify requests: which number each id went to and how often it was asked about.
    if (verifyIndex.size >= 1_000_000) verifyIndex.delete(verifyIndex.keys().next().value!);
    verifyIndex.set(messageId, { to: p.to, asked: 0 });
    if (behaviour.dropEvery > 0 && ++dropCounter % behaviour.dropEvery === 0) {
      // Kept, but the answer never leaves: the connection goes down with it.
      dropped++;
      res.socket?.destroy();
      return;
    }
    switch (behaviour.answerStyle) {
      case 'json':
        send(res, 200, `{"status":"ok","messageId":"${messageId}"}`);
        break;
      case 'text':
        send(res, 200, `OK ${messageId}`, 'text/plain');
        break;
      case 'clickatell':
        send(res, 200, `ID: ${messageId}`, 'text/plain');
        break;
      case 'kannel':
        send(res, 202, '0: Accepted for delivery', 'text/plain');
        break;
      case 'xml':
        send(
          res,
          200,
          `<response><status>OK</status><messageid>${messageId}</messageid></response>`,
          'application/xml',
        );
        break;
    }
  }

  /** A permanent rejection in the current answer style. */
  function sendRejection(res: ServerResponse): void {
    switch (behaviour.answerStyle) {
      case 'json':
        send(res, 400, BODY_REJECTION);
        break;
      case 'text':
        send(res, 200, 'ERROR: simulated rejection', 'text/plain');
        break;
      case 'clickatell':
        send(res, 200, 'ERR: 105, simulated rejection', 'text/plain');
        break;
      case 'kannel':
        send(res, 403, 'Not routable. Do not try again.', 'text/plain');
        break;
      case 'xml':
        send(
          res,
          200,
          '<response><status>ERROR</status><error>simulated rejection</error></response>',
          'application/xml',
        );
        break;
    }
  }

  function respondAfterLatency(res: ServerResponse, p: SendParams): void {
    const latencyMs = behaviour.latencyMs;
    if (latencyMs <= 0) {
      answerSend(res, p);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) answerSend(res, p);
    }, latencyMs);
    timers.add(timer);
  }

  async function handleSend(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    received++;
    if (behaviour.down) {
      dropped++;
      req.socket.destroy();
      return;
    }
    const p: SendParams = { to: '', from: '', text: '', smsid: '' };
    if (query !== '') paramsFromSearch(new URLSearchParams(query), p);
    const rec: SimRequest | undefined = behaviour.recordRequests
      ? {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: { ...req.headers },
          body: '',
          receivedAt: Date.now(),
        }
      : undefined;
    if (rec) {
      recorded.push(rec);
      if (recorded.length > MAX_STORED_REQUESTS) recorded.shift();
    }
    if (req.method === 'POST') {
      let body: string;
      try {
        body = await readBody(req);
        if (rec) rec.body = body;
        if (body !== '') {
          const type = req.headers['content-type'] ?? '';
          if (type.includes('json') || (type === '' && body.charCodeAt(0) === 123) /* { */) {
            paramsFromObject(parseJsonObject(body), p);
          } else {
            paramsFromSearch(new URLSearchParams(body), p);
          }
        }
      } catch (err) {
        rejected++;
        if (err instanceof BodyError) send(res, err.status, err.body);
        else req.socket.destroy();
        return;
      }
    } else if (req.method !== 'GET') {
      res.setHeader('allow', 'GET, POST');
      send(res, 405, JSON.stringify({ status: 'error', error: 'method not allowed' }));
      return;
    }
    respondAfterLatency(res, p);
  }

  async function handleControl(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      send(res, 200, 'ok', 'text/plain');
      return;
    }
    if (path === '/status' && (method === 'GET' || method === 'POST')) {
      // A provider's status (verify) request: the message's state by its provider id.
      let id = new URLSearchParams(query).get('messageId') ?? new URLSearchParams(query).get('id');
      if (id === null && method === 'POST') {
        const body = await readBody(req);
        try {
          const j = JSON.parse(body) as Record<string, unknown>;
          id = typeof j.messageId === 'string' ? j.messageId : typeof j.id === 'string' ? j.id : null;
        } catch {
          const f = new URLSearchParams(body);
          id = f.get('messageId') ?? f.get('id');
        }
      }
      const entry = id === null ? undefined : verifyIndex.get(id);
      if (!entry || id === null) {
        send(res, 404, BODY_NOT_FOUND);
        return;
      }
      const states = behaviour.verifyStates;
      const state = behaviour.undeliveredNumbers.includes(entry.to)
        ? 'undelivered'
        : (states[Math.min(entry.asked, states.length - 1)] ?? 'delivered');
      entry.asked++;
      send(res, 200, JSON.stringify({ messageId: id, status: state }));
      return;
    }
    if (path === '/_sim/stats' && method === 'GET') {
      send(res, 200, JSON.stringify(stats()));
      return;
    }
    if (path === '/_sim/messages' && method === 'GET') {
      const q = new URLSearchParams(query);
      const filter: SimMessageFilter = { limit: HTTP_MESSAGES_DEFAULT_LIMIT };
      const smsid = q.get('smsid');
      if (smsid !== null) filter.smsid = smsid;
      const to = q.get('to');
      if (to !== null) filter.to = to;
      const limit = q.get('limit');
      if (limit !== null) {
        const n = Number(limit);
        if (!Number.isInteger(n) || n < 0) {
          send(res, 400, JSON.stringify({ status: 'error', error: 'limit must be an integer >= 0' }));
          return;
        }
        filter.limit = n;
      }
      send(res, 200, JSON.stringify(messages(filter)));
      return;
    }
    if (path === '/_sim/requests' && method === 'GET') {
      send(res, 200, JSON.stringify(recorded));
      return;
    }
    if (path === '/_sim/reset' && method === 'POST') {
      await readBody(req);
      reset();
      send(res, 200, JSON.stringify(stats()));
      return;
    }
    if (path === '/_sim/behaviour' && (method === 'POST' || method === 'GET')) {
      if (method === 'GET') {
        send(res, 200, JSON.stringify(behaviour));
        return;
      }
      try {
        const body = await readBody(req);
        const next = setBehaviour(body.trim() === '' ? {} : parseJsonObject(body));
        send(res, 200, JSON.stringify(next));
      } catch (err) {
        if (err instanceof BodyError) send(res, err.status, err.body);
        else send(res, 400, JSON.stringify({ status: 'error', error: (err as Error).message }));
      }
      return;
    }
    send(res, 404, BODY_NOT_FOUND);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    if (path !== '/send' && opts.routes?.(req, res, path, query) === true) return;
    const work = path === '/send' ? handleSend(req, res, query) : handleControl(req, res, path, query);
    work.catch(() => {
      // A handler only throws on a broken socket: nothing left to answer.
      if (!res.headersSent && !res.destroyed)
        send(res, 500, JSON.stringify({ status: 'error', error: 'internal' }));
      else req.socket.destroy();
    });
  }

  const server: Server = createServer({ keepAlive: true, noDelay: true }, onRequest);
  // Load generators hold keep-alive connections open between bursts: don't cut them after Node's 5 s default.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      // Idle keep-alive sockets would hold close() open until they time out.
      server.closeAllConnections();
    });
    return closing;
  }

  return {
    url: `http://${urlHost}:${port}`,
    port,
    stats,
    messages,
    reset,
    setBehaviour,
    behaviour: () => ({ ...behaviour, failNumbers: [...behaviour.failNumbers] }),
    requests: () => recorded.map((r) => ({ ...r })),
    close,
  };
}
