import express from 'express';
import type { z } from 'zod';
import { BatchesRepo } from '@smsfleet/db';
import { ChunkProducer, MessageStatusStore } from '@smsfleet/queue';
import { Counter } from '@smsfleet/runtime';
import type { ApiContext } from '../api-context.js';
import { apiKeyAuthFor, type V1Principal } from './api-key-auth.js';
import { BatchService } from './batch-service.js';
import { fingerprint, IdempotencyStore, type StoredAnswer } from './idempotency.js';
import { buildOpenApi, V1_OPERATIONS, type Operation, type OperationId } from './openapi.js';
import { problemMiddleware, ProblemError, problem, type FieldError } from './problem.js';
import { parseRecipientsCsv, resolveRecipients } from './recipients.js';
import { CreateBatchRequest, MAX_SCHEDULE_AHEAD_MS, SendMessageRequest } from './schemas.js';
import { createSendPort } from './send-port.js';

type Handler = (req: express.Request, res: express.Response) => Promise<void> | void;

interface RawRequest extends express.Request {
  rawBody?: Buffer;
  principal?: V1Principal;
}

const MESSAGE_BODY_LIMIT = '1mb';
/** Messages per queue job of a batch (the api-gateway's CHUNK_SIZE default). */
const BATCH_CHUNK_SIZE = 200;
/** 100,000 recipients with their own 160-character texts fit comfortably. */
const BATCH_BODY_LIMIT = '40mb';

/** zod issues as problem-document errors (JSON pointers into the body), at most 100. */
export function zodErrors(error: z.ZodError): FieldError[] {
  return error.issues.slice(0, 100).map((i) => ({
    pointer: `/${i.path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`,
    detail: i.message,
  }));
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object')
    throw new ProblemError('BAD_REQUEST', 'send a JSON object (Content-Type: application/json)');
  const r = schema.safeParse(body);
  if (!r.success)
    throw new ProblemError(
      'VALIDATION',
      `${r.error.issues.length} invalid field${r.error.issues.length === 1 ? '' : 's'}; nothing was queued`,
      zodErrors(r.error),
    );
  return r.data;
}

function parseScheduleAt(raw: string | undefined, pointer: string): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const t = Date.parse(raw);
  if (!Number.isFinite(t) || !/^\d{4}-\d\d-\d\dT/.test(raw))
    throw new ProblemError('VALIDATION', 'scheduleAt is not an RFC 3339 time', [
      { pointer, detail: 'expected e.g. 2026-01-31T09:00:00Z' },
    ]);
  if (t > Date.now() + MAX_SCHEDULE_AHEAD_MS)
    throw new ProblemError('VALIDATION', 'scheduleAt is too far ahead', [
      { pointer, detail: 'at most 30 days ahead' },
    ]);
  // A time in the past means "now".
  return t > Date.now() ? new Date(t) : undefined;
}

function json(status: number, body: unknown, headers?: Record<string, string>): StoredAnswer {
  return {
    status,
    contentType: 'application/json',
    body: JSON.stringify(body),
    ...(headers ? { headers } : {}),
  };
}

function send(res: express.Response, a: StoredAnswer, replayed = false): void {
  if (a.headers) for (const [k, v] of Object.entries(a.headers)) res.setHeader(k, v);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(a.status).type(a.contentType).send(a.body);
}

/** Express path of an OpenAPI path template (`/v1/batches/{id}` -> `/v1/batches/:id`). */
export function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}

/** Operations other route modules mount (documented in openapi.ts). */
type ExternalOperation = 'searchCdrs' | 'listInbox' | 'sendVerification' | 'checkVerification';

/** Where the /v1 router is mounted; its routes are relative to it. */
export const V1_BASE = '/v1';

/** Mounts one handler per documented operation, and nothing else (paths relative to V1_BASE). */
export function mountOperations(
  router: express.Router,
  handlers: Record<Exclude<OperationId, ExternalOperation>, Handler>,
  before: (op: Operation) => express.RequestHandler[] = () => [],
): void {
  for (const op of V1_OPERATIONS) {
    if (op.external) continue;
    const h = handlers[op.operationId as Exclude<OperationId, ExternalOperation>];
    router[op.method](expressPath(op.path.slice(V1_BASE.length)), ...before(op), async (req, res) => {
      await h(req, res);
    });
  }
}

