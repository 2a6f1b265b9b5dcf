/**
 * Per-gateway settings (stored as JSON per SMS GW user, gateway 0 = the global `smsurl`). Every key
 * is optional: a missing one falls back to the global config key or the dispatcher's default.
 * Validated when saved (CLI) and again when loaded (dispatcher), so a bad row never reaches a send.
 */

export interface GatewaySettings {
  /** POST body template; overrides the global `smssenddata` and the files. */
  smssenddata?: string;
  /** Header lines template (`Name: value` per line); overrides `smssendheader` and the files. */
  smssendheader?: string;
  smssuccessstring?: string;
  smsfailstring?: string;
  /** Force the method; default GET, POST when there is body data. */
  method?: 'GET' | 'POST';
  /** How substituted values are escaped in the body; auto guesses from its first character. */
  bodyFormat?: 'auto' | 'json' | 'xml' | 'form' | 'text';
  /** Regex whose first capture group is the provider's message id. */
  idRegex?: string;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  /** Parallel requests (and keep-alive connections) per dispatcher process. */
  maxParallel?: number;
  /** Messages per second for the gateway across every dispatcher replica (0 = unlimited). */
  ratePerSecond?: number;
  /** Send attempts before a temporarily failing message ends `failed`. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt (a provider's Retry-After wins when longer). */
  retryBaseDelayMs?: number;
  /** Accept any TLS certificate (self-signed test providers). Off by default. */
  insecureTls?: boolean;
  /** Long text: one request per segment (true) or the whole text in one request (false, default). */
  splitLong?: boolean;
  /** Executable gateways: kill the process after this long. */
  execTimeoutMs?: number;
  /** `{SELECT ...}` placeholders: statement timeout. */
  sqlTimeoutMs?: number;
  /** Consecutive temporary failures that pause the gateway (circuit breaker). */
  breakerThreshold?: number;
  /** How long the breaker pauses the gateway. */
  breakerOpenMs?: number;
  /** The provider posts delivery reports to `/dlr/{gatewayId}`: the verifier waits for them. */
  awaitDlr?: boolean;
  /** Delivery report: where the provider message id is (parameter name or smsreceive-style markers). */
  dlrId?: string;
  /** Delivery report: where the status is (parameter name or markers). */
  dlrStatus?: string;
  /** Delivery report: addresses allowed to post (comma list, CIDR ranges). */
  dlrAllowIp?: string;
  /** Delivery report: shared secret, as `secret` parameter or `X-Dlr-Secret` header. */
  dlrSecret?: string;
}

type Kind =
  | { t: 'string'; max: number }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'int'; min: number; max: number }
  | { t: 'number'; min: number; max: number }
  | { t: 'bool' }
  | { t: 'regex' };

export interface GatewaySettingInfo {
  key: keyof GatewaySettings;
  kind: Kind;
  help: string;
}

export const GATEWAY_SETTINGS: readonly GatewaySettingInfo[] = [
  { key: 'smssenddata', kind: { t: 'string', max: 65535 }, help: 'POST body template (POST when set)' },
  { key: 'smssendheader', kind: { t: 'string', max: 65535 }, help: 'header lines template' },
  { key: 'smssuccessstring', kind: { t: 'string', max: 1000 }, help: 'success keyword in the answer' },
  { key: 'smsfailstring', kind: { t: 'string', max: 1000 }, help: 'failure keyword in the answer' },
  { key: 'method', kind: { t: 'enum', values: ['GET', 'POST'] }, help: 'HTTP method' },
  {
    key: 'bodyFormat',
    kind: { t: 'enum', values: ['auto', 'json', 'xml', 'form', 'text'] },
    help: 'escaping of values in the body',
  },
  { key: 'idRegex', kind: { t: 'regex' }, help: "regex for the provider's message id (group 1)" },
  { key: 'connectTimeoutMs', kind: { t: 'int', min: 1, max: 120_000 }, help: 'connect timeout' },
  { key: 'responseTimeoutMs', kind: { t: 'int', min: 1, max: 600_000 }, help: 'response timeout' },
  { key: 'maxParallel', kind: { t: 'int', min: 1, max: 4096 }, help: 'parallel requests per dispatcher' },
  { key: 'ratePerSecond', kind: { t: 'number', min: 0, max: 1_000_000 }, help: 'msg/s across replicas' },
  { key: 'maxAttempts', kind: { t: 'int', min: 1, max: 100 }, help: 'send attempts' },
  { key: 'retryBaseDelayMs', kind: { t: 'int', min: 1, max: 3_600_000 }, help: 'first retry delay' },
  { key: 'insecureTls', kind: { t: 'bool' }, help: 'accept any TLS certificate' },
  { key: 'splitLong', kind: { t: 'bool' }, help: 'one request per segment' },
  { key: 'execTimeoutMs', kind: { t: 'int', min: 1, max: 600_000 }, help: 'executable timeout' },
  { key: 'sqlTimeoutMs', kind: { t: 'int', min: 1, max: 60_000 }, help: '{SELECT} timeout' },
  { key: 'breakerThreshold', kind: { t: 'int', min: 1, max: 1_000_000 }, help: 'failures that pause' },
  { key: 'breakerOpenMs', kind: { t: 'int', min: 1, max: 86_400_000 }, help: 'pause length' },
  { key: 'awaitDlr', kind: { t: 'bool' }, help: 'wait for delivery reports at /dlr/{id}' },
  { key: 'dlrId', kind: { t: 'string', max: 500 }, help: 'DLR: message id parameter or markers' },
  { key: 'dlrStatus', kind: { t: 'string', max: 500 }, help: 'DLR: status parameter or markers' },
  { key: 'dlrAllowIp', kind: { t: 'string', max: 2000 }, help: 'DLR: allowed addresses (CIDR)' },
  { key: 'dlrSecret', kind: { t: 'string', max: 200 }, help: 'DLR: shared secret' },
];

