import { Agent, Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import {
  analyzeText,
  classifyHttpAnswer,
  compileTemplate,
  type CompiledTemplate,
  type OutboundSms,
  type SubmitResult,
  type TemplateEscape,
  type TemplateValues,
  type Transport,
} from '@smsfleet/core';
import {
  prepareSql,
  sqlParams,
  SqlCache,
  type PreparedSql,
  type TemplateSqlRunner,
} from './sql-placeholders.js';

export type BodyFormat = 'auto' | 'json' | 'xml' | 'form' | 'text';

export interface HttpGatewayConfig {
  /** tb_users.id of the gateway (0 = the global smsurl); only used in reasons. */
  gatewayId?: number;
  /** The `smsurl` template (`[tonum]`, `[message]` ... keywords, `{SELECT ...}`). */
  url: string;
  /** POST body template (`smssenddata`); GET when absent (unless `method` says POST). */
  body?: string;
  /** Header lines template (`smssendheader`), `Name: value` per line. */
  headers?: string;
  method?: 'GET' | 'POST';
  /** Escaping of substituted values in the body; `auto` guesses JSON / XML / form from the body. */
  bodyFormat?: BodyFormat;
  successString?: string;
  failString?: string;
  /** Regex for the provider's message id (first capture group). */
  idRegex?: string;
  /** Keep-alive connections per origin, which is also the cap of parallel requests. */
  maxParallel?: number;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  /** Accept any TLS certificate. Certificates are checked unless this is set. */
  insecureTls?: boolean;
  /** Send a long text as one request per segment instead of whole. */
  splitLong?: boolean;
  /** Runs `{SELECT ...}` placeholders; required when a template has one. */
  sql?: TemplateSqlRunner;
  sqlTimeoutMs?: number;
  /** Delivery reports come to `/dlr/{gatewayId}` (gateway setting `awaitDlr`). */
  awaitReceipt?: boolean;
  /** Sees every request and raw answer (the `gateway test` tool). Unset on the hot path. */
  onExchange?: (e: HttpExchange) => void;
}

/** One request and its raw answer, as `smsfleet gateway test` prints it (mask before showing). */
export interface HttpExchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  status?: number;
  responseHeaders?: Record<string, string | string[] | undefined>;
  answer?: string;
  error?: string;
  latencyMs: number;
}

const ANSWER_MAX = 500;
const ANSWER_BUFFER_MAX = 64 * 1024;

interface RawAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function guessBodyFormat(body: string): 'json' | 'xml' | 'form' {
  const t = body.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) return 'json';
  if (t.startsWith('<')) return 'xml';
  return 'form';
}

const ESCAPE_OF: Record<Exclude<BodyFormat, 'auto'>, TemplateEscape> = {
  json: 'json',
  xml: 'xml',
  form: 'url',
  text: 'none',
};

const CONTENT_TYPE_OF: Record<Exclude<BodyFormat, 'auto'>, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  form: 'application/x-www-form-urlencoded; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

/** `Retry-After` as milliseconds (delta seconds or an HTTP date), or undefined. */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function parseHeaderLines(text: string, into: Record<string, string>): void {
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) into[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
}

