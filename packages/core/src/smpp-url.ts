/**
 * The seed's SMPP gateway URL `SMPP;key=value;key2=value2;...` and the `smpp_*` global keys
 * (`smpp_allparameters` too), parsed into one typed config with clear errors, so a bad gateway is
 * refused when it is saved rather than at send time.
 *
 * Precedence, lowest first: seed defaults < the `smpp_*` keys < `smpp_allparameters` < the URL.
 * Keys are case-insensitive (the seed writes `SourceTON`). The `extraconfig` sub-keys are accepted
 * both inside `extraconfig=` and at top level, which is how the seed's own example writes them
 * (`...;servicetype=CMT;SourceTON=1`). Since `;` separates both the pairs and `recipients`, bare
 * numbers right after `recipients=` continue the recipient list.
 */
import { BadRequestError } from './errors.js';

export type SmppBindMode = 'transmitter' | 'transceiver' | 'transmitter+receiver';
/** Long messages: 8-bit-reference UDH (default), 16-bit UDH, SAR TLVs, or one message_payload. */
export type SmppConcatMode = 'udh' | 'udh16' | 'sar' | 'payload';
/** Text that is not GSM 03.38: always UCS2 (`ucs2`), or Latin-1 when it fits (`latin1`). */
export type SmppCharset = 'ucs2' | 'latin1';

export interface SmppTlsConfig {
  /** sslaccept=ANY|ALL: accept any server certificate. */
  acceptAnyCertificate: boolean;
  /** sslencodig with storetype 0/1: a PEM CA (or the server's own certificate) to trust. */
  caPem?: string;
  /** sslstoretype=4: file holding the client certificate and key (PEM). */
  clientPemFile?: string;
  /** sslstoretype=2: PFX file; 3: PFX blob (base64 in sslencodig). */
  pfxFile?: string;
  pfxBase64?: string;
  passphrase?: string;
  /** sslsubject: accepted for compatibility; a file holds one certificate, so nothing to pick. */
  subject?: string;
}

export interface SmppGatewayConfig {
  host: string;
  port: number;
  systemId: string;
  password: string;
  /** 33, 34 or 50 as in the seed. */
  version: 33 | 34 | 50;
  /** interface_version of the bind: 0x33, 0x34, 0x50. */
  interfaceVersion: number;
  secure: boolean;
  tls: SmppTlsConfig;
  systemType: string;
  /** service_type text ('' = SMSC default). */
  serviceType: string;
  /** priority_flag 0-3 (seed -1 = SMSC default = 0). */
  priorityFlag: number;
  /** validity_period: '' or a 16-character YYMMDDhhmmsstnnp (p = R: relative). */
  validityPeriod: string;
  /** smpp `timeout` in seconds; inactivity unless absoluteTimeout. 0 = no timeout. */
  timeoutSec: number;
  absoluteTimeout: boolean;
  /** Fixed destinations (the seed's `recipients`); empty = the message's own number. */
  recipients: string[];
  /** 0 normal number or IPv4, 1 distribution list name (submit_multi). */
  recipientType: 0 | 1;
  /** Send `hexString` (or the text as hex) as binary data (data_coding 4). */
  isData: boolean;
  hexString: string;
  senderAddress: string;
  sourceTon: number;
  sourceNpi: number;
  destTon: number;
  destNpi: number;
  /** Forced data_coding; undefined (DataCoding 0 or unset) = chosen per message from its text. */
  dataCoding: number | undefined;
  inBufferSize: number;
  outBufferSize: number;
  // -- ours (not in the seed) ----------------------------------------------------------------
  bindMode: SmppBindMode;
  /** Binds held by the whole fleet for this gateway (never more, whichever replicas hold them). */
  binds: number;
  /** Outstanding submit_sm per bind. */
  window: number;
  concat: SmppConcatMode;
  charset: SmppCharset;
  /** registered_delivery: 0 none, 1 receipt on success or failure, 2 on failure only. */
  registeredDelivery: number;
  /** Segments per second for the whole gateway across replicas (0 = unlimited). */
  mps: number;
  /** Idle time before an enquire_link (seconds). */
  enquireLinkSec: number;
  /** Per-request response timeout when `timeout` is an inactivity timeout (seconds). */
  responseTimeoutSec: number;
}

