import { Agent, request, errors as undiciErrors } from 'undici';
import {
  classifyHttpAnswer,
  compileTemplate,
  type CompiledTemplate,
  type OutboundSms,
  type SubmitResult,
  type TemplateValues,
  type Transport,
} from '@smsfleet/core';

export interface HttpGatewayConfig {
  /** The `smsurl` template (`[tonum]`, `[message]` ... keywords). */
  url: string;
  /** POST body template (`smssenddata`); GET when absent. */
  body?: string;
  /** Header lines template (`smssendheader`), `Name: value` per line. */
  headers?: string;
  successString?: string;
  failString?: string;
  /** Keep-alive connections per origin, which is also the cap of parallel requests. */
  maxParallel?: number;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
}

function bodyEscape(body: string): 'json' | 'xml' | 'url' {
  const t = body.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) return 'json';
  if (t.startsWith('<')) return 'xml';
  return 'url';
}

function contentTypeFor(escape: 'json' | 'xml' | 'url'): string {
  if (escape === 'json') return 'application/json';
  if (escape === 'xml') return 'application/xml';
  return 'application/x-www-form-urlencoded';
}

/**
 * Sends a message with one HTTP request built from the gateway's templates, on a keep-alive pool.
 * Connection errors and timeouts are temporary failures (retried); the answer is classified by
 * `smssuccessstring`/`smsfailstring` or guessed from the status and common provider answers.
 */
export class HttpTransport implements Transport {
  private readonly url: CompiledTemplate;
  private readonly body: CompiledTemplate | undefined;
  private readonly bodyEscape: 'json' | 'xml' | 'url';
  private readonly headers: CompiledTemplate | undefined;
  private readonly agent: Agent;
  private closed: Promise<void> | undefined;

  constructor(private readonly cfg: HttpGatewayConfig) {
    this.url = compileTemplate(cfg.url);
    this.body = cfg.body ? compileTemplate(cfg.body) : undefined;
    this.bodyEscape = cfg.body ? bodyEscape(cfg.body) : 'url';
    this.headers = cfg.headers ? compileTemplate(cfg.headers) : undefined;
    this.agent = new Agent({
      connections: cfg.maxParallel ?? 64,
      keepAliveTimeout: 30_000,
      connect: { timeout: cfg.connectTimeoutMs ?? 5_000 },
    });
  }

  async send(msg: OutboundSms, signal?: AbortSignal): Promise<SubmitResult> {
    const values: TemplateValues = {
      fromid: msg.userId,
      fromnum: msg.from,
      tonum: msg.to,
      message: msg.text,
      smscounter: msg.segments,
      smsid: msg.smsid,
      gatewayid: msg.gatewayId,
      clientip: msg.clientIp,
    };
    const url = this.url.render(values, 'url');
    const headers: Record<string, string> = {};
    if (this.headers) {
      for (const line of this.headers.render(values, 'none').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
    }
    let body: string | undefined;
    if (this.body) {
      body = this.body.render(values, this.bodyEscape);
      headers['content-type'] ??= contentTypeFor(this.bodyEscape);
    }
    const started = performance.now();
    try {
      const res = await request(url, {
        dispatcher: this.agent,
        method: body === undefined ? 'GET' : 'POST',
        headers,
        body,
        headersTimeout: this.cfg.responseTimeoutMs ?? 10_000,
        bodyTimeout: this.cfg.responseTimeoutMs ?? 10_000,
        signal,
      });
      const text = await res.body.text();
      const latencyMs = performance.now() - started;
      const verdict = classifyHttpAnswer({
        status: res.statusCode,
        body: text,
        successString: this.cfg.successString || undefined,
        failString: this.cfg.failString || undefined,
      });
      const answer = text.length > 500 ? text.slice(0, 500) : text;
      if (verdict.ok) return { ok: true, providerMessageId: verdict.providerMessageId, answer, latencyMs };
      return { ok: false, permanent: verdict.permanent, reason: verdict.reason, answer, latencyMs };
    } catch (err) {
      const latencyMs = performance.now() - started;
      const e = err as Error & { code?: string };
      const reason =
        e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError
          ? 'provider timeout'
          : `connection error: ${e.code ?? e.message}`;
      // An invalid URL built from the template can never succeed: permanent.
      const permanent = e instanceof undiciErrors.InvalidArgumentError || e instanceof TypeError;
      return { ok: false, permanent, reason, latencyMs };
    }
  }

  close(): Promise<void> {
    this.closed ??= this.agent.close().catch(() => undefined);
    return this.closed;
  }
}
