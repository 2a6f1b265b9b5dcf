import type http from 'node:http';
import { countSegments, newSmsId, type OutboundSms } from '@smsfleet/core';
import type { ConfigSnapshot } from '@smsfleet/config';
import type { Logger } from '@smsfleet/runtime';
import { authenticate, type AuthDeps } from './auth.js';
import type { AcceptPipeline } from './accept-pipeline.js';
import { errorAnswer, MizuError, okAnswer, type MizuAnswer } from './mizu-answer.js';
import { param, parseMizuParams, type MizuParams } from './mizu-params.js';
import type { GatewayRef } from './gateway-choice.js';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_SEGMENTS = 255;
/** `bnum` may list several recipients separated by `,` or `;` (as SMPP `recipients`). */
const MAX_RECIPIENTS = 1000;

export interface MizuRouteDeps {
  config(): ConfigSnapshot;
  auth: Omit<AuthDeps, 'apiv2key'>;
  chooseGateway(cfg: ConfigSnapshot): GatewayRef | undefined;
  pipeline: AcceptPipeline;
  log: Logger;
  onAccepted?(msg: OutboundSms): void;
  onError?(code: string): void;
}

/** Normalises a phone number: spaces, dashes, dots and brackets go; an optional leading +, digits. */
export function normaliseNumber(raw: string): string | undefined {
  const n = raw.replace(/[\s\-().]/g, '');
  return /^\+?\d{3,20}$/.test(n) ? n : undefined;
}

/** A sender is a number or an alphanumeric id of at most 11 characters (GSM rule). */
export function normaliseSender(raw: string): string | undefined {
  const s = raw.trim();
  if (s === '') return '';
  const num = normaliseNumber(s);
  if (num) return num;
  return /^[A-Za-z0-9 ._-]{1,11}$/.test(s) ? s : undefined;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const method = req.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      req.resume();
      resolve('');
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new MizuError('BAD_REQUEST', 'request body too large'));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * The Mizu API `/mvapireq/` on bare node:http: the hot send path pays for no middleware chain.
 */
export function createMizuHandler(
  deps: MizuRouteDeps,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const send = (res: http.ServerResponse, a: MizuAnswer) => {
    res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': Buffer.byteLength(a.body) });
    res.end(a.body);
  };

  const asendsms = async (p: MizuParams, clientIp: string, cfg: ConfigSnapshot): Promise<OutboundSms[]> => {
    if (!cfg.enablesms) throw new MizuError('DISABLED', 'SMS is disabled on this server (enablesms=false)');
    const principal = await authenticate(p, { ...deps.auth, apiv2key: cfg.apiv2key });
    if (!principal.admin) throw new MizuError('NOT_ALLOWED', 'asendsms is for admins; end users use sendsms');
    const rawTo = param(p, 'bnum', 'bnun', 'to');
    if (rawTo === undefined || rawTo.trim() === '')
      throw new MizuError('MISSING_NUMBER', 'missing target number (bnum or to)');
    const rawList = rawTo.split(/[,;]/).filter((s) => s.trim() !== '');
    if (rawList.length > MAX_RECIPIENTS)
      throw new MizuError('BAD_REQUEST', `too many recipients (at most ${MAX_RECIPIENTS})`);
    const numbers: string[] = [];
    for (const raw of rawList) {
      const to = normaliseNumber(raw);
      if (!to) throw new MizuError('BAD_REQUEST', `invalid target number: ${raw.trim().slice(0, 32)}`);
      numbers.push(to);
    }
    if (numbers.length === 0) throw new MizuError('MISSING_NUMBER', 'missing target number (bnum or to)');
    const from = normaliseSender(param(p, 'anum', 'from') ?? '');
    if (from === undefined) throw new MizuError('BAD_REQUEST', 'invalid sender (anum or from)');
    const message = param(p, 'message', 'txt') ?? '';
    if (message.trim() === '') throw new MizuError('BAD_REQUEST', 'empty message');
    const text = cfg.smssignature ? `${message}${cfg.smssignature}` : message;
    const count = countSegments(text);
    if (count.segments > MAX_SEGMENTS)
      throw new MizuError(
        'BAD_REQUEST',
        `message too long (${count.segments} segments, at most ${MAX_SEGMENTS})`,
      );
    const gw = deps.chooseGateway(cfg);
    if (!gw)
      throw new MizuError('NO_GATEWAY', 'no SMS gateway configured (set smsurl or add an SMS GW user)');
    const acceptedAt = Date.now();
    return numbers.map((to) => ({
      smsid: newSmsId(),
      userId: principal.userId,
      gatewayId: gw.id,
      from,
      to,
      text,
      encoding: count.encoding,
      segments: count.segments,
      clientIp,
      acceptedAt,
    }));
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
        const cfg = deps.config();
        strict = cfg.httpstrictresponse;
        const body = await readBody(req);
        let p: MizuParams;
        try {
          p = parseMizuParams(query, body, req.headers['content-type']);
        } catch (err) {
          throw new MizuError('BAD_REQUEST', (err as Error).message);
        }
        json = param(p, 'format')?.toLowerCase() === 'json';
        const entry = (param(p, 'apientry') ?? '').toLowerCase();
        if (entry === '') throw new MizuError('UNKNOWN_ENTRY', 'missing apientry');
        if (entry !== 'asendsms')
          throw new MizuError('UNKNOWN_ENTRY', `unknown apientry: ${entry.slice(0, 40)}`);
        const msgs = await asendsms(p, clientIp, cfg);
        try {
          await (msgs.length === 1 ? deps.pipeline.accept(msgs[0]!) : deps.pipeline.acceptMany(msgs));
        } catch (err) {
          deps.log.error({ err: (err as Error).message }, 'enqueue failed');
          throw new MizuError('UNAVAILABLE', 'the message could not be queued, try again');
        }
        for (const msg of msgs) {
          deps.onAccepted?.(msg);
          deps.log.info(
            { smsid: msg.smsid, gatewayId: msg.gatewayId, state: 'accepted', userId: msg.userId },
            'sms state',
          );
        }
        send(
          res,
          msgs.length === 1
            ? okAnswer({ smsid: msgs[0]!.smsid }, json)
            : okAnswer({ smsids: msgs.map((m) => m.smsid) }, json),
        );
      } catch (err) {
        const e =
          err instanceof MizuError
            ? err
            : (deps.log.error({ err: (err as Error).message }, 'mvapireq failed'),
              new MizuError('FAILED', 'internal error'));
        deps.onError?.(e.code);
        if (!res.headersSent) send(res, errorAnswer(e, json, strict));
      }
    })();
  };
}