/** A config that was given explicitly, for display: the password masked. */
export function describeSmppConfig(c: SmppGatewayConfig): string {
  return `${c.secure ? 'smpps' : 'smpp'}://${c.systemId}@${c.host}:${c.port} v${c.version} ${c.bindMode} x${c.binds} window ${c.window}`;
}

export class SmppConfigError extends BadRequestError {}

const SERVICE_TYPES = ['', 'CMT', 'CPT', 'VMN', 'VMA', 'WAP', 'USSD', 'CBS'] as const;
const NPI = [0, 1, 3, 4, 6, 8, 9, 10, 14, 18];

type Setter = (c: SmppGatewayConfig, v: string, key: string) => void;

function fail(key: string, what: string): never {
  throw new SmppConfigError(`SMPP parameter ${key} ${what}`);
}

function intIn(key: string, v: string, min: number, max: number): number {
  const t = v.trim();
  if (!/^[+-]?\d+$/.test(t)) fail(key, `must be an integer between ${min} and ${max}, got "${v}"`);
  const n = Number(t);
  if (n < min || n > max) fail(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function oneOf(key: string, v: string, values: readonly number[]): number {
  const t = v.trim();
  const n = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!values.includes(n)) fail(key, `must be one of ${values.join(', ')}, got "${v}"`);
  return n;
}

function bool(key: string, v: string): boolean {
  const t = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  return fail(key, `must be 1/0 or true/false, got "${v}"`);
}

function hasControlChar(v: string): boolean {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) < 0x20) return true;
  return false;
}

function maxLen(key: string, v: string, max: number): string {
  if (v.length > max) fail(key, `must be at most ${max} characters`);
  // C-octet strings on the wire: a NUL inside would end the field early.
  if (hasControlChar(v)) fail(key, 'must not contain control characters');
  return v;
}

function ton(key: string, v: string): number {
  return intIn(key, v, 0, 6);
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** YYMMDDhhmmsstnnp (SMPP §7.1). Relative periods only need digits; absolute ones a real date. */
export function validateSmppTime(key: string, raw: string): string {
  const v = raw.trim();
  if (v === '') return '';
  const m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d)(\d\d)([+\-R])$/.exec(v);
  if (!m) fail(key, `must be YYMMDDhhmmsstnnp (16 characters, p = + - or R), got "${raw}"`);
  const [, , mo, dd, hh, mi, ss, , nn, p] = m;
  if (p === 'R') {
    if (nn !== '00') fail(key, 'is relative (R): its nn field must be 00');
    return v;
  }
  const month = Number(mo);
  const day = Number(dd);
  if (month < 1 || month > 12) fail(key, `has month ${mo}`);
  if (day < 1 || day > (DAYS_IN_MONTH[month - 1] ?? 31)) fail(key, `has day ${dd}`);
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) fail(key, `has time ${hh}:${mi}:${ss}`);
  if (Number(nn) > 48) fail(key, `has a UTC offset of ${nn} quarter hours (at most 48)`);
  return v;
}

function parseRecipients(key: string, v: string): string[] {
  const list = v
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length > 255) fail(key, `lists ${list.length} numbers, at most 255`);
  for (const r of list) maxLen(key, r, 20);
  return list;
}

function parseStoreType(v: string): number {
  return oneOf('sslstoretype', v, [0, 1, 2, 3, 4]);
}

