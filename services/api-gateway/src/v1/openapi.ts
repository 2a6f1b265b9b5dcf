import { z } from 'zod';
import { MAX_BATCH_RECIPIENTS, schemas } from './schemas.js';

type Method = 'get' | 'post';

/** Every operation's id; the router needs a handler for each (checked by the compiler). */
export type OperationId =
  | 'getOpenApi'
  | 'sendMessage'
  | 'getMessage'
  | 'createBatch'
  | 'getBatch'
  | 'cancelBatch'
  | 'searchCdrs'
  | 'listInbox'
  | 'sendVerification'
  | 'checkVerification';

export interface Operation {
  method: Method;
  /** OpenAPI path template (`/v1/batches/{id}`). */
  path: string;
  operationId: OperationId;
  summary: string;
  description?: string;
  auth: boolean;
  idempotent?: boolean;
  /** Mounted by another route module (cdrs-route.ts, inbound-routes.ts), documented here. */
  external?: boolean;
  params?: { name: string; description: string }[];
  query?: { name: string; description: string }[];
  /** Request body: media type -> schema id (or an inline schema). */
  body?: Record<string, string | object>;
  /** Status -> [description, schema id or undefined]. */
  responses: Record<number, [string, string?]>;
}

const PROBLEM_RESPONSES: Record<number, [string, string]> = {
  400: ['Malformed request', 'Problem'],
  401: ['Missing or invalid API key', 'Problem'],
  422: ['Invalid request: `errors` lists each bad field or row; nothing was queued', 'Problem'],
};

/** Every /v1 operation. The router mounts exactly these, and a test keeps the two in step. */
export const V1_OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    auth: false,
    responses: { 200: ['The OpenAPI 3.1 document'] },
  },
  {
    method: 'post',
    path: '/v1/messages',
    operationId: 'sendMessage',
    summary: 'Send one text to one or many recipients',
    description:
      'Validates, checks rights and credit, and queues one message per recipient. With an `Idempotency-Key`, a retry returns the first answer and sends nothing again.',
    auth: true,
    idempotent: true,
    body: { 'application/json': 'SendMessageRequest' },
    responses: {
      202: ['Accepted and queued', 'SendMessageResponse'],
      ...PROBLEM_RESPONSES,
      402: ['Not enough credit; nothing was queued', 'Problem'],
      403: ['The user may not send SMS', 'Problem'],
      409: ['A request with the same idempotency key is still running', 'Problem'],
    },
  },
  {
    method: 'get',
    path: '/v1/messages/{smsid}',
    operationId: 'getMessage',
    summary: 'Status history of one message',
    auth: true,
    params: [{ name: 'smsid', description: 'The id returned when the message was accepted' }],
    responses: {
      200: ['Its states, oldest first', 'MessageStatus'],
      401: PROBLEM_RESPONSES[401]!,
      404: ['No such message (or not yours; status is kept 7 days)', 'Problem'],
    },
  },
  {
    method: 'post',
    path: '/v1/batches',
    operationId: 'createBatch',
    summary: `Bulk send to up to ${MAX_BATCH_RECIPIENTS} recipients`,
    description:
      'JSON, or a CSV upload (`text/csv`, columns `to[,text]`, an optional header row; batch `text`, `from` and `scheduleAt` then come from the query string). Every row is validated first: any bad row fails the whole batch with a problem document listing the rows, and nothing is queued. Answered at once with the batch id; the messages are then queued in chunks.',
    auth: true,
    idempotent: true,
    query: [
      { name: 'text', description: 'CSV upload: text of rows without their own' },
      { name: 'from', description: 'CSV upload: sender' },
      { name: 'scheduleAt', description: 'CSV upload: send at this RFC 3339 time' },
    ],
    body: {
      'application/json': 'CreateBatchRequest',
      'text/csv': { type: 'string', description: 'to[,text] per line' },
    },
    responses: {
      202: ['Accepted; progress at /v1/batches/{id}', 'Batch'],
      ...PROBLEM_RESPONSES,
      402: ['Not enough credit for the whole batch; nothing was queued', 'Problem'],
      403: ['The user may not send SMS', 'Problem'],
      409: ['A request with the same idempotency key is still running', 'Problem'],
      413: ['Body too large', 'Problem'],
      415: ['Neither JSON nor CSV', 'Problem'],
    },
  },
  {
    method: 'get',
    path: '/v1/batches/{id}',
    operationId: 'getBatch',
    summary: 'Progress of a batch',
    auth: true,
    params: [{ name: 'id', description: 'Batch id' }],
    responses: {
      200: ['Counters (each message counts once per state)', 'Batch'],
      401: PROBLEM_RESPONSES[401]!,
      404: ['No such batch', 'Problem'],
    },
  },
  {
    method: 'post',
    path: '/v1/batches/{id}/cancel',
    operationId: 'cancelBatch',
    summary: 'Cancel what has not been sent',
    description:
      'Removes the queued chunks that no dispatcher has taken yet; their messages end `failed` with reason `cancelled` (one CDR each, reserved credit returned). Messages already being sent finish normally. Cancelling twice is harmless.',
    auth: true,
    params: [{ name: 'id', description: 'Batch id' }],
    responses: {
      200: ['The batch after cancelling', 'Batch'],
      401: PROBLEM_RESPONSES[401]!,
      404: ['No such batch', 'Problem'],
      409: ['The batch could not be cancelled (it failed)', 'Problem'],
    },
  },
  {
    method: 'get',
    path: '/v1/cdrs',
    operationId: 'searchCdrs',
    summary: 'Search CDRs (newest first)',
    auth: true,
    external: true,
    query: [
      { name: 'user', description: 'User id (admins; others see their own)' },
      { name: 'gateway', description: 'Gateway id' },
      { name: 'status', description: 'Final state' },
      { name: 'since', description: 'ISO 8601 time' },
      { name: 'until', description: 'ISO 8601 time' },
      { name: 'number', description: 'Number, a trailing * matches a prefix' },
      { name: 'limit', description: 'At most 10000' },
      { name: 'before', description: 'CDR id: page back' },
      { name: 'format', description: 'json (default) or csv' },
    ],
    responses: {
      200: ['CDR rows (JSON or CSV)'],
      401: PROBLEM_RESPONSES[401]!,
      422: PROBLEM_RESPONSES[422]!,
    },
  },
  {
    method: 'get',
    path: '/v1/inbox',
    operationId: 'listInbox',
    summary: "The caller's inbound messages, newest first",
    auth: true,
    external: true,
    query: [
      { name: 'limit', description: 'Default 50, at most 1000' },
      { name: 'before', description: 'Message id: page back' },
      { name: 'userId', description: "Admins: another user's inbox" },
    ],
    responses: {
      200: ['Messages and the id to page back from (`next`)'],
      401: PROBLEM_RESPONSES[401]!,
      403: ['Only admins may read another inbox', 'Problem'],
      422: PROBLEM_RESPONSES[422]!,
    },
  },
  // Sign-up verification (uauthverify; verify/verify-routes.ts).
  {
    method: 'post',
    path: '/v1/verifications',
    operationId: 'sendVerification',
    summary: 'Send a verification code by SMS',
    description:
      'Needs `uauthverify=true`. Sends a fresh code (replacing a pending one) to `to`; limited per number, per address and per user (`uauthverify_*` config keys). Sent by the server, uncharged, unless `uauthverify_charge` is on.',
    auth: true,
    external: true,
    body: {
      'application/json': {
        type: 'object',
        required: ['to'],
        properties: { to: { type: 'string' }, userIp: { type: 'string' } },
        additionalProperties: false,
      },
    },
    responses: {
      202: ['The code SMS was queued: `{smsid, to, expiresAt}`'],
      ...PROBLEM_RESPONSES,
      403: ['Verification is disabled (uauthverify=false) or the user may not send', 'Problem'],
      429: ['Too many codes for this number, address or user', 'Problem'],
    },
  },
  {
    method: 'post',
    path: '/v1/verifications/check',
    operationId: 'checkVerification',
    summary: 'Check a verification code',
    description:
      "A right code is consumed; with `attach: true` the number becomes a registered caller-id of the key's user. Each check counts as an attempt (`uauthverify_maxattempts`).",
    auth: true,
    external: true,
    body: {
      'application/json': {
        type: 'object',
        required: ['to', 'code'],
        properties: {
          to: { type: 'string' },
          code: { type: 'string' },
          attach: { type: 'boolean' },
          userIp: { type: 'string' },
        },
        additionalProperties: false,
      },
    },
    responses: {
      200: ['Verified: `{verified: true, to, registeredFor?}`'],
      ...PROBLEM_RESPONSES,
      403: ['Verification disabled, or the number belongs to another user', 'Problem'],
      422: ['Wrong, expired or used-up code, or an invalid field', 'Problem'],
      429: ['Too many checks from this address', 'Problem'],
    },
  },
];