/** The JSON API under /v1 (see openapi.ts for the contract). */
export const v1Routes = (router: express.Router, ctx: ApiContext): void => {
  const sendPort = createSendPort(ctx);
  ctx.onClose('v1-send', () => sendPort.close());
  const producer = new ChunkProducer({ connection: ctx.redis, prefix: ctx.infra.queuePrefix });
  const status = new MessageStatusStore(ctx.redis, ctx.infra.queuePrefix);
  const batches = new BatchService({
    redis: ctx.redis,
    prefix: ctx.infra.queuePrefix,
    batches: new BatchesRepo(ctx.db),
    status,
    producer,
    send: sendPort,
    publish: (state, events, msgId) => ctx.bus.publish(state, events, msgId),
    log: ctx.log,
    chunkSize: BATCH_CHUNK_SIZE,
  });
  // Reverse order on shutdown: batches being queued finish, then their producer closes.
  ctx.onClose('v1-producer', () => producer.close());
  ctx.onClose('v1-batches', () => batches.close());
  // Batches whose queuing replica died are picked up by any replica (see BatchService.resumeOrphans).
  const resume = () =>
    void batches
      .resumeOrphans()
      .catch((err: Error) => ctx.log.warn({ err: err.message }, 'batch resume check failed'));
  const resumeTimer = setInterval(resume, 30_000);
  resumeTimer.unref();
  const firstResume = setTimeout(resume, 5_000);
  firstResume.unref();
  ctx.onClose('v1-resume', () => {
    clearInterval(resumeTimer);
    clearTimeout(firstResume);
  });
  const idempotency = new IdempotencyStore(ctx.redis, ctx.infra.queuePrefix);
  const auth = apiKeyAuthFor(ctx);
  const requests = new Counter({
    name: 'smsfleet_v1_requests_total',
    help: '/v1 requests by operation and status',
    labelNames: ['operation', 'status'],
    registers: [ctx.registry],
  });
  const batchMessages = new Counter({
    name: 'smsfleet_v1_batch_messages_total',
    help: 'Recipients accepted in /v1 batches',
    registers: [ctx.registry],
  });
  let openApiJson: string | undefined;

  const principalOf = (req: express.Request): V1Principal => {
    const p = (req as RawRequest).principal;
    if (!p) throw new ProblemError('UNAUTHORIZED', 'not authenticated');
    return p;
  };
  const clientIp = (req: express.Request) => req.socket.remoteAddress ?? '';
  /** Runs `fn` once per Idempotency-Key (when the client sent one). */
  const idempotent = async (req: express.Request, res: express.Response, fn: () => Promise<StoredAnswer>) => {
    const idemKey = req.get('idempotency-key');
    if (idemKey === undefined) {
      send(res, await fn());
      return;
    }
    const raw = (req as RawRequest).rawBody ?? Buffer.alloc(0);
    const fp = fingerprint(req.method, req.originalUrl, raw);
    const { answer, replayed } = await idempotency.run(principalOf(req).userId, idemKey, fp, async () => {
      try {
        return await fn();
      } catch (err) {
        // Client errors are answers too: a retry gets the same problem document.
        if (err instanceof ProblemError && problem(err.code, '').status < 500) {
          const p = problem(err.code, err.message, err.errors);
          p.instance = req.originalUrl.split('?')[0];
          return { status: p.status, contentType: 'application/problem+json', body: JSON.stringify(p) };
        }
        throw err;
      }
    });
    send(res, answer, replayed);
  };

  const handlers: Record<Exclude<OperationId, ExternalOperation>, Handler> = {
    getOpenApi(req, res) {
      openApiJson ??= JSON.stringify(buildOpenApi('/'));
      res.type('application/json').send(openApiJson);
      void req;
    },

    async sendMessage(req, res) {
      await idempotent(req, res, async () => {
        const principal = principalOf(req);
        const body = parseBody(SendMessageRequest, req.body);
        const to = typeof body.to === 'string' ? [body.to] : body.to;
        const recipients = resolveRecipients(
          to.map((t) => ({ to: t })),
          { text: body.text, from: body.from },
          (i, field) => (field === 'to' ? (typeof body.to === 'string' ? '/to' : `/to/${i}`) : `/${field}`),
        );
        const sent = await sendPort.send(principal, {
          to: recipients.map((r) => r.to),
          text: body.text,
          from: recipients[0]!.from,
          clientIp: clientIp(req),
          cfg: ctx.config.current(),
        });
        const messages = sent.map((m) => ({ smsid: m.smsid, to: m.to, state: 'accepted' as const }));
        const headers: Record<string, string> =
          messages.length === 1 ? { Location: `/v1/messages/${messages[0]!.smsid}` } : {};
        return json(202, { messages }, headers);
      });
    },

    async getMessage(req, res) {
      const principal = principalOf(req);
      const smsid = String(req.params.smsid ?? '');
      const st = /^[\x21-\x7e]{1,40}$/.test(smsid) ? await status.get(smsid) : undefined;
      if (!st || (!principal.admin && st.userId !== principal.userId))
        throw new ProblemError('NOT_FOUND', `no message ${smsid.slice(0, 40)} (status is kept 7 days)`);
      res.json({
        smsid: st.smsid,
        ...(st.to ? { to: st.to } : {}),
        ...(st.batchId ? { batchId: st.batchId } : {}),
        state: st.state,
        final: st.final,
        history: st.history.map((h) => ({ ...h, at: new Date(h.at).toISOString() })),
      });
    },

    async createBatch(req, res) {
      await idempotent(req, res, async () => {
        const principal = principalOf(req);
        const type = req.get('content-type') ?? '';
        let input: ReturnType<typeof parseRecipientsCsv>['recipients'];
        let defaults: { text?: string; from?: string };
        let scheduleAt: Date | undefined;
        let pointer: (i: number, field: string) => string;
        if (/^text\/csv\b/i.test(type)) {
          if (typeof req.body !== 'string' || req.body.trim() === '')
            throw new ProblemError('VALIDATION', 'the CSV upload is empty');
          const csv = parseRecipientsCsv(req.body);
          if (csv.recipients.length === 0)
            throw new ProblemError('VALIDATION', 'the CSV upload has no recipients');
          input = csv.recipients;
          const q = req.query as Record<string, unknown>;
          const str = (k: string) => (typeof q[k] === 'string' ? q[k] : undefined);
          defaults = { text: str('text'), from: str('from') };
          scheduleAt = parseScheduleAt(str('scheduleAt'), '/query/scheduleAt');
          pointer = (i, field) => `/lines/${csv.lines[i]}/${field}`;
        } else if (/^application\/(.+\+)?json\b/i.test(type)) {
          const body = parseBody(CreateBatchRequest, req.body);
          input = body.recipients;
          defaults = { text: body.text, from: body.from };
          scheduleAt = parseScheduleAt(body.scheduleAt, '/scheduleAt');
          pointer = (i, field) => `/recipients/${i}/${field}`;
        } else {
          throw new ProblemError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or text/csv');
        }
        const recipients = resolveRecipients(input, defaults, pointer);
        const view = await batches.create(principal, recipients, {
          scheduleAt,
          clientIp: clientIp(req),
          cfg: ctx.config.current(),
        });
        batchMessages.inc(view.total);
        return json(202, view, { Location: `/v1/batches/${view.id}` });
      });
    },

    async getBatch(req, res) {
      res.json(await batches.get(principalOf(req), String(req.params.id ?? '')));
    },

    async cancelBatch(req, res) {
      res.json(await batches.cancel(principalOf(req), String(req.params.id ?? '')));
    },
  };

  const v1 = express.Router();
  const keepRaw = (req: express.Request, _res: express.Response, buf: Buffer) => {
    (req as RawRequest).rawBody = buf;
  };
  const authenticate: express.RequestHandler = (req, _res, next) => {
    auth.authenticate(req.get('authorization'), req.ip).then((p) => {
      (req as RawRequest).principal = p;
      next();
    }, next);
  };
  const countStatus =
    (operation: string): express.RequestHandler =>
    (_req, res, next) => {
      res.on('finish', () => requests.inc({ operation, status: String(res.statusCode) }));
      next();
    };
  mountOperations(v1, handlers, (op) => {
    const chain: express.RequestHandler[] = [countStatus(op.operationId)];
    if (op.auth) chain.push(authenticate);
    if (op.operationId === 'createBatch')
      chain.push(
        express.json({
          limit: BATCH_BODY_LIMIT,
          verify: keepRaw,
          type: ['application/json', 'application/*+json'],
        }),
        express.text({ limit: BATCH_BODY_LIMIT, verify: keepRaw, type: 'text/csv' }),
      );
    else if (op.method === 'post') chain.push(express.json({ limit: MESSAGE_BODY_LIMIT, verify: keepRaw }));
    return chain;
  });
  // No catch-all 404 here: other modules mount /v1 routes too, and the app's 404 is a problem document.
  v1.use(
    problemMiddleware((err, errorId) =>
      ctx.log.error(
        { errorId, err: (err as Error).message, stack: (err as Error).stack },
        'v1 request failed',
      ),
    ),
  );
  router.use(V1_BASE, v1);
};
