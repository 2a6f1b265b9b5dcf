import type { Transport } from '@smsfleet/core';
import type { ConfigSnapshot } from '@smsfleet/config';
import { HttpTransport } from '@smsfleet/http-transport';

export interface GatewayDefinition {
  id: number;
  name: string;
  url: string;
}

/**
 * Builds the transport of a gateway from its URL (`smsurl` style): an HTTP(S) template today;
 * SMPP and executables come with their own issues and are refused clearly until then.
 */
export function createTransport(
  gw: GatewayDefinition,
  cfg: ConfigSnapshot,
  maxParallel: number,
): Transport | { error: string } {
  const url = gw.url.trim();
  if (/^https?:\/\//i.test(url)) {
    return new HttpTransport({
      url,
      body: cfg.smssenddata || undefined,
      headers: cfg.smssendheader || undefined,
      successString: cfg.smssuccessstring || undefined,
      failString: cfg.smsfailstring || undefined,
      maxParallel,
    });
  }
  if (/^smpp;/i.test(url)) return { error: 'SMPP gateways are not supported by this dispatcher yet' };
  if (!url) return { error: 'the gateway has no URL' };
  return { error: 'executable gateways are not supported by this dispatcher yet' };
}
