import { createHash } from 'node:crypto';
import { METHODS } from 'node:http';

/**
 * Malformed and hostile requests for the api-gateway's public surfaces: the Mizu API
 * (`/mvapireq`), `/v1`, the inbound MO callback (`POST /`, `apientry=smsreceive`) and the DLR
 * endpoint (`/dlr/{gatewayId}`). Every case is built so that it cannot be a valid send, MO or
 * delivery report, even when it carries the right credentials: those get a "poison" (an invalid
 * recipient, an unknown JSON field, no target number, no status) that the server must refuse. The
 * oracle functions below re-read a case the way the server's parsers do to make sure of it.
 */

export type Target = 'mizu' | 'v1' | 'inbound' | 'dlr';

export interface HttpCase {
  target: Target;
  /** What the case exercises, for the per-kind figures. */
  kind: string;
  method: string;
  /** Request target as bytes (a latin1 string: each char one octet), may hold invalid UTF-8. */
  path: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Deliberately broken HTTP framing: Node's own 4xx answer (no body) is fine here. */
  protocol: boolean;
  /** Carries credentials that pass authentication (so a poison keeps it from being valid). */
  authed: boolean;
}

export interface FuzzCredentials {
  /** The server key (`apiv2key`): Mizu `authkey` and the /v1 bearer token. */
  apiKey: string;
  adminName: string;
  adminPassword: string;
  /** The DLR shared secret configured for `dlrGatewayId`. */
  dlrSecret: string;
  dlrGatewayId: number;
}

export type Rng = () => number;

// -- small random helpers -------------------------------------------------------------------

const int = (r: Rng, min: number, max: number) => min + Math.floor(r() * (max - min + 1));
const chance = (r: Rng, p: number) => r() < p;
function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}
function weighted<T>(r: Rng, xs: ReadonlyArray<readonly [number, T]>): T {
  const total = xs.reduce((a, [w]) => a + w, 0);
  let x = r() * total;
  for (const [w, v] of xs) {
    x -= w;
    if (x < 0) return v;
  }
  return xs[xs.length - 1]![1];
}

/** Strings that try to break something: SQL, template markers, shell, header injection, paths. */
export const INJECTIONS = [
  "' OR '1'='1",
  "1'; DROP TABLE users; --",
  '" OR ""="',
  '1 UNION SELECT password FROM users',
  '\\',
  "\\'",
  '[tonum]',
  '[message]',
  '[fromnum]',
  '[smsid]',
  '{SELECT password FROM users LIMIT 1}',
  '{select 1}',
  '$(reboot)',
  '`id`',
  '; rm -rf /',
  '| cat /etc/passwd',
  '&& shutdown -h now',
  '\r\nSet-Cookie: owned=1',
  '\r\n\r\nHTTP/1.1 200 OK',
  '%0d%0aX-Injected:%201',
  '<script>alert(1)</script>',
  ']]><!--',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  '\u0000',
  '{{7*7}}',
  '${7*7}',
  '#{7*7}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '{"$gt":""}',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e400',
  '-0',
  '99999999999999999999999999',
  '0x7fffffff',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '\ufeff',
  '\u202e',
  '\ud83d\ude00'.repeat(3),
  'ő\u0301',
  ' ',
  '',
];

/** Broken percent-encodings (decoders must not throw on them). */
const BAD_PERCENT = [
  '%',
  '%%',
  '%G1',
  '%1',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%FF%FE',
  '%F4%90%80%80',
  '%u0041',
  '%C3',
];

function randomText(r: Rng, max: number): string {
  const n = int(r, 0, max);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.6) s += String.fromCharCode(int(r, 0x20, 0x7e));
    else if (k < 0.75) s += String.fromCharCode(int(r, 0, 0x1f));
    else if (k < 0.9) s += String.fromCharCode(int(r, 0xa0, 0x2fff));
    else if (k < 0.95) s += String.fromCodePoint(int(r, 0x1f300, 0x1faff));
    else s += String.fromCharCode(int(r, 0xd800, 0xdfff)); // lone surrogate
  }
  return s;
}

/** A hostile value (JS string; how it is put on the wire is decided later). */
function value(r: Rng): string {
  return weighted<() => string>(r, [
    [5, () => pick(r, INJECTIONS)],
    [4, () => randomText(r, 30)],
    [1, () => 'A'.repeat(int(r, 1000, 12000))],
    [1, () => '9'.repeat(int(r, 21, 400))],
    [2, () => String(int(r, -1e6, 1e9))],
    [1, () => pick(r, INJECTIONS) + randomText(r, 5) + pick(r, INJECTIONS)],
  ])();
}

