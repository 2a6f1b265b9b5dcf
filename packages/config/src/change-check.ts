import { checkSmppUrl, isSmppUrl, parseSmppUrl, SmppConfigError } from '@smsfleet/core';
import {
  buildSnapshot,
  formatValue,
  parseValue,
  resolveKey,
  type ConfigKey,
  type ConfigSnapshot,
} from './registry.js';

/** For a new SMS GW user's URL: an SMPP URL over the stored `smpp_*` keys (which may supply server etc.). */
export function smppUrlProblem(url: string, globals: ConfigSnapshot): string | undefined {
  if (!isSmppUrl(url)) return undefined;
  return checkSmppUrl(url, globals);
}

/**
 * A new `smsurl`, `smpp_allparameters` or `smpp_extraconfig` value must parse together with the
 * other stored keys. Server/username are only required once smsurl is SMPP.
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

/**
 * Checks a config change as every writer must (CLI `config set`, the ops page): a known key (or
 * alias), a value of the key's type, and SMPP settings that still parse. Returns the canonical key
 * and the text to store, or the reason it is refused.
 */
export function checkConfigChange(
  keyOrAlias: string,
  raw: string,
  storedRows: Readonly<Record<string, string>>,
): { ok: true; key: ConfigKey; value: string } | { ok: false; error: string } {
  const key = resolveKey(keyOrAlias);
  if (!key) return { ok: false, error: `unknown config key: ${keyOrAlias}` };
  const parsed = parseValue(key, raw);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const value = formatValue(key, parsed.value);
  const smppBad = smppConfigProblem(key, value, storedRows);
  if (smppBad) return { ok: false, error: smppBad };
  return { ok: true, key, value };
}
