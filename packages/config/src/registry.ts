/**
 * The global-config registry: every key of the Mizu SMS module (the seed) declared once, with its
 * schema, the seed's default, a one-line description and the seed's misspellings as aliases.
 *
 * Values are stored as text (the `config` table), so every schema parses a raw string into the
 * typed value. Schemas never throw: a bad value is reported and the default is used instead.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Schema builders. Error messages are phrase tails ("must be ..."); parseValue prefixes the key.

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

function bool() {
  return z.string().transform((raw, ctx): boolean => {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    ctx.addIssue({ code: 'custom', message: 'must be true or false (also 1/0, yes/no)' });
    return z.NEVER;
  });
}

function str() {
  // Kept verbatim (no trim): templates such as `smssenddata` may carry meaningful whitespace.
  return z.string();
}

function strMatching(re: RegExp, what: string) {
  return z.string().transform((raw, ctx): string => {
    const v = raw.trim();
    if (v === '' || re.test(v)) return v;
    ctx.addIssue({ code: 'custom', message: `must be empty or ${what}` });
    return z.NEVER;
  });
}

function strMax(max: number) {
  return z.string().transform((raw, ctx): string => {
    const v = raw.trim();
    if (v.length <= max) return v;
    ctx.addIssue({ code: 'custom', message: `must be at most ${max} characters` });
    return z.NEVER;
  });
}

const INT_RE = /^[+-]?\d+$/;

function int(min: number, max: number = Number.MAX_SAFE_INTEGER, unit = '') {
  return z.string().transform((raw, ctx): number => {
    const v = raw.trim();
    const n = INT_RE.test(v) ? Number(v) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    ctx.addIssue({ code: 'custom', message: `must be an integer${unit} ${range}` });
    return z.NEVER;
  });
}

function oneOf(values: readonly number[], names?: Readonly<Record<string, number>>) {
  const list = values.join(', ');
  return z.string().transform((raw, ctx): number => {
    const v = raw.trim();
    if (INT_RE.test(v)) {
      const n = Number(v);
      if (values.includes(n)) return n;
    } else if (names) {
      const named = names[v.toLowerCase()];
      if (named !== undefined) return named;
    }
    const extra = names ? ` (or ${Object.keys(names).join(', ')})` : '';
    ctx.addIssue({ code: 'custom', message: `must be one of ${list}${extra}` });
    return z.NEVER;
  });
}

function range(min: number, max: number): number[] {
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** Money and credit stay exact: a non-negative decimal kept as its string. */
function decimal() {
  return z.string().transform((raw, ctx): string => {
    const v = raw.trim();
    if (DECIMAL_RE.test(v)) return v;
    ctx.addIssue({ code: 'custom', message: 'must be a non-negative decimal number such as 0.05' });
    return z.NEVER;
  });
}

// ---------------------------------------------------------------------------------------------
// Entries.

export interface ConfigEntry<K extends string = string, T = unknown> {
  readonly key: K;
  readonly schema: z.ZodType<T, string>;
  readonly default: T;
  readonly description: string;
  readonly aliases?: readonly string[];
  readonly secret?: boolean;
}

function entry<const K extends string, T>(
  key: K,
  schema: z.ZodType<T, string>,
  def: NoInfer<T>,
  description: string,
  extra: { aliases?: readonly string[]; secret?: boolean } = {},
): ConfigEntry<K, T> {
  return Object.freeze({ key, schema, default: def, description, ...extra });
}

const SMPP_NPI = [0, 1, 3, 4, 6, 8, 9, 10, 14, 18] as const;
const SMPP_SERVICE_TYPES: Record<string, number> = {
  default: 0,
  cmt: 1,
  cpt: 2,
  vmn: 3,
  vma: 4,
  wap: 5,
  ussd: 6,
  cbs: 7,
};