// Every key the seed lists (lowercased), plus ours. Values are checked as they are applied so the
// error names the key. TLS keys are collected first and resolved together (they depend on each other).
const SETTERS: Record<string, Setter> = {
  server: (c, v) => {
    const h = v.trim();
    if (h && !/^[A-Za-z0-9.\-:[\]_]+$/.test(h)) fail('server', `is not a host name or IP address: "${v}"`);
    c.host = h.replace(/^\[(.*)\]$/, '$1');
  },
  username: (c, v) => void (c.systemId = maxLen('username', v, 15)),
  password: (c, v) => void (c.password = maxLen('password', v, 8)),
  serverport: (c, v) => void (c.port = intIn('serverport', v, 1, 65535)),
  version: (c, v) => {
    c.version = oneOf('version', v, [33, 34, 50]) as 33 | 34 | 50;
    c.interfaceVersion = c.version === 33 ? 0x33 : c.version === 34 ? 0x34 : 0x50;
  },
  secure: (c, v) => void (c.secure = bool('secure', v)),
  systemtype: (c, v) => void (c.systemType = maxLen('systemtype', v.trim(), 12)),
  servicetype: (c, v) => {
    const t = v.trim();
    if (/^\d+$/.test(t)) {
      c.serviceType = SERVICE_TYPES[oneOf('servicetype', t, [0, 1, 2, 3, 4, 5, 6, 7])] ?? '';
    } else {
      const up = t.toUpperCase();
      if (!(SERVICE_TYPES as readonly string[]).includes(up) && up !== 'DEFAULT')
        fail('servicetype', `must be 0-7 or one of CMT, CPT, VMN, VMA, WAP, USSD, CBS, got "${v}"`);
      c.serviceType = up === 'DEFAULT' ? '' : up;
    }
  },
  msgpriority: (c, v) => void (c.priorityFlag = Math.max(0, intIn('msgpriority', v, -1, 3))),
  msgexpire: (c, v) => void (c.validityPeriod = validateSmppTime('msgexpire', v)),
  timeout: (c, v) => void (c.timeoutSec = intIn('timeout', v, 0, 86_400)),
  absolutetimeout: (c, v) => void (c.absoluteTimeout = bool('AbsoluteTimeout', v)),
  recipients: (c, v) => void (c.recipients = parseRecipients('recipients', v)),
  recipienttype: (c, v) => void (c.recipientType = oneOf('recipienttype', v, [0, 1]) as 0 | 1),
  isdata: (c, v) => void (c.isData = bool('isdata', v)),
  hexstring: (c, v) => {
    const t = v.trim();
    if (t && !/^(?:[0-9a-fA-F]{2})+$/.test(t)) fail('HexString', 'must be an even-length hex string');
    if (t.length > 2 * 65_000) fail('HexString', 'is longer than 65000 octets');
    c.hexString = t;
  },
  senderaddress: (c, v) => void (c.senderAddress = maxLen('SenderAddress', v.trim(), 20)),
  sourceton: (c, v) => void (c.sourceTon = ton('SourceTON', v)),
  sourcenpi: (c, v) => void (c.sourceNpi = oneOf('SourceNPI', v, NPI)),
  destinationton: (c, v) => void (c.destTon = ton('DestinationTON', v)),
  destinationnpi: (c, v) => void (c.destNpi = oneOf('DestinationNPI', v, NPI)),
  datacoding: (c, v) => {
    const t = v.trim();
    if (t === '' || t.toLowerCase() === 'auto') {
      c.dataCoding = undefined;
      return;
    }
    const dc = intIn('DataCoding', t, 0, 255);
    // 0 (the seed's default, "MC specific") is what GSM text goes out with anyway; text outside
    // GSM 03.38 still needs UCS2, so 0 means "choose per message" rather than "force GSM".
    if (![0, 1, 2, 3, 4, 8].includes(dc) && !(dc >= 0xf0 && dc <= 0xf7))
      fail(
        'DataCoding',
        `${dc} cannot carry our messages: use 0 (auto), 1 (IA5), 3 (Latin-1), 8 (UCS2), 2/4 (binary) or 0xF0-0xF7`,
      );
    c.dataCoding = dc === 0 ? undefined : dc;
  },
  inbuffersize: (c, v) => void (c.inBufferSize = intIn('InBufferSize', v, 0, 64 * 1024 * 1024)),
  outbuffersize: (c, v) => void (c.outBufferSize = intIn('OutBufferSize', v, 0, 64 * 1024 * 1024)),
  // -- ours --
  bind: (c, v) => {
    const t = v.trim().toLowerCase().replace(/\s+/g, '');
    const map: Record<string, SmppBindMode> = {
      transmitter: 'transmitter',
      tx: 'transmitter',
      transceiver: 'transceiver',
      trx: 'transceiver',
      'transmitter+receiver': 'transmitter+receiver',
      'tx+rx': 'transmitter+receiver',
    };
    const m = map[t];
    if (!m) fail('bind', `must be transmitter, transceiver or transmitter+receiver, got "${v}"`);
    c.bindMode = m;
  },
  binds: (c, v) => void (c.binds = intIn('binds', v, 1, 64)),
  window: (c, v) => void (c.window = intIn('window', v, 1, 1000)),
  concat: (c, v) => {
    const t = v.trim().toLowerCase();
    if (!['udh', 'udh16', 'sar', 'payload'].includes(t))
      fail('concat', `must be udh, udh16, sar or payload, got "${v}"`);
    c.concat = t as SmppConcatMode;
  },
  charset: (c, v) => {
    const t = v.trim().toLowerCase();
    if (t !== 'ucs2' && t !== 'latin1') fail('charset', `must be ucs2 or latin1, got "${v}"`);
    c.charset = t;
  },
  registereddelivery: (c, v) => void (c.registeredDelivery = oneOf('registereddelivery', v, [0, 1, 2])),
  mps: (c, v) => void (c.mps = intIn('mps', v, 0, 1_000_000)),
  enquirelink: (c, v) => void (c.enquireLinkSec = intIn('enquirelink', v, 1, 3600)),
  responsetimeout: (c, v) => void (c.responseTimeoutSec = intIn('responsetimeout', v, 1, 3600)),
};

