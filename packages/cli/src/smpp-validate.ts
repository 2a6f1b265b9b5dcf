import { buildSnapshot, type ConfigSnapshot } from '@smsfleet/config';
import { checkSmppUrl, isSmppUrl, parseSmppUrl, SmppConfigError } from '@smsfleet/core';

/**
 * SMPP gateways are checked when they are saved (gateway add, config set), not at send time:
 * unknown keys, malformed values and a missing server are refused with the offending key named.
 */

/** For `gateway add`: the URL over the stored `smpp_*` keys (which may supply server etc.). */
export function smppUrlProblem(url: string, globals: ConfigSnapshot): string | undefined {
  if (!isSmppUrl(url)) return undefined;
  return checkSmppUrl(url, globals);
}

/**
 * For `config set`: a new `smsurl`, `smpp_allparameters` or `smpp_extraconfig` value must parse
 * together with the other stored keys. Server/username are only required once smsurl is SMPP.
 */
export function smppConfigProblem(
  key: string,
  value: string,
  storedRows: Readonly<Record<string, string>>,
): string | undefined {
  if (key !== 'smsurl' && !key.startsWith('smpp_')) return undefined;
  const next = buildSnapshot({ ...storedRows, [key]: value }).snapshot;
  const url = next.smsurl;
  const smppActive = isSmppUrl(url);
  if (key === 'smsurl' && !smppActive) return undefined;
  try {
    parseSmppUrl(smppActive ? url : 'SMPP', {
      globals: next as unknown as Record<string, unknown>,
      requireServer: smppActive,
    });
    return undefined;
  } catch (err) {
    if (err instanceof SmppConfigError) return err.message;
    throw err;
  }
}
