import { seededRandom } from '@smsfleet/core';
import { caseBytes, nextCase, type FuzzCredentials, type HttpCase, type Target } from './http-cases.js';
import { RawConnection, type RawResult } from './raw-http.js';

export interface HttpFuzzOptions {
  /** Base URL of the api-gateway, e.g. `http://127.0.0.1:8084`. */
  url: string;
  count: number;
  /** Connections working in parallel (keep-alive, one request at a time each). */
  concurrency?: number;
  /** Same seed, same cases. */
  seed?: string;
  credentials: FuzzCredentials;
  /** Per request (default 35 s: longer than any server-side wait). */
  timeoutMs?: number;
  /** Called about every `progressEveryMs` (default 5 s). */
  onProgress?: (s: HttpFuzzReport) => void;
  progressEveryMs?: number;
  /** Failures kept with their request for the report (default 20). */
  keepFailures?: number;
}

export interface FuzzFailure {
  kind: string;
  method: string;
  path: string;
  status?: number;
  reason: string;
  answer: string;
}

/** What the answers were: every one is either fine (a clear refusal) or a failure. */
export type Verdict =
  | 'error-text' // `ERROR <reason>` (Mizu style), or {"status":"ERROR"} with format=json
  | 'problem' // application/problem+json
  | 'read' // a 2xx JSON answer of a read-only /v1 GET (no send)
  | 'protocol' // Node's own 4xx to a request with broken HTTP framing
  | 'no-body' // HEAD / OPTIONS answers (no body to judge), < 500
  | 'accepted' // failure: the server took it as a valid send, MO or report
  | '5xx' // failure
  | 'unclear' // failure: neither an ERROR text nor a problem document
  | 'no-answer'; // failure: timeout or closed without an answer

export const FAILURE_VERDICTS: readonly Verdict[] = ['accepted', '5xx', 'unclear', 'no-answer'];

export interface HttpFuzzReport {
  requests: number;
  durationMs: number;
  reqPerSec: number;
  byStatus: Record<string, number>;
  byVerdict: Partial<Record<Verdict, number>>;
  byTarget: Partial<Record<Target, number>>;
  /** Requests carrying credentials that pass authentication (each with a poison). */
  authed: number;
  failures: number;
  samples: FuzzFailure[];
}

function snippet(b: Buffer): string {
  return b.toString('utf8', 0, Math.min(b.length, 160)).replace(/\s+/g, ' ');
}

/** Judges one answer: a clear refusal is fine, anything else is a failure with its reason. */
export function judge(c: HttpCase, r: RawResult): { verdict: Verdict; reason?: string } {
  if (!r.ok) {
    // Node may just close a connection whose bytes are not HTTP at all.
    if (c.protocol && /closed/.test(r.error)) return { verdict: 'protocol' };
    return { verdict: 'no-answer', reason: r.error };
  }
  const { status, headers, body } = r.response;
  if (status >= 500) return { verdict: '5xx', reason: `HTTP ${status}` };
  if (c.protocol && status >= 400) return { verdict: 'protocol' };
  if (c.method === 'HEAD' || (c.method === 'OPTIONS' && status < 300)) return { verdict: 'no-body' };
  const ct = (headers.get('content-type') ?? '').toLowerCase();
  const text = body.toString('utf8');
  if (ct.startsWith('application/problem+json')) {
    try {
      const p = JSON.parse(text) as { status?: unknown; title?: unknown; detail?: unknown };
      if (p.status === status && typeof p.title === 'string' && typeof p.detail === 'string')
        return status >= 200 && status < 300
          ? { verdict: 'accepted', reason: 'a 2xx problem document' }
          : { verdict: 'problem' };
      return { verdict: 'unclear', reason: 'problem document without status/title/detail' };
    } catch {
      return { verdict: 'unclear', reason: 'problem document is not JSON' };
    }
  }
  if (/^ERROR \S/.test(text)) return { verdict: 'error-text' };
  if (ct.startsWith('application/json')) {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      return { verdict: 'unclear', reason: 'JSON answer that does not parse' };
    }
    const st = (j as { status?: unknown } | null)?.status;
    if (st === 'ERROR') return { verdict: 'error-text' };
    if (st === 'OK') return { verdict: 'accepted', reason: 'answered OK' };
    // GET / is the service description, not the MO callback (POST /).
    const serviceInfo = c.target === 'inbound' && c.method === 'GET' && /^\/\/?(\?|$)/.test(c.path);
    if (serviceInfo && status === 200) return { verdict: 'read' };
    const readOnly = c.target === 'v1' && c.method === 'GET' && status >= 200 && status < 300;
    if (readOnly && !/^\/v1\/(messages|batches)\/?(\?|$)/.test(c.path)) return { verdict: 'read' };
    return { verdict: status < 300 ? 'accepted' : 'unclear', reason: `JSON answer ${status}` };
  }
  if (/^OK\b/.test(text)) return { verdict: 'accepted', reason: 'answered OK' };
  return { verdict: 'unclear', reason: `HTTP ${status} ${ct || 'no content type'}` };
}