const BY_KEY = new Map<string, GatewaySettingInfo>(GATEWAY_SETTINGS.map((s) => [s.key.toLowerCase(), s]));
// The seed's misspelling.
BY_KEY.set('smshfailstring', BY_KEY.get('smsfailstring')!);

export class GatewaySettingsError extends Error {
  readonly code = 'INVALID_GATEWAY_SETTING';
}

function parseOne(info: GatewaySettingInfo, raw: unknown): unknown {
  const k = info.kind;
  const fail = (why: string): never => {
    throw new GatewaySettingsError(`${info.key}: ${why}`);
  };
  switch (k.t) {
    case 'string': {
      if (typeof raw !== 'string') return fail('must be text');
      if (raw.length > k.max) return fail(`at most ${k.max} characters`);
      return raw;
    }
    case 'enum': {
      const v =
        typeof raw === 'string' ? k.values.find((x) => x.toLowerCase() === raw.toLowerCase()) : undefined;
      return v ?? fail(`one of ${k.values.join(', ')}`);
    }
    case 'int':
    case 'number': {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n) || (k.t === 'int' && !Number.isInteger(n)))
        return fail(`must be ${k.t === 'int' ? 'an integer' : 'a number'}`);
      if (n < k.min || n > k.max) return fail(`between ${k.min} and ${k.max}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true;
      if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false;
      return fail('must be true or false');
    }
    case 'regex': {
      if (typeof raw !== 'string' || raw.length > 1000)
        return fail('must be a regex (at most 1000 characters)');
      try {
        new RegExp(raw);
      } catch (e) {
        return fail(`invalid regex: ${(e as Error).message}`);
      }
      return raw;
    }
  }
}

/** The canonical key of a setting name (case-insensitive, alias `smshfailstring`), or undefined. */
export function gatewaySettingKey(name: string): keyof GatewaySettings | undefined {
  return BY_KEY.get(name.toLowerCase())?.key;
}

/**
 * Validates raw values (from JSON or `key=value` text) into settings. Throws GatewaySettingsError
 * naming the first bad key. An empty string for a key removes it (returned as `undefined`).
 */
export function parseGatewaySettings(raw: Record<string, unknown>): GatewaySettings {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const info = BY_KEY.get(name.toLowerCase());
    if (!info) throw new GatewaySettingsError(`unknown gateway setting: ${name}`);
    if (value === undefined || value === null || (value === '' && info.kind.t !== 'string')) {
      out[info.key] = undefined;
      continue;
    }
    out[info.key] = parseOne(info, value);
  }
  return out;
}

/** `key=value` pairs as typed on the command line. */
export function parseGatewaySettingPairs(pairs: readonly string[]): GatewaySettings {
  const raw: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new GatewaySettingsError(`expected key=value, got: ${p}`);
    raw[p.slice(0, i).trim()] = p.slice(i + 1);
  }
  return parseGatewaySettings(raw);
}