/** Latin1 string of raw octets 0x80-0xFF: invalid UTF-8 on the wire. */
function rawBytes(r: Rng): string {
  let s = '';
  for (let i = int(r, 1, 6); i > 0; i--) s += String.fromCharCode(int(r, 0x80, 0xff));
  return s;
}

/** UTF-8 octets of a JS string as a latin1 string (what goes on the wire). */
function utf8(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** A value as it goes into a query or form body: encoded, raw, broken encodings, raw octets. */
function wire(r: Rng, v: string): string {
  return weighted<() => string>(r, [
    [6, () => utf8(encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd')))],
    // Unencoded: fine for printable ASCII (& = # + ; stay special); other octets are for HTTP to refuse.
    [
      2,
      () =>
        /^[\x21-\x7e]*$/.test(v) || chance(r, 0.1)
          ? utf8(v)
          : utf8(encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd'))),
    ],
    [1, () => utf8(encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd'))) + pick(r, BAD_PERCENT)],
    [1, () => pick(r, BAD_PERCENT) + utf8(encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd')))],
    [2, () => Array.from(rawBytes(r), (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`).join('')],
    [0.3, () => rawBytes(r)],
  ])();
}

const CLEAN = (v: string) => encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd'));

// -- the server's way of reading parameters (oracle) ----------------------------------------

/** `parseMizuParams` as the server runs it: query first, then a form or JSON body; first wins. */
export function serverParams(
  query: string,
  body: string,
  contentType: string | undefined,
): Map<string, string> | undefined {
  const out = new Map<string, string>();
  const addAll = (sp: URLSearchParams) => {
    for (const [k, v] of sp) if (!out.has(k.toLowerCase())) out.set(k.toLowerCase(), v);
  };
  addAll(new URLSearchParams(query));
  if (body) {
    const ct = (contentType ?? '').toLowerCase();
    if (ct.includes('json') || /^\s*\{/.test(body)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return undefined; // refused as a whole
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        if (out.has(k.toLowerCase()) || v === null || v === undefined) continue;
        out.set(k.toLowerCase(), typeof v === 'string' ? v : JSON.stringify(v));
      }
    } else addAll(new URLSearchParams(body));
  }
  return out;
}

/** The body as Express's text parser decodes it (charset of the content type, else UTF-8). */
function textBody(body: Buffer, contentType: string | undefined): string | undefined {
  const cs = /charset=([^;\s]+)/i.exec(contentType ?? '')?.[1]?.replace(/"/g, '') ?? 'utf-8';
  try {
    return new TextDecoder(cs).decode(body);
  } catch {
    return undefined; // unknown charset: refused (415)
  }
}

export const TO_NAMES = ['to', 'bnum', 'bnun', 'receiver', 'destination', 'dest'];
export const STATUS_NAMES = ['status', 'stat', 'state', 'dlr', 'deliverystatus', 'dlr_status'];

/** A phone number as the api-gateway accepts it (numbers.ts): the poisons must fail this. */
function isValidNumber(s: string): boolean {
  return /^\+?\d{3,20}$/.test(s.replace(/[\s\-().]/g, ''));
}

const POISON_NUMBERS = [
  '',
  ' ',
  '12ab',
  'abc',
  '+',
  '12',
  '123456789012345678901234',
  '36201234567,x',
  '36201234567;;+36 20 ab',
  "' OR 1=1 --",
  '[tonum]',
  '<36201234567>',
  '3620123456\u0000',
  '٣٦٢٠١٢٣٤٥٦٧', // Arabic-Indic digits
];

/** True when a bnum value is refused by the send path (blank, or a token that is no number). */
export function isPoisonedRecipients(raw: string): boolean {
  if (raw.trim() === '') return true;
  const list = raw.split(/[,;]/).filter((s) => s.trim() !== '');
  return list.length === 0 || list.some((t) => !isValidNumber(t));
}
for (const p of POISON_NUMBERS)
  if (!isPoisonedRecipients(p)) throw new Error(`poison ${p} is a valid number`);

// -- request assembly -------------------------------------------------------------------------

const MIZU_ENTRIES = [
  'asendsms',
  'asendsmssync',
  'sendsms',
  'sendsmssync',
  'sms',
  'smsreceive',
  'uauthverifysend',
  'uauthverifycheck',
];
const MIZU_PARAMS = [
  'apientry',
  'authkey',
  'authid',
  'authpwd',
  'authmd5',
  'authsalt',
  'anum',
  'from',
  'message',
  'txt',
  'format',
  'smsthread',
  'now',
  'code',
  'attach',
  'userip',
  'json',
  'Apientry',
  'MESSAGE',
];
const METHODS_ODD = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'G3T', 'get'];

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16le',
  'application/json; charset=bogus-7',
  'text/plain',
  'text/csv',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'application/json\r\nX-Injected: 1',
  '',
];

interface Built {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

function serialise(b: Built, host: string): Buffer {
  let head = `${b.method} ${b.path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of b.headers) head += `${k}: ${v}\r\n`;
  const hasLength = b.headers.some(
    ([k]) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding',
  );
  if (!hasLength && (b.body.length > 0 || b.method !== 'GET')) head += `Content-Length: ${b.body.length}\r\n`;
  head += '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), b.body]);
}

/** The bytes of a case. */
export function caseBytes(c: HttpCase, host: string): Buffer {
  return serialise(c, host);
}

/** Node's default limit for the request line and headers together (--max-http-header-size). */
const MAX_HEAD = 16 * 1024;

/**
 * Whether HTTP itself forbids the request, so that Node's parser answers it (400, 431) before any
 * of our code runs: octets outside visible ASCII in the request target (RFC 9112 3.2), control
 * characters in a header, an oversized head. Such answers have no body to judge.
 */
export function breaksHttp(c: Pick<HttpCase, 'method' | 'path' | 'headers'>): boolean {
  // Node's parser knows a fixed list of methods (case-sensitive) and answers 400 to others.
  if (!METHODS.includes(c.method)) return true;
  if (/[^\x21-\x7e]/.test(c.path)) return true;
  let size = c.method.length + c.path.length + 64;
  for (const [k, v] of c.headers) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[^\t\x20-\x7e\x80-\xff]/.test(v)) return true;
    size += k.length + v.length + 4;
  }
  return size > MAX_HEAD;
}

/** Builds `k=v&...` with hostile keys, values, encodings and duplicates. */
function paramString(r: Rng, names: readonly string[], count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = chance(r, 0.8) ? pick(r, names) : chance(r, 0.5) ? pick(r, INJECTIONS) : randomText(r, 8);
    const k = chance(r, 0.9) ? CLEAN(name.replace(/[\ud800-\udfff]/g, '')) : wire(r, name);
    const form = weighted<() => string>(r, [
      [10, () => `${k}=${wire(r, value(r))}`],
      [1, () => k],
      [1, () => `${k}=`],
      [1, () => `=${wire(r, value(r))}`],
      [1, () => `${k}=${wire(r, value(r))}=${wire(r, value(r))}`],
    ])();
    parts.push(form);
    if (chance(r, 0.1)) parts.push(`${k}=${wire(r, value(r))}`); // duplicated parameter
  }
  const sep = chance(r, 0.9) ? '&' : pick(r, ['&&', ';', '&amp;', '%26']);
  return parts.join(sep);
}

function randomJson(r: Rng, depth = 0): unknown {
  return weighted<() => unknown>(r, [
    [4, () => value(r)],
    [2, () => int(r, -1e9, 1e9) * (chance(r, 0.2) ? 1e300 : 1)],
    [1, () => chance(r, 0.5)],
    [1, () => null],
    [depth < 3 ? 1 : 0, () => Array.from({ length: int(r, 0, 4) }, () => randomJson(r, depth + 1))],
    [
      depth < 3 ? 1 : 0,
      () =>
        Object.fromEntries(
          Array.from({ length: int(r, 0, 4) }, () => [pick(r, INJECTIONS), randomJson(r, depth + 1)]),
        ),
    ],
  ])();
}

/** A JSON-ish body: an object with the given keys, other shapes, broken JSON. */
function jsonBody(r: Rng, keys: readonly string[]): string {
  return weighted<() => string>(r, [
    [
      8,
      () =>
        JSON.stringify(
          Object.fromEntries(Array.from({ length: int(r, 0, 6) }, () => [pick(r, keys), randomJson(r)])),
        ),
    ],
    [1, () => JSON.stringify(randomJson(r))],
    [1, () => `{"${pick(r, keys)}":"${randomText(r, 10)}"`],
    [1, () => `{"${pick(r, keys)}": ${pick(r, ['01', '1.', '.5', 'NaN', '-', 'tru', "'x'", '"\\u12"'])}}`],
    [1, () => `${'['.repeat(int(r, 100, 5000))}${']'.repeat(int(r, 0, 5000))}`],
    [1, () => `{"a":${'{"a":'.repeat(int(r, 100, 3000))}1${'}'.repeat(int(r, 0, 3000))}}`],
    [1, () => `{"${pick(r, keys)}":"x","${pick(r, keys)}":"y","${pick(r, keys)}":"z"}`],
    [1, () => '\ufeff{}'],
  ])();
}

function huge(r: Rng): Buffer {
  return Buffer.alloc(int(r, 65 * 1024, 1_200_000), pick(r, ['a', '&', '=', '%', '{', '9']));
}

function addBodyHeaders(r: Rng, headers: Array<[string, string]>, ct: string | undefined): void {
  if (ct !== undefined && ct !== '')
    headers.push(['Content-Type', ct.replace(/\r\n/g, chance(r, 0.5) ? '\r\n' : ' ')]);
  if (chance(r, 0.03)) headers.push(['Content-Encoding', pick(r, ['gzip', 'deflate', 'br', 'bogus'])]);
}

// -- cases per target ----------------------------------------------------------------------

function mizuCase(r: Rng, cred: FuzzCredentials): HttpCase {
  const method = weighted(r, [
    [45, 'GET'],
    [40, 'POST'],
    [3, 'HEAD'],
    [12, pick(r, METHODS_ODD)],
  ] as const);
  const entry = weighted<() => string>(r, [
    [16, () => pick(r, MIZU_ENTRIES)],
    [2, () => pick(r, MIZU_ENTRIES).toUpperCase()],
    [1, () => ''],
    [2, () => pick(r, INJECTIONS)],
    [1, () => randomText(r, 12)],
  ])();
  const authMode = weighted(r, [
    [3, 'none'],
    [2, 'wrong'],
    [5, 'right'],
  ] as const);
  const q: string[] = [];
  let authed = false;
  const body: string[] = [];
  const put = (kv: string) => (method === 'POST' && chance(r, 0.5) ? body : q).push(kv);
  if (authMode === 'right') {
    authed = true;
    // The poison goes first in the query string, where the server looks first: every
    // recipient parameter names no valid number. (smsreceive ignores credentials; see below.)
    const poison = CLEAN(pick(r, POISON_NUMBERS));
    q.push(`bnum=${poison}`, `bnun=${poison}`, `to=${poison}`);
    const how = int(r, 0, 2);
    if (how === 0) put(`authkey=${CLEAN(cred.apiKey)}`);
    else if (how === 1) put(`authid=${CLEAN(cred.adminName)}&authpwd=${CLEAN(cred.adminPassword)}`);
    else {
      const salt = Math.floor(r() * 1e15).toString(36) + Date.now().toString(36);
      const md5 = createHash('md5').update(`${cred.adminName}:${cred.adminPassword}:${salt}`).digest('hex');
      put(`authid=${CLEAN(cred.adminName)}&authmd5=${md5}&authsalt=${salt}`);
    }
  } else if (authMode === 'wrong') {
    put(
      pick(r, [
        `authkey=${wire(r, value(r))}`,
        `authid=${CLEAN(cred.adminName)}&authpwd=${wire(r, value(r))}`,
        `authid=${wire(r, value(r))}&authmd5=${wire(r, value(r))}&authsalt=${wire(r, value(r))}`,
        `authkey=${CLEAN(cred.apiKey)}x`,
      ]),
    );
  }
  if (entry !== '' || chance(r, 0.5)) put(`apientry=${chance(r, 0.9) ? CLEAN(entry) : wire(r, entry)}`);
  const extra = paramString(r, [...MIZU_PARAMS, ...(authed ? [] : ['bnum', 'to', 'bnun'])], int(r, 0, 10));
  if (extra) put(extra);

  const path = `${pick(r, ['/mvapireq/', '/mvapireq', '/mvapireq/', '/mvapireq//', '/mvapireq/x/../'])}${q.length ? `?${q.join('&')}` : ''}`;
  const headers: Array<[string, string]> = [];
  let bodyText = body.join('&');
  let ct: string | undefined = method === 'POST' ? 'application/x-www-form-urlencoded' : undefined;
  let kind = `mizu:${authMode}`;
  if (method === 'POST') {
    const shape = weighted(r, [
      [6, 'form'],
      [2, 'json'],
      [1, 'badjson'],
      [1, 'ct'],
      [1, 'huge'],
    ] as const);
    kind += `:${shape}`;
    if (shape === 'json') {
      const obj: Record<string, unknown> = {};
      for (const kv of body) {
        for (const [k, v] of new URLSearchParams(kv)) obj[k] = chance(r, 0.8) ? v : randomJson(r);
      }
      bodyText = JSON.stringify(obj);
      ct = pick(r, ['application/json', 'application/json; charset=utf-8', 'text/plain', undefined]);
    } else if (shape === 'badjson') {
      bodyText = jsonBody(r, MIZU_PARAMS);
      ct = pick(r, ['application/json', 'text/json', undefined]);
    } else if (shape === 'ct') {
      ct = pick(r, CONTENT_TYPES);
    }
    addBodyHeaders(r, headers, ct);
    const bytes = shape === 'huge' ? huge(r) : Buffer.from(bodyText, 'latin1');
    return finishMizu({ target: 'mizu', kind, method, path, headers, body: bytes, protocol: false, authed });
  }
  if (method !== 'GET' && method !== 'HEAD' && bodyText) {
    addBodyHeaders(r, headers, 'application/x-www-form-urlencoded');
  }
  kind += `:${method === 'GET' ? 'get' : 'other'}`;
  return finishMizu({
    target: 'mizu',
    kind,
    method,
    path,
    headers,
    body: Buffer.from(bodyText, 'latin1'),
    protocol: false,
    authed,
  });
}

/** smsreceive turns a request into an incoming SMS: a case that could be one is not sent as is. */
function finishMizu(c: HttpCase): HttpCase {
  if (!couldBeMo(c)) return c;
  // Remove every target-number parameter: "missing to" is then certain.
  return { ...c, kind: `${c.kind}:mo`, path: stripParams(c.path, TO_NAMES), body: Buffer.alloc(0) };
}

function splitTarget(path: string): { path: string; query: string } {
  const i = path.indexOf('?');
  return i < 0 ? { path, query: '' } : { path: path.slice(0, i), query: path.slice(i + 1) };
}

function stripParams(path: string, names: readonly string[]): string {
  const { path: p, query } = splitTarget(path);
  const kept = query
    .split('&')
    .filter((kv) => {
      const key = [...new URLSearchParams(kv).keys()][0] ?? '';
      return !names.includes(key.toLowerCase()) && !/[;]|%26|&amp;/.test(kv);
    })
    .join('&');
  return kept ? `${p}?${kept}` : p;
}

/** Whether the server could read this Mizu or MO request as a complete incoming SMS. */
function couldBeMo(c: HttpCase): boolean {
  const { query } = splitTarget(c.path);
  const ct = c.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  const body = c.target === 'inbound' ? textBody(c.body, ct) : c.body.toString('utf8');
  if (body === undefined) return false;
  // Query-only view: the body may be refused while the query alone still counts in some paths.
  const views = [serverParams(query, body, ct), serverParams(query, '', ct)];
  for (const p of views) {
    if (!p) continue;
    if (c.target === 'mizu' && (p.get('apientry') ?? '').toLowerCase() !== 'smsreceive') continue;
    if (TO_NAMES.some((n) => p.has(n))) return true;
  }
  return false;
}

function inboundCase(r: Rng): HttpCase {
  const method = weighted(r, [
    [85, 'POST'],
    [15, pick(r, ['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD'])],
  ] as const);
  const names = [
    'api_id',
    'from',
    'text',
    'timestamp',
    'charset',
    'udh',
    'moMsgId',
    'anum',
    'message',
    'msg',
    'sender',
    'msisdn',
  ];
  const q = chance(r, 0.3) ? paramString(r, names, int(r, 0, 4)) : '';
  const shape = weighted(r, [
    [5, 'form'],
    [2, 'json'],
    [1, 'badjson'],
    [1, 'ct'],
    [1, 'huge'],
  ] as const);
  let ct: string | undefined = 'application/x-www-form-urlencoded';
  let bodyText = paramString(r, names, int(r, 0, 8));
  if (shape === 'json') {
    bodyText = jsonBody(r, names);
    ct = pick(r, ['application/json', undefined]);
  } else if (shape === 'badjson') {
    bodyText = jsonBody(r, names);
  } else if (shape === 'ct') ct = pick(r, CONTENT_TYPES);
  const headers: Array<[string, string]> = [];
  addBodyHeaders(r, headers, ct);
  const c: HttpCase = {
    target: 'inbound',
    kind: `inbound:${method === 'POST' ? shape : 'method'}`,
    method,
    path: `${pick(r, ['/', '/', '//', '/?'])}${q ? `?${q}` : ''}`,
    headers,
    body: shape === 'huge' ? huge(r) : Buffer.from(bodyText, 'latin1'),
    protocol: false,
    authed: false,
  };
  if (!couldBeMo(c)) return c;
  return { ...c, kind: `${c.kind}:stripped`, path: stripParams(c.path, TO_NAMES), body: Buffer.alloc(0) };
}

function dlrCase(r: Rng, cred: FuzzCredentials): HttpCase {
  const method = weighted(r, [
    [50, 'GET'],
    [40, 'POST'],
    [10, pick(r, METHODS_ODD)],
  ] as const);
  const gw = weighted<() => string>(r, [
    [6, () => String(cred.dlrGatewayId)],
    [1, () => '0'],
    [
      1,
      () =>
        pick(r, ['-1', '1e3', '1e400', '99999999999999999999', '0x1', '1.5', 'NaN', '%zz', '%00', '..', '']),
    ],
    [1, () => wire(r, value(r)).slice(0, 200)],
  ])();
  const secretMode = weighted(r, [
    [3, 'none'],
    [2, 'wrong'],
    [5, 'right'],
  ] as const);
  const names = ['messageid', 'message_id', 'msgid', 'id', 'smsid', 'mid', 'err', 'secret', 'text'];
  const q: string[] = [];
  const headers: Array<[string, string]> = [];
  let authed = false;
  if (secretMode === 'right') {
    authed = true;
    if (chance(r, 0.5)) q.push(`secret=${CLEAN(cred.dlrSecret)}`);
    else headers.push(['X-DLR-Secret', cred.dlrSecret]);
  } else if (secretMode === 'wrong') {
    if (chance(r, 0.5)) q.push(`secret=${wire(r, value(r))}`);
    else headers.push(['X-DLR-Secret', utf8(value(r).replace(/[\r\n]/g, ''))]);
  }
  // Without the right secret a status is harmless; with it the report must lack one.
  const qNames = authed ? names : [...names, ...STATUS_NAMES];
  const extra = paramString(r, qNames, int(r, 0, 6));
  if (extra) q.push(extra);
  let body: Buffer = Buffer.alloc(0);
  if (method === 'POST') {
    const ct = pick(r, CONTENT_TYPES);
    addBodyHeaders(r, headers, ct);
    body = chance(r, 0.05)
      ? huge(r)
      : Buffer.from(chance(r, 0.5) ? paramString(r, qNames, int(r, 0, 6)) : jsonBody(r, qNames), 'latin1');
  }
  let c: HttpCase = {
    target: 'dlr',
    kind: `dlr:${secretMode}`,
    method,
    path: `/dlr/${gw}${q.length ? `?${q.join('&')}` : ''}`,
    headers,
    body,
    protocol: false,
    authed,
  };
  if (authed && couldBeReport(c)) {
    c = { ...c, kind: `${c.kind}:stripped`, path: stripParams(c.path, STATUS_NAMES), body: Buffer.alloc(0) };
  }
  return c;
}

/** Whether a DLR with the right secret could carry a status (then it would be a real report). */
function couldBeReport(c: HttpCase): boolean {
  const { query } = splitTarget(c.path);
  const ct = c.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  const body = textBody(c.body, ct) ?? '';
  for (const p of [serverParams(query, body, ct), serverParams(query, '', ct)]) {
    if (p && STATUS_NAMES.some((n) => p.has(n))) return true;
  }
  return false;
}

const SEND_KEYS = ['to', 'text', 'from'];
const BATCH_KEYS = ['recipients', 'text', 'from', 'scheduleAt'];

function v1Case(r: Rng, cred: FuzzCredentials): HttpCase {
  const authMode = weighted(r, [
    [3, 'none'],
    [2, 'wrong'],
    [5, 'right'],
  ] as const);
  const headers: Array<[string, string]> = [];
  if (authMode === 'right')
    headers.push(['Authorization', `${pick(r, ['Bearer', 'bearer', 'BEARER'])} ${cred.apiKey}`]);
  else if (authMode === 'wrong')
    headers.push([
      'Authorization',
      pick(r, [
        'Bearer',
        'Bearer ',
        `Bearer ${cred.apiKey}x`,
        `Basic ${Buffer.from(`admin:${cred.adminPassword}`).toString('base64')}`,
        `Bearer ${'k'.repeat(int(r, 100, 8000))}`,
        `Bearer ${utf8(value(r).replace(/[\r\n]/g, ''))}`,
        `${cred.apiKey}`,
      ]),
    ]);
  const authed = authMode === 'right';
  if (chance(r, 0.2)) headers.push(['Idempotency-Key', utf8(value(r).replace(/[\r\n]/g, '')).slice(0, 300)]);

  const op = weighted(r, [
    [30, 'send'],
    [20, 'batch'],
    [8, 'getMessage'],
    [6, 'getBatch'],
    [6, 'cancel'],
    [8, 'cdrs'],
    [6, 'inbox'],
    [2, 'openapi'],
    [8, 'random'],
  ] as const);
  const id = () =>
    wire(
      r,
      pick(r, [
        value(r),
        '01890f2e-0000-7000-8000-000000000000',
        '..',
        '%2e%2e',
        'x'.repeat(int(r, 1, 2000)),
      ]),
    ).slice(0, 4000);
  let method = 'GET';
  let path = '/v1/openapi.json';
  let body: Buffer = Buffer.alloc(0);
  switch (op) {
    case 'send':
    case 'batch': {
      method = chance(r, 0.9) ? 'POST' : pick(r, ['GET', 'PUT', 'DELETE', 'PATCH']);
      path = op === 'send' ? '/v1/messages' : '/v1/batches';
      const keys = op === 'send' ? SEND_KEYS : BATCH_KEYS;
      const shape = weighted(r, [
        [6, 'json'],
        [1, 'ct'],
        [1, 'huge'],
        [op === 'batch' ? 2 : 0, 'csv'],
      ] as const);
      let ct: string | undefined = 'application/json';
      let text = jsonBody(r, keys);
      if (shape === 'ct') ct = pick(r, CONTENT_TYPES);
      if (shape === 'csv') {
        ct = pick(r, ['text/csv', 'text/csv; charset=utf-8']);
        // Every cell holds a letter: whichever column the parser takes as the number, it is no number.
        const cell = () => `${pick(r, ['a', 'x', 'Z'])}${randomText(r, 12).replace(/[\r\n]/g, '')}`;
        const line = () =>
          Array.from({ length: int(r, 1, 4) }, () =>
            chance(r, 0.3) ? `"${cell().replace(/"/g, '""')}"` : cell().replace(/[",]/g, ''),
          ).join(',');
        text = Array.from({ length: int(r, 1, 20) }, line).join(pick(r, ['\n', '\r\n']));
        if (chance(r, 0.3)) path += `?text=${wire(r, value(r))}&from=${wire(r, value(r))}`;
      }
      // Whatever the content type says, a JSON object in the body of a send must not be a valid one.
      if (shape !== 'csv' && authed) text = poisonJson(text, keys);
      addBodyHeaders(r, headers, ct);
      body = shape === 'huge' ? huge(r) : Buffer.from(utf8(text), 'latin1');
      if (shape === 'huge' && chance(r, 0.5)) body = Buffer.alloc(int(r, 1_050_000, 1_300_000), ' ');
      return {
        target: 'v1',
        kind: `v1:${op}:${authMode}:${shape}`,
        method,
        path,
        headers,
        body,
        protocol: false,
        authed,
      };
    }
    case 'getMessage':
      path = `/v1/messages/${id()}`;
      break;
    case 'getBatch':
      path = `/v1/batches/${id()}`;
      break;
    case 'cancel':
      method = 'POST';
      path = `/v1/batches/${id()}/cancel`;
      break;
    case 'cdrs':
      path = `/v1/cdrs?${paramString(r, ['limit', 'from', 'to', 'user', 'userId', 'state', 'before', 'after', 'q', 'gateway', 'cursor'], int(r, 0, 6))}`;
      break;
    case 'inbox':
      path = `/v1/inbox?${paramString(r, ['limit', 'before', 'userId'], int(r, 0, 4))}`;
      break;
    case 'openapi':
      path = pick(r, ['/v1/openapi.json', '/v1/openapi.json?x=%zz', '/v1/OPENAPI.JSON']);
      break;
    case 'random':
      path = `/v1/${wire(r, value(r)).slice(0, 3000)}`;
      break;
  }
  if (chance(r, 0.15)) method = pick(r, ['PUT', 'DELETE', 'PATCH', 'POST', 'OPTIONS']);
  if (method !== 'GET' && chance(r, 0.5)) {
    addBodyHeaders(r, headers, pick(r, CONTENT_TYPES));
    // These are no sends, but keep any JSON object unusable as one anyway.
    body = Buffer.from(utf8(poisonJson(jsonBody(r, [...SEND_KEYS, ...BATCH_KEYS]), SEND_KEYS)), 'latin1');
  }
  return { target: 'v1', kind: `v1:${op}:${authMode}`, method, path, headers, body, protocol: false, authed };
}

/** A JSON object with only known fields could be valid: give it an unknown field (schemas are strict). */
function poisonJson(text: string, allowed: readonly string[]): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return text;
  if (Object.keys(parsed).some((k) => !allowed.includes(k))) return text;
  return JSON.stringify({ ...(parsed as Record<string, unknown>), 'x-fuzz': true });
}

/** HTTP-level garbage: broken request lines, headers, framing. Node's parser answers these. */
function protocolCase(r: Rng, cred: FuzzCredentials): HttpCase {
  const target = pick(r, ['/mvapireq/?apientry=asendsms', '/v1/messages', '/', `/dlr/${cred.dlrGatewayId}`]);
  const t: Target = target.startsWith('/mvapireq')
    ? 'mizu'
    : target.startsWith('/v1')
      ? 'v1'
      : target === '/'
        ? 'inbound'
        : 'dlr';
  const variant = int(r, 0, 9);
  const headers: Array<[string, string]> = [];
  let path = target;
  let method = 'POST';
  let body = Buffer.from('a=1');
  switch (variant) {
    case 0:
      path = `${target}${target.includes('?') ? '&' : '?'}x=${rawBytes(r)}`; // invalid UTF-8 in the target
      break;
    case 1:
      path = `${target}${target.includes('?') ? '&' : '?'}q=${'A'.repeat(int(r, 17_000, 70_000))}`; // too long
      break;
    case 2:
      headers.push(['X-Huge', 'h'.repeat(int(r, 17_000, 40_000))]);
      break;
    case 3:
      headers.push(['Content-Length', '1']); // less announced than sent: the rest is garbage
      body = Buffer.from(`a${rawBytes(r)}\r\n\r\n`);
      break;
    case 4:
      headers.push(['Content-Length', '-5']);
      break;
    case 5:
      headers.push(['Transfer-Encoding', 'chunked']);
      body = Buffer.from(`${pick(r, ['zz', 'fffffffffffffffff', '-1', '3'])}\r\nabc\r\n0\r\n\r\n`);
      break;
    case 6:
      headers.push(['Content-Length', '3'], ['Transfer-Encoding', 'chunked']); // request smuggling shape
      body = Buffer.from('0\r\n\r\n');
      break;
    case 7:
      headers.push([`Bad Header${rawBytes(r)}`, 'x']);
      break;
    case 8:
      headers.push(['X-Ctl', `a\u0001b${rawBytes(r)}`]);
      break;
    default:
      method = `${pick(r, ['GET', 'POST'])}${pick(r, [' ', '\t', '\u0000', ''])}`;
      path = `${target} extra`;
  }
  headers.push(['Connection', 'close']);
  return {
    target: t,
    kind: `protocol:${variant}`,
    method,
    path,
    headers,
    body,
    protocol: true,
    authed: false,
  };
}

/** The next case (deterministic for a given random source). */
export function nextCase(r: Rng, cred: FuzzCredentials): HttpCase {
  const c = anyCase(r, cred);
  if (c.protocol || !breaksHttp(c)) return c;
  return {
    ...c,
    kind: `protocol:${c.kind}`,
    protocol: true,
    headers: [...c.headers, ['Connection', 'close']],
  };
}

function anyCase(r: Rng, cred: FuzzCredentials): HttpCase {
  return weighted<() => HttpCase>(r, [
    [45, () => mizuCase(r, cred)],
    [28, () => v1Case(r, cred)],
    [10, () => inboundCase(r)],
    [14, () => dlrCase(r, cred)],
    [3, () => protocolCase(r, cred)],
  ])();
}