/**
 * Sends `count` generated cases with `concurrency` keep-alive connections and judges every
 * answer. The report's `failures` must be 0; the caller checks the sinks (nothing queued).
 */
export async function runHttpFuzz(opts: HttpFuzzOptions): Promise<HttpFuzzReport> {
  const u = new URL(opts.url);
  const host = u.hostname;
  const port = Number(u.port || 80);
  const rng = seededRandom(opts.seed ?? 'smsfleet-fuzz');
  const timeoutMs = opts.timeoutMs ?? 35_000;
  const keep = opts.keepFailures ?? 20;
  const report: HttpFuzzReport = {
    requests: 0,
    durationMs: 0,
    reqPerSec: 0,
    byStatus: {},
    byVerdict: {},
    byTarget: {},
    authed: 0,
    failures: 0,
    samples: [],
  };
  const started = Date.now();
  let issued = 0;
  const progress = opts.onProgress
    ? setInterval(() => {
        report.durationMs = Date.now() - started;
        report.reqPerSec = Math.round((report.requests * 1000) / Math.max(1, report.durationMs));
        opts.onProgress?.(report);
      }, opts.progressEveryMs ?? 5000)
    : undefined;

  const worker = async () => {
    const conn = new RawConnection(host, port);
    try {
      while (issued < opts.count) {
        issued++;
        const c = nextCase(rng, opts.credentials);
        const r = await conn.request(caseBytes(c, `${host}:${port}`), {
          isHead: c.method === 'HEAD',
          timeoutMs,
          fresh: c.protocol,
        });
        if (c.protocol) conn.reset();
        const { verdict, reason } = judge(c, r);
        report.requests++;
        report.byTarget[c.target] = (report.byTarget[c.target] ?? 0) + 1;
        report.byVerdict[verdict] = (report.byVerdict[verdict] ?? 0) + 1;
        const st = r.ok ? String(r.response.status) : 'none';
        report.byStatus[st] = (report.byStatus[st] ?? 0) + 1;
        if (c.authed) report.authed++;
        if (FAILURE_VERDICTS.includes(verdict)) {
          report.failures++;
          if (report.samples.length < keep)
            report.samples.push({
              kind: c.kind,
              method: c.method,
              path: c.path.slice(0, 200),
              ...(r.ok ? { status: r.response.status } : {}),
              reason: reason ?? verdict,
              answer: r.ok ? snippet(r.response.body) : '',
            });
        }
      }
    } finally {
      conn.close();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 32) }, worker));
  } finally {
    if (progress) clearInterval(progress);
  }
  report.durationMs = Date.now() - started;
  report.reqPerSec = Math.round((report.requests * 1000) / Math.max(1, report.durationMs));
  return report;
}

/** The report as text lines (the CLI prints them). */
export function formatHttpReport(r: HttpFuzzReport): string[] {
  const kv = (o: Record<string, number | undefined>) =>
    Object.entries(o)
      .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  const lines = [
    `requests ${r.requests} in ${(r.durationMs / 1000).toFixed(1)} s = ${r.reqPerSec} req/s; ${r.authed} with valid credentials (each poisoned)`,
    `targets: ${kv(r.byTarget)}`,
    `status: ${kv(r.byStatus)}`,
    `answers: ${kv(r.byVerdict)}`,
    `failures: ${r.failures}`,
  ];
  for (const s of r.samples)
    lines.push(
      `  FAIL ${s.kind} ${s.method} ${JSON.stringify(s.path)} -> ${s.status ?? '-'} ${s.reason}: ${s.answer}`,
    );
  return lines;
}
