import type { GatewaySettings, Transport } from '@smsfleet/core';
import type { ConfigSnapshot } from '@smsfleet/config';
import {
  HttpTransport,
  type HttpExchange,
  type HttpGatewayConfig,
  type TemplateSqlRunner,
} from '@smsfleet/http-transport';
import { ExecTransport, type ExecExchange } from '@smsfleet/exec-transport';
import type { SendFiles } from './send-files.js';
import { createSmppTransport, isSmppUrl, type SmppContext } from './smpp-gateway.js';

export interface GatewayDefinition {
  id: number;
  name: string;
  url: string;
}

/** What HTTP and executable gateways need beyond the URL. All optional: tests build bare ones. */
export interface TransportExtras {
  settings?: GatewaySettings;
  files?: Pick<SendFiles, 'ownData' | 'ownHeader' | 'sharedData' | 'sharedHeader'>;
  sql?: TemplateSqlRunner;
  onHttpExchange?: (e: HttpExchange) => void;
  onExecExchange?: (e: ExecExchange) => void;
  /** SMPP gateways: bind leases and the segment rate across replicas, receipts and MO out. */
  smpp?: SmppContext;
}

/**
 * POST data / headers of a gateway, most specific first: its own setting, its `_ID` file, the
 * global config key, the shared file. An empty setting does not hide the next source.
 */
export function resolveTemplates(
  gw: GatewayDefinition,
  cfg: ConfigSnapshot,
  x: TransportExtras,
): { body?: string; headers?: string } {
  const s = x.settings ?? {};
  const f = x.files;
  const body = s.smssenddata || f?.ownData(gw.id) || cfg.smssenddata || f?.sharedData() || undefined;
  const headers =
    s.smssendheader || f?.ownHeader(gw.id) || cfg.smssendheader || f?.sharedHeader() || undefined;
  return { ...(body ? { body } : {}), ...(headers ? { headers } : {}) };
}

export function httpConfig(
  gw: GatewayDefinition,
  cfg: ConfigSnapshot,
  maxParallel: number,
  x: TransportExtras = {},
): HttpGatewayConfig {
  const s = x.settings ?? {};
  return {
    gatewayId: gw.id,
    url: gw.url.trim(),
    ...resolveTemplates(gw, cfg, x),
    method: s.method,
    bodyFormat: s.bodyFormat,
    successString: s.smssuccessstring || cfg.smssuccessstring || undefined,
    failString: s.smsfailstring || cfg.smsfailstring || undefined,
    idRegex: s.idRegex,
    maxParallel: s.maxParallel ?? maxParallel,
    connectTimeoutMs: s.connectTimeoutMs,
    responseTimeoutMs: s.responseTimeoutMs,
    insecureTls: s.insecureTls ?? false,
    splitLong: s.splitLong ?? false,
    sql: x.sql,
    sqlTimeoutMs: s.sqlTimeoutMs,
    onExchange: x.onHttpExchange,
    awaitReceipt: s.awaitDlr ?? false,
  };
}

/**
 * Builds the transport of a gateway from its URL (`smsurl` style): an HTTP(S) template, SMPP, or
 * an executable path.
 */
export function createTransport(
  gw: GatewayDefinition,
  cfg: ConfigSnapshot,
  maxParallel: number,
  extras: TransportExtras = {},
): Transport | { error: string } {
  const url = gw.url.trim();
  if (/^https?:\/\//i.test(url)) {
    const t = new HttpTransport(httpConfig(gw, cfg, maxParallel, extras));
    if (t.missingSqlRunner) {
      void t.close();
      return { error: 'the templates use {SELECT ...} but no database is available' };
    }
    return t;
  }
  if (isSmppUrl(url)) return createSmppTransport(gw, cfg, extras.smpp);
  if (!url) return { error: 'the gateway has no URL' };
  if (url.startsWith('/') || url.startsWith('./')) {
    const s = extras.settings ?? {};
    try {
      return new ExecTransport({
        command: url,
        timeoutMs: s.execTimeoutMs,
        successString: s.smssuccessstring || cfg.smssuccessstring || undefined,
        failString: s.smsfailstring || cfg.smsfailstring || undefined,
        idRegex: s.idRegex,
        onExchange: extras.onExecExchange,
      });
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  return { error: 'the gateway URL is neither http(s)://, SMPP; nor an executable path' };
}