export const CONFIG_KEYS = [
  // -- outbound --------------------------------------------------------------------------------
  entry('enablesms', bool(), true, 'Enable the SMS module.'),
  entry(
    'smsurl',
    str(),
    '',
    'Outbound SMS URL: HTTP(S) template, `SMPP;key=value;...`, or an executable path.',
  ),
  entry(
    'smssenddata',
    str(),
    '',
    'HTTP POST body template for outbound SMS (empty: GET, or smssenddata.txt).',
  ),
  entry(
    'smssendheader',
    str(),
    '',
    'Extra HTTP headers for outbound SMS, e.g. Authorization (or smssendheader.txt).',
  ),
  entry(
    'smsthread',
    oneOf([0, 1]),
    1,
    '0: no separate thread (more reliable answer), 1: separate thread (better performance).',
  ),
  entry(
    'smsverifyurl',
    str(),
    '',
    'Second request to verify SMS success (uses "messageId" from the send answer).',
  ),
  entry('smssenddataverify', str(), '', 'HTTP POST data for the verify request (empty: HTTP GET).'),
  // The seed says CDRs are delayed "about 10 seconds" by the verify request: hence 10000 ms.
  entry(
    'smsverifydelay',
    int(0, Number.MAX_SAFE_INTEGER, ' (ms)'),
    10000,
    'Milliseconds to wait before calling the verify URL.',
  ),
  entry('smssignature', str(), '', 'Signature text appended to every outbound SMS.'),
  entry(
    'smsadv',
    bool(),
    false,
    'Insert an advertising message (tb_advertisement) before each outbound SMS.',
  ),
  entry('smsadvprefix', str(), '', 'Text inserted before each outbound message.'),
  entry('smsadvvalue', decimal(), '0', 'Credit a user receives when advertisement is sent to them.'),
  entry(
    'smssuccessstring',
    str(),
    '',
    'Success keyword to look for in the provider response (empty: guess).',
  ),
  entry('smsfailstring', str(), '', 'Failure keyword to look for in the provider response.', {
    aliases: ['smshfailstring'],
  }),
  entry(
    'smsrouting',
    oneOf([-1, 0, 1]),
    -1,
    'SMS routing: -1 auto guess, 0 global config only, 1 multiple SMS gateways.',
    { aliases: ['smstrouting'] },
  ),
  entry(
    'sendsmsmessages',
    oneOf(range(0, 3)),
    1,
    'Convert SIP IM to SMS: 0 no, 1 to mobiles only, 2 to all phone numbers, 3 to all destinations.',
  ),
  // Not seed keys (SIP front, issue 11): how sendsmsmessages=1 decides "mobile".
  entry(
    'sendsmsmessages_country',
    strMatching(/^[A-Za-z]{2}$/, 'a two-letter ISO 3166 country code'),
    '',
    'Country of SIP targets dialled without an international prefix (e.g. HU); empty: only +/00 numbers are recognised as mobile.',
  ),
  entry(
    'sendsmsmessages_mobileprefixes',
    strMatching(/^\+?\d+(?:\s*,\s*\+?\d+)*$/, 'a comma-separated list of digit prefixes'),
    '',
    'Extra number prefixes always treated as mobile by sendsmsmessages=1 (comma-separated, e.g. 3620,3630).',
  ),
  // -- billing ---------------------------------------------------------------------------------
  entry('smsprice', decimal(), '0', 'Default price of one SMS (per smstime) when no price setup matches.'),
  entry(
    'smstime',
    int(0, Number.MAX_SAFE_INTEGER, ' (seconds)'),
    60,
    'Duration in seconds an SMS is treated as (CDR duration, rating unit).',
  ),
  // Not a seed key (routing issue): how far failover goes.
  entry(
    'smsroutemaxtries',
    int(1, 20),
    3,
    'Gateways one message may try: its first route plus failovers on permanent rejection or exhausted retries (1: no failover).',
  ),
  entry(
    'usesmsprefixsp',
    bool(),
    false,
    'Rewrite the target number with the v_dialplansms stored procedure.',
  ),
  // -- inbound ---------------------------------------------------------------------------------
  entry(
    'smsreceive_route',
    oneOf(range(0, 4)),
    0,
    'Incoming SMS to users: 0 disabled, 1 chat, 2 email, 3 chat or email, 4 chat and email.',
  ),
  entry(
    'smsreceive_ip',
    str(),
    '',
    'Comma-separated IP addresses allowed to post incoming SMS (empty: anywhere).',
  ),
  entry(
    'smsreceive_check',
    str(),
    '',
    'String an incoming request must contain to be taken as SMS (usually empty).',
  ),
  entry(
    'smsreceive_from',
    str(),
    '',
    'Sender extraction: a parameter name or fromstring1,fromstring2,tostring1,tostring2.',
  ),
  entry(
    'smsreceive_to',
    str(),
    '',
    'Target (our user) extraction: a parameter name or fromstring1,fromstring2,tostring1,tostring2.',
  ),
  entry(
    'smsreceive_message',
    str(),
    '',
    'Message body extraction: a parameter name or fromstring1,fromstring2,tostring1,tostring2.',
  ),
  // -- SMPP (also settable inside smsurl / smpp_allparameters as key=value) ---------------------
  entry(
    'smpp_allparameters',
    str(),
    '',
    'All SMPP parameters in one field: SMPP;server=...;username=...;...',
  ),
  entry('smpp_server', str(), '', 'SMPP server address (usually an IP address).'),
  entry('smpp_username', str(), '', 'SMPP system_id used to bind.'),
  entry('smpp_password', str(), '', 'SMPP bind password.', { secret: true }),
  entry('smpp_serverport', int(1, 65535), 2775, 'SMPP server port.'),
  entry('smpp_version', oneOf([33, 34, 50]), 34, 'SMPP version: 33 (v3.3), 34 (v3.4), 50 (v5.0).'),
  entry('smpp_secure', bool(), false, 'Use SSL/TLS (SMPPS).'),
  entry('smpp_systemtype', strMax(12), '', 'SMPP system_type (at most 12 characters).'),
  entry(
    'smpp_servicetype',
    oneOf(range(0, 7), SMPP_SERVICE_TYPES),
    0,
    'Service type: 0 default, 1 CMT, 2 CPT, 3 VMN, 4 VMA, 5 WAP, 6 USSD, 7 CBS.',
  ),
  entry(
    'smpp_msgpriority',
    oneOf(range(-1, 3)),
    1,
    'Priority: -1 default, 0 low, 1 normal, 2 high, 3 urgent.',
  ),
  entry(
    'smpp_msgexpire',
    strMatching(/^\d{15}[+\-R]$/, 'a YYMMDDhhmmsstnnp validity period'),
    '',
    'Validity period in YYMMDDhhmmsstnnp format (p = R: relative).',
  ),
  entry(
    'smpp_timeout',
    int(0, Number.MAX_SAFE_INTEGER, ' (seconds)'),
    60,
    'Inter-packet inactivity timeout in seconds (total if smpp_absolutetimeout).',
  ),
  entry('smpp_recipients', str(), '', 'One destination, or several separated by ; (max 255).'),
  entry('smpp_recipienttype', oneOf([0, 1]), 0, 'Recipient type: 0 normal SMS number or IPv4, 1 namelist.'),
  entry('smpp_isdata', bool(), false, 'Send the payload as data instead of a message (one recipient only).'),
  entry('smpp_extraconfig', str(), '', 'Extra configuration as key=value;key2=value2;'),
  entry('smpp_senderaddress', str(), '', 'ESME address (phone number or IP address).'),
  entry(
    'smpp_sourceton',
    oneOf(range(0, 6)),
    0,
    'Source TON: 0 unknown, 1 international, 2 national, 3 network, 4 subscriber, 5 alphanumeric, 6 abbreviated.',
  ),
  entry(
    'smpp_sourcenpi',
    oneOf(SMPP_NPI),
    1,
    'Source NPI: 0 unknown, 1 ISDN, 3 data, 4 telex, 6 landline, 8 national, 9 private, 10 ERMES, 14 internet, 18 WAP.',
  ),
  entry('smpp_destinationton', oneOf(range(0, 6)), 0, 'Destination TON (values as smpp_sourceton).'),
  entry('smpp_destinationnpi', oneOf(SMPP_NPI), 1, 'Destination NPI (values as smpp_sourcenpi).'),
  entry(
    'smpp_datacoding',
    oneOf(range(0, 14)),
    0,
    'data_coding: 0 MC specific, 1 IA5/ASCII, 3 Latin 1, 8 UCS2, ... (0-14).',
  ),
  entry(
    'smpp_hexstring',
    strMatching(/^(?:[0-9a-fA-F]{2})+$/, 'an even-length hex string'),
    '',
    'Hex-encoded binary payload to send to the recipient.',
  ),
  entry(
    'smpp_inbuffersize',
    int(0, Number.MAX_SAFE_INTEGER, ' (bytes)'),
    0,
    'Socket receive buffer size in bytes (0: system default).',
  ),
  entry(
    'smpp_outbuffersize',
    int(0, Number.MAX_SAFE_INTEGER, ' (bytes)'),
    0,
    'Socket send buffer size in bytes (0: system default).',
  ),
  entry(
    'smpp_absolutetimeout',
    bool(),
    false,
    'Treat smpp_timeout as a total timeout instead of an inactivity timeout.',
  ),
  entry('smpp_sslaccept', str(), '', 'ANY or ALL: accept any server certificate; - or empty: validate.'),
  entry('smpp_sslencodig', str(), '', 'PEM/base64-encoded SSL certificate.'),
  entry('smpp_sslcertstore', str(), '', 'Client certificate store: MY, CA, ROOT, SPC or a file name.'),
  entry('smpp_sslpwd', str(), '', 'Password of the client certificate store.', { secret: true }),
  entry(
    'smpp_sslstoretype',
    oneOf(range(0, 4)),
    0,
    'Certificate store type: 0 user, 1 machine, 2 PFX file, 3 PFX blob, 4 PEM cert and key.',
  ),
  entry('smpp_sslsubject', str(), '', 'Subject of the client certificate (* for any).'),
  // -- API, authentication, callbacks ----------------------------------------------------------
  entry('apiv2key', str(), '', 'Server API key expected as `authkey` on /mvapireq.', { secret: true }),
  entry('httpstrictresponse', bool(), false, 'Answer API errors with HTTP 4xx codes instead of 200.'),
  // Not a seed key: how long the sync entries (and smsthread=0) wait before answering ERROR timeout.
  entry(
    'smssynctimeoutms',
    int(100, 3_600_000, ' (ms)'),
    30000,
    'Milliseconds sendsmssync/asendsmssync (and smsthread=0) wait for the status before ERROR timeout.',
  ),
  entry('callingcardauth', int(0, 12), 12, 'How PIN-style authentication identifies the user (0-12).'),
  // Not seed keys: the failed-authentication ban list (Mizu's IP/user ban), fleet-wide in Redis.
  entry('authban_window', int(10, 86_400, ' (s)'), 600, 'Seconds over which failed logins are counted.'),
  entry(
    'authban_slowafter',
    int(0, 1_000_000),
    5,
    'Failed logins (per address or user, in the window) after which answers are slowed (0: never).',
  ),
  entry(
    'authban_delayms',
    int(0, 60_000, ' (ms)'),
    500,
    'Delay added per failed login beyond authban_slowafter.',
  ),
  entry(
    'authban_maxdelayms',
    int(0, 60_000, ' (ms)'),
    5000,
    'Longest delay of a slowed authentication answer.',
  ),
  entry(
    'authban_addressafter',
    int(0, 1_000_000),
    20,
    'Failed logins from one client address in the window that ban the address (0: never).',
  ),
  entry(
    'authban_userafter',
    int(0, 1_000_000),
    50,
    'Failed logins for one user name in the window that ban the user name (0: never).',
  ),
  entry(
    'authban_time',
    int(1, 31_536_000, ' (s)'),
    900,
    'Seconds a ban lasts (`smsfleet ban clear` lifts it).',
  ),
  entry(
    'authban_ignoreip',
    str(),
    '127.0.0.1, ::1',
    'Client addresses/CIDR ranges never counted nor banned for failed logins (empty: none).',
  ),
  entry('defcallbackivr', str(), '', 'Campaign (IVR) used for SMS callbacks.'),
  entry('httpsmcallbackip', str(), '', 'Accept SMS callbacks only from this IP address (empty: anywhere).'),
  entry('uauthverify', bool(), false, 'Verify sign-ups with an SMS code.'),
  // Not seed keys: the details of uauthverify (API entries uauthverifysend / uauthverifycheck).
  entry('uauthverify_codelength', int(4, 10), 6, 'Digits of an SMS verification code (4-10).'),
  entry('uauthverify_ttl', int(30, 86_400, ' (s)'), 300, 'Seconds an SMS verification code stays valid.'),
  entry('uauthverify_maxattempts', int(1, 20), 5, 'Wrong guesses allowed per verification code.'),
  entry(
    'uauthverify_text',
    strMax(300),
    'Your verification code is [code] (valid [minutes] min).',
    'Text of the verification SMS: [code] is the code, [minutes] its validity.',
  ),
  entry('uauthverify_from', strMax(32), '', 'Sender of verification SMS (empty: the gateway default).'),
  entry(
    'uauthverify_charge',
    bool(),
    false,
    'Charge verification SMS to the authenticated requester (false: sent by the server, uncharged).',
  ),
  entry('uauthverify_ratenumber', int(0, 1_000_000), 3, 'Codes sent to one number per hour (0: no limit).'),
  entry(
    'uauthverify_rateip',
    int(0, 1_000_000),
    10,
    'Codes requested per client address per hour (0: no limit).',
  ),
  entry(
    'uauthverify_rateuser',
    int(0, 1_000_000),
    20,
    'Codes requested per authenticated user per hour (0: no limit).',
  ),
  entry(
    'uauthverify_checkrateip',
    int(0, 1_000_000),
    30,
    'Code checks per client address per hour (0: no limit).',
  ),
  // Not seed keys: administrative alerts by SMS (the api-gateway's alert monitor).
  entry('smsalertnumbers', str(), '', 'Admin numbers for alert SMS, separated by , or ; (empty: no alerts).'),
  entry('smsalertgateway', int(0), 0, 'Gateway (SMS GW user id) alerts go through (0: normal routing).'),
  entry(
    'smsalertrepeat',
    int(10, 604_800, ' (s)'),
    1800,
    'Seconds before the same alert (kind + subject) is sent again.',
  ),
  entry('smsalertcircuit', bool(), true, 'Alert when a gateway circuit breaker opens.'),
  entry('smsalertqueuedepth', int(0), 10_000, 'Alert when a gateway has this many queued messages (0: off).'),
  entry(
    'smsalertbillinglag',
    int(0),
    300,
    'Alert when the oldest unbilled final state is this many seconds old (0: off).',
  ),
  entry(
    'smsalertbillingpending',
    int(0),
    0,
    'Alert when billing has this many event batches pending (0: off).',
  ),
  entry(
    'smsalertdeliveryrate',
    int(0, 100, ' (%)'),
    0,
    'Alert when a gateway delivers (or hands over) below this percent (0: off).',
  ),
  entry(
    'smsalertdeliverymin',
    int(1),
    20,
    'Final states needed in the 5-minute window before delivery-rate alerts.',
  ),
  // -- SMS commands and inbound email (smsreceive_route 2-4) ------------------------------------
  entry(
    'anumberhandling',
    oneOf(range(0, 4)),
    3,
    'Caller-id (A number): 0 disabled, 1 only add, 2 only accept, 3 add and accept, 4 A-number access only.',
  ),
  entry('smtpserver', str(), '', 'SMTP server host for emails (inbound SMS by email); empty: no email.'),
  entry('smtpport', int(1, 65535), 25, 'SMTP server port.'),
  entry(
    'smtpsecure',
    bool(),
    false,
    'Implicit TLS to the SMTP server (port 465); else STARTTLS when offered.',
  ),
  entry('smtpusername', str(), '', 'SMTP user name (empty: no authentication).'),
  entry('smtppassword', str(), '', 'SMTP password.', { secret: true }),
  entry('smtpfrom', str(), 'smsfleet@localhost', 'Sender address of emails.'),
] as const;