function componentSchemas(): Record<string, object> {
  const out = z.toJSONSchema(schemas, { uri: (id) => `#/components/schemas/${id}` }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  // Each schema is emitted as a standalone document; inside components they are plain schemas.
  for (const s of Object.values(out.schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  return out.schemas;
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** The OpenAPI 3.1 document of /v1 (JSON Schema 2020-12 from the zod schemas the API validates with). */
export function buildOpenApi(serverUrl = '/'): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of V1_OPERATIONS) {
    const parameters: object[] = [];
    for (const p of op.params ?? [])
      parameters.push({
        name: p.name,
        in: 'path',
        required: true,
        description: p.description,
        schema: { type: 'string' },
      });
    for (const q of op.query ?? [])
      parameters.push({
        name: q.name,
        in: 'query',
        required: false,
        description: q.description,
        schema: { type: 'string' },
      });
    if (op.idempotent)
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Makes retries safe for 24 h: the same key with the same body returns the first answer (header `Idempotent-Replayed: true`) and sends nothing again; with a different body it is refused (422).',
        schema: { type: 'string', maxLength: 255 },
      });
    const responses: Record<string, object> = {};
    for (const [status, [description, schemaId]] of Object.entries(op.responses)) {
      const type = schemaId === 'Problem' ? 'application/problem+json' : 'application/json';
      responses[status] = schemaId
        ? { description, content: { [type]: { schema: ref(schemaId) } } }
        : { description };
    }
    const operation: Record<string, unknown> = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(parameters.length ? { parameters } : {}),
      responses,
      security: op.auth ? [{ bearer: [] }] : [],
    };
    if (op.body) {
      const content: Record<string, object> = {};
      for (const [type, s] of Object.entries(op.body))
        content[type] = { schema: typeof s === 'string' ? ref(s) : s };
      operation.requestBody = { required: true, content };
    }
    (paths[op.path] ??= {})[op.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'smsfleet JSON API',
      version: '1.0.0',
      description:
        'Send SMS, bulk batches with progress, and message status. Errors are RFC 9457 problem documents (`application/problem+json`).',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key from `smsfleet apikey create --user NAME`',
        },
      },
    },
  };
}