/** The `scheme://host[:port]` every rendering of the template starts with, when it is fixed. */
function staticOrigin(t: CompiledTemplate): string | undefined {
  const first = t.parts[0];
  if (!first || first.kind !== 'text') return undefined;
  const m = /^(https?:\/\/[^/?#[\]{}]+)[/?#]/i.exec(first.text);
  if (!m?.[1]) return undefined;
  try {
    return new URL(m[1]).origin;
  } catch {
    return undefined;
  }
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_NOT_YET_VALID',
]);

/** Reason and permanence of a request that got no answer. */
function classifyError(err: unknown): { reason: string; permanent: boolean } {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  if (e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError)
    return { reason: 'provider timeout', permanent: false };
  if (e instanceof undiciErrors.ConnectTimeoutError) return { reason: 'connect timeout', permanent: false };
  if (e instanceof undiciErrors.RequestAbortedError || e.name === 'AbortError')
    return { reason: 'request aborted', permanent: false };
  const code = e.code ?? e.cause?.code;
  if (code && TLS_CODES.has(code)) return { reason: `TLS certificate rejected: ${code}`, permanent: false };
  // An invalid URL built from the template can never succeed: permanent.
  if (e instanceof undiciErrors.InvalidArgumentError || e instanceof TypeError)
    return { reason: `invalid request: ${e.message.slice(0, 120)}`, permanent: true };
  // Only the code: undici's messages may carry the address, never credentials, but keep it short.
  return { reason: `connection error: ${code ?? e.name}`, permanent: false };
}

/**
 * Sends a message with one HTTP(S) request built from the gateway's templates, on a keep-alive
 * pool. Connection errors, timeouts, 5xx and 429 are temporary (retried, 429's Retry-After
 * reported); the answer is classified by `smssuccessstring`/`smsfailstring` or guessed from the
 * status and common provider answers.
 */
export class HttpTransport implements Transport {
  private readonly url: CompiledTemplate;
  private readonly body: CompiledTemplate | undefined;
  private readonly bodyEscape: TemplateEscape;
  private readonly contentType: string | undefined;
  private readonly headerTemplate: CompiledTemplate | undefined;
  /** Headers without keywords are built once. */
  private readonly staticHeaders: Record<string, string> | undefined;
  private readonly method: 'GET' | 'POST';
  private readonly dispatcher: Dispatcher;
  /** Set when every URL has the same origin: requests go to a Pool with a path (no URL parse). */
  private readonly origin: string | undefined;
  private readonly responseTimeoutMs: number;
  private readonly sqlParts: PreparedSql[];
  private readonly sqlCache = new SqlCache();
  private closed: Promise<void> | undefined;

  constructor(private readonly cfg: HttpGatewayConfig) {
    this.url = compileTemplate(cfg.url);
    this.body = cfg.body ? compileTemplate(cfg.body) : undefined;
    const format: Exclude<BodyFormat, 'auto'> =
      !cfg.bodyFormat || cfg.bodyFormat === 'auto' ? guessBodyFormat(cfg.body ?? '') : cfg.bodyFormat;
    this.bodyEscape = ESCAPE_OF[format];
    this.method = cfg.method ?? (this.body ? 'POST' : 'GET');
    this.contentType = this.method === 'POST' ? CONTENT_TYPE_OF[format] : undefined;
    this.headerTemplate = cfg.headers ? compileTemplate(cfg.headers) : undefined;
    if (this.headerTemplate && this.headerTemplate.parts.every((p) => p.kind === 'text')) {
      this.staticHeaders = {};
      parseHeaderLines(cfg.headers ?? '', this.staticHeaders);
      this.headerTemplate = undefined;
    }
    this.sqlParts = [this.url, this.body, this.headerTemplate].flatMap((t) =>
      t ? t.sql.map(prepareSql) : [],
    );
    this.responseTimeoutMs = cfg.responseTimeoutMs ?? 10_000;
    this.origin = staticOrigin(this.url);
    const connections = cfg.maxParallel ?? 64;
    const connect = { timeout: cfg.connectTimeoutMs ?? 5_000, rejectUnauthorized: !cfg.insecureTls };
    const common = {
      connections,
      keepAliveTimeout: 30_000,
      headersTimeout: this.responseTimeoutMs,
      bodyTimeout: this.responseTimeoutMs,
      connect,
    };
    this.dispatcher = this.origin ? new Pool(this.origin, common) : new Agent(common);
  }

  /** Whether the templates need a SQL runner (`{SELECT ...}`) that was not given. */
  get missingSqlRunner(): boolean {
    return this.sqlParts.length > 0 && !this.cfg.sql;
  }

  async send(msg: OutboundSms, signal?: AbortSignal): Promise<SubmitResult> {
    const r =
      this.cfg.splitLong && msg.segments > 1
        ? await this.sendParts(msg, signal)
        : await this.sendText(msg, msg.text, msg.segments, signal);
    // The provider posts delivery reports to /dlr/{id}: the verifier waits for them (by id).
    if (r.ok && this.cfg.awaitReceipt && r.providerMessageId) {
      const partIds = r.providerMessageId.split(',');
      return { ...r, awaitReceipt: true, ...(partIds.length > 1 ? { partIds } : {}) };
    }
    return r;
  }

  /** One request per segment; all must succeed. Provider ids are joined with `,`. */
  private async sendParts(msg: OutboundSms, signal?: AbortSignal): Promise<SubmitResult> {
    const parts = analyzeText(msg.text).segments;
    const ids: string[] = [];
    let answer = '';
    let latencyMs = 0;
    for (const part of parts) {
      const r = await this.sendText(msg, part.text, part.index, signal);
      latencyMs += r.latencyMs;
      if (!r.ok) return { ...r, reason: `part ${part.index}/${parts.length}: ${r.reason}`, latencyMs };
      if (r.providerMessageId) ids.push(r.providerMessageId);
      answer = r.answer;
    }
    return ids.length
      ? { ok: true, providerMessageId: ids.join(','), answer, latencyMs }
      : { ok: true, answer, latencyMs };
  }

  private async sendText(
    msg: OutboundSms,
    text: string,
    smscounter: number,
    signal?: AbortSignal,
  ): Promise<SubmitResult> {
    const values: TemplateValues = {
      fromid: msg.userId,
      fromnum: msg.from,
      tonum: msg.to,
      message: text,
      smscounter,
      smsid: msg.smsid,
      gatewayid: msg.gatewayId,
      clientip: msg.clientIp,
    };
    const started = performance.now();
    let sqlValues: string[] | undefined;
    if (this.sqlParts.length) {
      try {
        sqlValues = await this.runSql(values);
      } catch (err) {
        return {
          ok: false,
          permanent: false,
          reason: `template query failed: ${(err as Error).message.slice(0, 150)}`,
          latencyMs: performance.now() - started,
        };
      }
    }
    // sqlValues are consumed in template order: url, body, headers.
    let sqlIndex = 0;
    const sqlFor = (t: CompiledTemplate): string[] | undefined => {
      if (!sqlValues || t.sql.length === 0) return undefined;
      const v = sqlValues.slice(sqlIndex, sqlIndex + t.sql.length);
      sqlIndex += t.sql.length;
      return v;
    };
    const url = this.url.render(values, 'url', sqlFor(this.url));
    const body = this.body ? this.body.render(values, this.bodyEscape, sqlFor(this.body)) : undefined;
    let headers: Record<string, string>;
    if (this.headerTemplate) {
      headers = {};
      parseHeaderLines(this.headerTemplate.render(values, 'header', sqlFor(this.headerTemplate)), headers);
    } else {
      headers = this.staticHeaders ? { ...this.staticHeaders } : {};
    }
    if (this.contentType) headers['content-type'] ??= this.contentType;

    const exchange = this.cfg.onExchange;
    try {
      let origin = this.origin;
      let reqPath: string;
      if (origin && url.startsWith(origin)) reqPath = url.slice(origin.length) || '/';
      else {
        const u = new URL(url);
        origin = u.origin;
        reqPath = u.pathname + u.search;
        // `https://user:pass@host/...`: the provider expects HTTP Basic authentication.
        if ((u.username || u.password) && headers['authorization'] === undefined)
          headers['authorization'] =
            `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      }
      const res = await this.exchange(
        origin,
        reqPath,
        headers,
        this.method === 'POST' ? (body ?? '') : undefined,
        signal,
      );
      const answerText = res.body;
      const latencyMs = performance.now() - started;
      exchange?.({
        method: this.method,
        url,
        headers,
        body,
        status: res.statusCode,
        responseHeaders: res.headers,
        answer: answerText,
        latencyMs,
      });
      const verdict = classifyHttpAnswer({
        status: res.statusCode,
        body: answerText,
        successString: this.cfg.successString || undefined,
        failString: this.cfg.failString || undefined,
        idRegex: this.cfg.idRegex || undefined,
      });
      const answer = answerText.length > ANSWER_MAX ? answerText.slice(0, ANSWER_MAX) : answerText;
      if (verdict.ok) {
        return verdict.providerMessageId !== undefined
          ? { ok: true, providerMessageId: verdict.providerMessageId, answer, latencyMs }
          : { ok: true, answer, latencyMs };
      }
      const failed: SubmitResult = {
        ok: false,
        permanent: verdict.permanent,
        reason: verdict.reason,
        answer,
        latencyMs,
      };
      if (!verdict.permanent) {
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        if (retryAfterMs !== undefined) failed.retryAfterMs = retryAfterMs;
        // 429 Too Many Requests: not taken, slow down (the dispatcher resends without burning an attempt).
        if (res.statusCode === 429) failed.throttled = true;
      }
      return failed;
    } catch (err) {
      const latencyMs = performance.now() - started;
      const { reason, permanent } = classifyError(err);
      exchange?.({ method: this.method, url, headers, body, error: reason, latencyMs });
      return { ok: false, permanent, reason, latencyMs };
    }
  }

  /**
   * One request through the pool's raw dispatch API: the answer is collected into a string
   * without the Readable stream `request()` builds per response (measurably cheaper per message).
   */
  private exchange(
    origin: string,
    reqPath: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RawAnswer> {
    return new Promise<RawAnswer>((resolve, reject) => {
      let status = 0;
      let resHeaders: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      let size = 0;
      let ctrl: Dispatcher.DispatchController | undefined;
      const onAbort = () =>
        ctrl?.abort((signal?.reason as Error | undefined) ?? new Error('request aborted'));
      if (signal) {
        if (signal.aborted) {
          reject(signal.reason as Error);
          return;
        }
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.dispatcher.dispatch(
        {
          origin,
          path: reqPath,
          method: this.method,
          headers,
          body,
          headersTimeout: this.responseTimeoutMs,
          bodyTimeout: this.responseTimeoutMs,
        },
        {
          onRequestStart(controller) {
            ctrl = controller;
          },
          onResponseStart(_c, statusCode, h) {
            status = statusCode;
            resHeaders = h;
          },
          onResponseData(_c, chunk) {
            // Answers are short; a huge one is cut, never buffered whole.
            if (size < ANSWER_BUFFER_MAX) {
              chunks.push(chunk);
              size += chunk.length;
            }
          },
          onResponseEnd() {
            done();
            const text =
              chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
            resolve({ statusCode: status, headers: resHeaders, body: text });
          },
          onResponseError(_c, err) {
            done();
            reject(err);
          },
        },
      );
    });
  }

  private async runSql(values: TemplateValues): Promise<string[]> {
    const run = this.cfg.sql;
    if (!run) throw new Error('no database for {SELECT ...} placeholders');
    const timeoutMs = this.cfg.sqlTimeoutMs ?? 2_000;
    return Promise.all(
      this.sqlParts.map((p) => {
        const params = sqlParams(p, values);
        return this.sqlCache.get(`${p.sql}\u0000${params.join('\u0000')}`, () =>
          run(p.sql, params, timeoutMs),
        );
      }),
    );
  }

  close(): Promise<void> {
    this.closed ??= this.dispatcher.close().catch(() => undefined);
    return this.closed;
  }

  /** Aborts in-flight requests (shutdown deadline passed). */
  destroy(): Promise<void> {
    return this.dispatcher.destroy().catch(() => undefined);
  }
}