// ---------------------------------------------------------------------------------------------
// Types and lookups.

type AnyEntry = (typeof CONFIG_KEYS)[number];
export type ConfigKey = AnyEntry['key'];

/** Every global key, typed per key. Snapshots are frozen: replace them, never mutate. */
export type ConfigSnapshot = {
  readonly [E in AnyEntry as E['key']]: E['default'] extends boolean
    ? boolean
    : E['default'] extends number
      ? number
      : string;
};

export type ConfigValue<K extends ConfigKey> = ConfigSnapshot[K];

const BY_KEY: ReadonlyMap<string, ConfigEntry> = new Map(CONFIG_KEYS.map((e) => [e.key, e]));
const BY_NAME: ReadonlyMap<string, ConfigKey> = (() => {
  const m = new Map<string, ConfigKey>();
  for (const e of CONFIG_KEYS) {
    m.set(e.key, e.key);
    for (const a of (e as ConfigEntry).aliases ?? []) m.set(a.toLowerCase(), e.key);
  }
  return m;
})();

/** Canonical key for a key or alias (case-insensitive), or undefined if unknown. */
export function resolveKey(nameOrAlias: string): ConfigKey | undefined {
  return BY_NAME.get(nameOrAlias.trim().toLowerCase());
}

export function getEntry(nameOrAlias: string): ConfigEntry | undefined {
  const key = resolveKey(nameOrAlias);
  return key === undefined ? undefined : BY_KEY.get(key);
}

