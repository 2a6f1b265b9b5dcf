/**
 * Sends an SMS through the api-gateway's Mizu API as the SIP user: `authkey` (the server key,
 * `apiv2key`) with `authid`=user and `asuser=1`, so the user's own rights, credit, routing and CDR
 * apply exactly as if the user had called the API. The entry is `sendsms` (the end users' async
 * entry): `asendsms` is for admins, and with `asuser=1` an end user is not one.
 */
export type SendOutcome =
  | { ok: true; smsid: string }
  | { ok: false; status: number; reason: string; detail: string; retryAfterS?: number };

export interface MizuClientOptions {
  /** The api-gateway's Mizu endpoint, e.g. http://127.0.0.1:8084/mvapireq/ */
  url: string;
  timeoutMs: number;
}

interface MizuJson {
  status?: string;
  smsid?: string;
  code?: string;
  error?: string;
}

/** The SIP answer for a Mizu `ERROR` code (mizu-answer.ts in the api-gateway). */
export function sipStatusForMizuError(code: string): { status: number; reason: string } {
  switch (code) {
    case 'AUTH':
    case 'USER_NOT_FOUND':
      return { status: 403, reason: 'Forbidden' };
    case 'NOT_ALLOWED':
      return { status: 403, reason: 'SMS Not Allowed' };
    case 'NO_CREDIT':
      return { status: 403, reason: 'Insufficient Credit' };
    case 'MISSING_NUMBER':
      return { status: 404, reason: 'Not Found' };
    case 'BAD_REQUEST':
      return { status: 488, reason: 'Not Acceptable Here' };
    case 'DISABLED':
    case 'NO_GATEWAY':
    case 'UNAVAILABLE':
      return { status: 503, reason: 'Service Unavailable' };
    case 'TIMEOUT':
      return { status: 504, reason: 'Server Time-out' };
    default:
      return { status: 500, reason: 'Server Internal Error' };
  }
}

export class MizuClient {
  constructor(private readonly opts: MizuClientOptions) {}

  async send(p: { apiKey: string; user: string; to: string; text: string }): Promise<SendOutcome> {
    if (!p.apiKey)
      return {
        ok: false,
        status: 503,
        reason: 'Service Unavailable',
        detail: 'apiv2key is not configured: the SIP front cannot use the send API',
      };
    const body = new URLSearchParams({
      apientry: 'sendsms',
      authkey: p.apiKey,
      authid: p.user,
      asuser: '1',
      bnum: p.to,
      txt: p.text,
      format: 'json',
    });
    let res: Response;
    try {
      res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: body.toString(),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      return {
        ok: false,
        status: 503,
        reason: 'Service Unavailable',
        detail: `api-gateway unreachable: ${(err as Error).message}`,
        retryAfterS: 5,
      };
    }
    const text = await res.text().catch(() => '');
    let j: MizuJson | undefined;
    try {
      j = JSON.parse(text) as MizuJson;
    } catch {
      j = undefined;
    }
    if (j?.status === 'OK' && j.smsid) return { ok: true, smsid: j.smsid };
    if (j?.status === 'ERROR') {
      // A target the send path cannot take as a number (sendsmsmessages=3): not found, as SIP says.
      const m = /invalid target number/.test(j.error ?? '')
        ? { status: 404, reason: 'Not Found' }
        : sipStatusForMizuError(j.code ?? '');
      return { ok: false, ...m, detail: j.error ?? j.code ?? 'error' };
    }
    return {
      ok: false,
      status: res.status >= 500 ? 503 : 500,
      reason: res.status >= 500 ? 'Service Unavailable' : 'Server Internal Error',
      detail: `unexpected api-gateway answer (HTTP ${res.status})`,
    };
  }
}