const TLS_KEYS = new Set([
  'sslaccept',
  'sslencodig',
  'sslencoding',
  'sslcertstore',
  'sslpwd',
  'sslstoretype',
  'sslsubject',
]);

export function defaultSmppConfig(): SmppGatewayConfig {
  return {
    host: '',
    port: 2775,
    systemId: '',
    password: '',
    version: 34,
    interfaceVersion: 0x34,
    secure: false,
    tls: { acceptAnyCertificate: false },
    systemType: '',
    serviceType: '',
    priorityFlag: 1,
    validityPeriod: '',
    timeoutSec: 60,
    absoluteTimeout: false,
    recipients: [],
    recipientType: 0,
    isData: false,
    hexString: '',
    senderAddress: '',
    sourceTon: 0,
    sourceNpi: 1,
    destTon: 0,
    destNpi: 1,
    dataCoding: undefined,
    inBufferSize: 0,
    outBufferSize: 0,
    bindMode: 'transmitter',
    binds: 1,
    window: 10,
    concat: 'udh',
    charset: 'ucs2',
    registeredDelivery: 1,
    mps: 0,
    enquireLinkSec: 30,
    responseTimeoutSec: 10,
  };
}

/** Splits `key=value;key=value` (no `SMPP` head) into pairs, folding recipients and extraconfig. */
function splitPairs(text: string, source: string): Array<[key: string, value: string]> {
  const out: Array<[string, string]> = [];
  let lastKey = '';
  for (const rawItem of text.split(';')) {
    const item = rawItem.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      // `recipients=123;456`: the list continues until the next key=value pair.
      const prev = out[out.length - 1];
      if (lastKey === 'recipients' && prev && /^\+?[0-9A-Za-z.]+$/.test(item)) {
        prev[1] += `;${item}`;
        continue;
      }
      throw new SmppConfigError(`${source}: "${item}" is not a key=value pair`);
    }
    const key = item.slice(0, eq).trim().toLowerCase();
    let value = item.slice(eq + 1);
    if (key === '') throw new SmppConfigError(`${source}: "${item}" has no key`);
    if (key === 'extraconfig') {
      // `extraconfig=extraconfig=...` is one level however often it is repeated (no deep recursion).
      const nested = /^\s*extraconfig\s*=/i;
      while (nested.test(value)) value = value.replace(nested, '');
      // extraconfig=SourceTON=1;DestinationTON=1 arrives here as "SourceTON=1" then more pairs.
      if (value.trim() === '') continue;
      const inner = splitPairs(value, `${source} extraconfig`);
      out.push(...inner);
      lastKey = inner[inner.length - 1]?.[0] ?? '';
      continue;
    }
    out.push([key, value]);
    lastKey = key;
  }
  return out;
}