export function isSecret(nameOrAlias: string): boolean {
  return getEntry(nameOrAlias)?.secret === true;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseValue<K extends ConfigKey>(key: K, raw: string): ParseResult<ConfigValue<K>>;
export function parseValue(key: string, raw: string): ParseResult<unknown>;
export function parseValue(key: string, raw: string): ParseResult<unknown> {
  const e = getEntry(key);
  if (!e) return { ok: false, error: `unknown config key ${key}` };
  const r = e.schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const msg = r.error.issues[0]?.message ?? 'is invalid';
  return { ok: false, error: `${e.key} ${msg}` };
}

/** The text stored in the `config` table for a typed value (inverse of parseValue). */
export function formatValue(key: string, value: unknown): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  throw new TypeError(`cannot format a ${typeof value} value for config key ${key}`);
}

/** The value as shown to operators and in logs: secrets masked. */
export function displayValue(key: string, value: unknown): string {
  const text = formatValue(key, value);
  return isSecret(key) && text !== '' ? '********' : text;
}

export function defaultSnapshot(): ConfigSnapshot {
  return buildSnapshot({}).snapshot;
}

/**
 * Typed snapshot from the stored rows. Row names may be aliases or differ in case; unknown rows
 * are ignored; an invalid value falls back to the default and is reported. When a key is stored
 * both under its name and an alias, the canonical name wins.
 */
export function buildSnapshot(rows: Readonly<Record<string, string>>): {
  snapshot: ConfigSnapshot;
  errors: string[];
} {
  const out: Record<string, unknown> = {};
  for (const e of CONFIG_KEYS) out[e.key] = e.default;
  const errors: string[] = [];
  const seen = new Map<string, string>(); // canonical key -> row name that set it
  for (const [name, raw] of Object.entries(rows)) {
    const key = resolveKey(name);
    if (key === undefined) continue;
    const prev = seen.get(key);
    if (prev !== undefined && prev === key) continue; // canonical row already applied
    if (prev !== undefined && name.toLowerCase() !== key) continue; // two aliases: first wins
    const r = parseValue(key, raw);
    if (r.ok) {
      out[key] = r.value;
      seen.set(key, name.toLowerCase());
    } else {
      errors.push(r.error);
    }
  }
  return { snapshot: Object.freeze(out) as ConfigSnapshot, errors };
}
