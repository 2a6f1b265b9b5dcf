import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import {
  classifyVerifyAnswer,
  extractInboundField,
  ipAllowed,
  parseIpAllowList,
  type GatewaySettings,
  type ReceiptEvent,
  type SmsState,
} from '@smsfleet/core';
import { GatewaySettingsRepo } from '@smsfleet/db';
import type { ApiContext } from './api-context.js';
import { parseMizuParams } from './mizu-params.js';

const STAT_WORD: Partial<Record<SmsState | 'pending', string>> = {
  delivered: 'DELIVRD',
  undelivered: 'UNDELIV',
  expired: 'EXPIRED',
  rejected: 'REJECTD',
  unknown: 'UNKNOWN',
  pending: 'ENROUTE',
};

const ID_PARAMS = ['messageid', 'message_id', 'msgid', 'id', 'smsid', 'apimsgid', 'mid'];
const STATUS_PARAMS = ['status', 'stat', 'state', 'dlr', 'deliverystatus', 'dlr_status'];

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Delivery reports of HTTP providers: `GET|POST /dlr/{gatewayId}`. The gateway's settings say
 * where the id and status are (a parameter name or smsreceive-style markers) and who may post
 * (address allowlist and/or shared secret; with neither, reports are refused). A report becomes an
 * `sms.receipt` event that the verifier correlates like an SMPP receipt.
 */
export function dlrRoutes(router: express.Router, ctx: ApiContext): void {
  const repo = new GatewaySettingsRepo(ctx.db);
  const cache = new Map<number, { s: GatewaySettings; until: number }>();
  const settingsOf = async (id: number) => {
    const hit = cache.get(id);
    if (hit && hit.until > Date.now()) return hit.s;
    const s = await repo.get(id);
    cache.set(id, { s, until: Date.now() + 5000 });
    return s;
  };
  const answer = (res: express.Response, status: number, text: string) =>
    res.status(status).type('text/plain').send(text);

  router.all('/dlr/:gatewayId', express.text({ type: () => true, limit: '64kb' }), async (req, res) => {
    const gatewayId = Number(req.params.gatewayId);
    if (!Number.isInteger(gatewayId) || gatewayId < 0) return answer(res, 404, 'ERROR unknown gateway');
    const s = await settingsOf(gatewayId);
    const ip = req.socket.remoteAddress ?? '';
    if (!s.dlrAllowIp && !s.dlrSecret)
      return answer(res, 403, 'ERROR delivery reports are not enabled for this gateway');
    if (s.dlrAllowIp && !ipAllowed(parseIpAllowList(s.dlrAllowIp), ip))
      return answer(res, 403, 'ERROR address not allowed');
    const body = typeof req.body === 'string' ? req.body : '';
    const url = req.originalUrl;
    const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
    let params: Map<string, string>;
    try {
      params = parseMizuParams(query, body, req.headers['content-type']);
    } catch (err) {
      return answer(res, 400, `ERROR ${(err as Error).message}`);
    }
    if (s.dlrSecret) {
      const given = params.get('secret') ?? req.header('x-dlr-secret') ?? '';
      if (!sameSecret(given, s.dlrSecret)) return answer(res, 403, 'ERROR wrong secret');
    }
    const input = {
      params,
      query,
      body,
      bodyFormEncoded: (req.headers['content-type'] ?? '').includes('form'),
    };
    const pick = (spec: string | undefined, names: string[]) =>
      spec
        ? extractInboundField('message', spec, input)
        : names.map((n) => params.get(n)).find((v) => v !== undefined);
    const id = pick(s.dlrId, ID_PARAMS)?.trim();
    const status = pick(s.dlrStatus, STATUS_PARAMS)?.trim();
    if (!id) return answer(res, 400, 'ERROR no message id in the report');
    if (!status) return answer(res, 400, 'ERROR no status in the report');
    const verdict = classifyVerifyAnswer(200, status);
    const r: ReceiptEvent = {
      gatewayId,
      providerMessageId: id,
      stat: STAT_WORD[verdict] ?? 'UNKNOWN',
      raw: `${query}\n${body}`.slice(0, 500),
      receivedAt: Date.now(),
      source: 'http',
    };
    await ctx.bus.publish('receipt', [r]);
    return answer(res, 200, 'OK');
  });
}