/** `SMPP;...` or `SMPP` (all parameters from the smpp_* keys). */
export function isSmppUrl(url: string): boolean {
  return /^\s*smpp\s*(;|$)/i.test(url);
}

export interface SmppResolveOptions {
  /**
   * The global config (a ConfigSnapshot or any record): `smpp_*` keys and `smpp_allparameters`
   * are the base under the URL's own pairs.
   */
  globals?: Readonly<Record<string, unknown>>;
  /** Require server and username (false when only checking the syntax of a partial URL). */
  requireServer?: boolean;
}

function globalPairs(globals: Readonly<Record<string, unknown>>): {
  keys: Array<[string, string]>;
  all: string;
} {
  const keys: Array<[string, string]> = [];
  let all = '';
  for (const [k, v] of Object.entries(globals)) {
    const lk = k.toLowerCase();
    if (!lk.startsWith('smpp_') || v === undefined || v === null) continue;
    const name = lk.slice(5);
    const text =
      typeof v === 'boolean'
        ? v
          ? '1'
          : '0'
        : typeof v === 'number' || typeof v === 'string'
          ? String(v)
          : '';
    if (name === 'allparameters') {
      all = text;
      continue;
    }
    if (name === 'extraconfig') {
      if (text.trim()) keys.push(...splitPairs(text, 'smpp_extraconfig'));
      continue;
    }
    // Empty global strings are "not set": they must not override a default such as DataCoding.
    if (text === '') continue;
    keys.push([name, text]);
  }
  return { keys, all };
}

function stripHead(text: string, source: string): string {
  const t = text.trim();
  if (t === '') return '';
  const m = /^smpp\s*(?:;|$)/i.exec(t);
  if (m) return t.slice(m[0].length);
  // smpp_allparameters may be written with or without the SMPP head.
  if (source === 'smpp_allparameters') return t;
  throw new SmppConfigError(`${source} must start with SMPP; (got "${t.slice(0, 20)}")`);
}

/**
 * Parses and validates an SMPP gateway URL into a typed config. Throws SmppConfigError (a
 * BadRequestError) naming the offending key; never echoes the password.
 */
export function parseSmppUrl(url: string, opts: SmppResolveOptions = {}): SmppGatewayConfig {
  const cfg = defaultSmppConfig();
  const pairs: Array<[string, string, string]> = [];
  if (opts.globals) {
    const g = globalPairs(opts.globals);
    for (const [k, v] of g.keys) pairs.push([k, v, `smpp_${k}`]);
    for (const [k, v] of splitPairs(stripHead(g.all, 'smpp_allparameters'), 'smpp_allparameters'))
      pairs.push([k, v, 'smpp_allparameters']);
  }
  for (const [k, v] of splitPairs(stripHead(url, 'the SMPP URL'), 'the SMPP URL')) pairs.push([k, v, 'url']);

  const tls: Record<string, string> = {};
  for (const [key, value, source] of pairs) {
    if (TLS_KEYS.has(key)) {
      tls[key === 'sslencoding' ? 'sslencodig' : key] = value;
      continue;
    }
    // Own keys only: `constructor` or `__proto__` must be unknown parameters, not Object's members.
    const set = Object.hasOwn(SETTERS, key) ? SETTERS[key] : undefined;
    if (!set) {
      throw new SmppConfigError(
        `unknown SMPP parameter "${key}"${source === 'url' ? '' : ` (from ${source})`}; known: ${[...Object.keys(SETTERS), ...TLS_KEYS].join(', ')}`,
      );
    }
    set(cfg, value, key);
  }
  cfg.tls = resolveTls(tls);

  if (opts.requireServer !== false) {
    if (!cfg.host) throw new SmppConfigError('SMPP parameter server is required (the SMSC address)');
    if (!cfg.systemId) throw new SmppConfigError('SMPP parameter username is required (the bind system_id)');
  }
  if (cfg.isData && cfg.recipients.length > 1)
    throw new SmppConfigError('SMPP isdata supports only one recipient (recipients lists several)');
  if (cfg.version === 33) {
    if (cfg.bindMode === 'transceiver')
      throw new SmppConfigError('SMPP v3.3 has no transceiver bind: use bind=transmitter+receiver');
    if (cfg.concat === 'sar' || cfg.concat === 'payload')
      throw new SmppConfigError(`SMPP v3.3 has no TLVs, so concat=${cfg.concat} is impossible: use udh`);
  }
  return cfg;
}

function resolveTls(t: Record<string, string>): SmppTlsConfig {
  const out: SmppTlsConfig = { acceptAnyCertificate: false };
  const accept = (t.sslaccept ?? '').trim().toUpperCase();
  if (accept === 'ANY' || accept === 'ALL' || accept === '*') out.acceptAnyCertificate = true;
  else if (accept !== '' && accept !== '-')
    fail(
      'sslaccept',
      `must be ANY, ALL, - or empty (a thumbprint list is not supported), got "${t.sslaccept}"`,
    );
  const storeType = t.sslstoretype ? parseStoreType(t.sslstoretype) : 0;
  const store = (t.sslcertstore ?? '').trim();
  const enc = (t.sslencodig ?? '').trim();
  if (t.sslpwd) out.passphrase = t.sslpwd;
  if (t.sslsubject?.trim()) out.subject = t.sslsubject.trim();
  if (['MY', 'CA', 'ROOT', 'SPC'].includes(store.toUpperCase()))
    fail(
      'sslcertstore',
      `${store} is a Windows certificate store, which Node has not: use a PFX or PEM file`,
    );
  switch (storeType) {
    case 0:
    case 1:
      if (store) fail('sslcertstore', 'needs sslstoretype 2 (PFX file) or 4 (PEM cert and key file)');
      if (enc) out.caPem = normalisePem(enc);
      break;
    case 2:
      if (!store) fail('sslcertstore', 'must name the PFX file (sslstoretype=2)');
      out.pfxFile = store;
      if (enc) out.caPem = normalisePem(enc);
      break;
    case 3:
      if (!/^[A-Za-z0-9+/=\s]+$/.test(enc)) fail('sslencodig', 'must hold the base64 PFX (sslstoretype=3)');
      out.pfxBase64 = enc.replace(/\s+/g, '');
      break;
    case 4:
      if (!store) fail('sslcertstore', 'must name the PEM file with certificate and key (sslstoretype=4)');
      out.clientPemFile = store;
      if (enc) out.caPem = normalisePem(enc);
      break;
  }
  return out;
}

/** PEM as given, or bare base64 wrapped into a PEM certificate. */
function normalisePem(text: string): string {
  if (text.includes('-----BEGIN')) return text.replace(/\\n/g, '\n');
  const b64 = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) fail('sslencodig', 'must be a PEM or base64 certificate');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Quick syntax check for saving a gateway: undefined when fine, else the reason. */
export function checkSmppUrl(url: string, globals?: Readonly<Record<string, unknown>>): string | undefined {
  try {
    parseSmppUrl(url, { globals, requireServer: true });
    return undefined;
  } catch (err) {
    if (err instanceof SmppConfigError) return err.message;
    throw err;
  }
}
