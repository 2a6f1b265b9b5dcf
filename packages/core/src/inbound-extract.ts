/**
 * Pure rules of the `smsreceive` entry: who may post (`smsreceive_ip`, `httpsmcallbackip`), whether a
 * request is an SMS at all (`smsreceive_check`) and how sender, target and text are found in it
 * (`smsreceive_from`, `smsreceive_to`, `smsreceive_message`).
 */
import ipaddr from 'ipaddr.js';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

export interface IpAllowList {
  /** True when the configured list is empty: everyone is allowed. */
  any: boolean;
  ranges: { addr: Addr; bits: number }[];
  /** Entries that are neither an address nor a CIDR range (ignored: they match nobody). */
  invalid: string[];
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) compares as IPv4. */
function normalise(a: Addr): Addr {
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress())
    return (a as ipaddr.IPv6).toIPv4Address();
  return a;
}

/**
 * Parses `1.2.3.4, 10.0.0.0/8, ::1` (comma, semicolon or space separated). An invalid entry never
 * widens the list: it is reported and matches nobody, so a typo cannot open the door to everyone.
 */
export function parseIpAllowList(list: string): IpAllowList {
  const entries = list
    .split(/[,;\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: IpAllowList = { any: entries.length === 0, ranges: [], invalid: [] };
  for (const e of entries) {
    try {
      if (e.includes('/')) {
        const [addr, bits] = ipaddr.parseCIDR(e);
        const n = normalise(addr);
        // A mapped IPv6 range (::ffff:10.0.0.0/104) becomes the IPv4 range it stands for.
        const b = n.kind() !== addr.kind() ? bits - 96 : bits;
        out.ranges.push({ addr: n, bits: Math.max(0, b) });
      } else {
        const a = normalise(ipaddr.parse(e));
        out.ranges.push({ addr: a, bits: a.kind() === 'ipv4' ? 32 : 128 });
      }
    } catch {
      out.invalid.push(e);
    }
  }
  return out;
}

export function ipAllowed(list: IpAllowList, ip: string): boolean {
  if (list.any) return true;
  let a: Addr;
  try {
    a = normalise(ipaddr.parse(ip.trim()));
  } catch {
    return false;
  }
  return list.ranges.some((r) => r.addr.kind() === a.kind() && a.match(r.addr, r.bits));
}

/** `smsreceive_check`: the request must contain this string (empty: no check). */
export function passesCheck(check: string, raw: string): boolean {
  return check === '' || raw.includes(check);
}

/** What the extraction rules read: parsed parameters and the raw request text. */
export interface InboundInput {
  /** Parameters from the query string and a form or JSON body; keys lower case. */
  params: ReadonlyMap<string, string>;
  /** The query string as received (without `?`), URL-encoded. */
  query: string;
  /** The body as received. */
  body: string;
  /** The body is `application/x-www-form-urlencoded` (values found in it get decoded). */
  bodyFormEncoded: boolean;
}

/** The raw text the markers are searched in: query string, a newline, the body. */
export function rawRequestText(input: Pick<InboundInput, 'query' | 'body'>): string {
  return `${input.query}\n${input.body}`;
}

export type ExtractSpec =
  | { kind: 'default' }
  | { kind: 'param'; name: string }
  | { kind: 'markers'; from1: string; from2: string; to1: string; to2: string };

/**
 * A `smsreceive_from|to|message` value: empty (the usual parameter names), a single word (a parameter
 * name), or `fromstring1,fromstring2,tostring1,tostring2` (text between markers of the raw request;
 * missing trailing markers are empty).
 */
export function parseExtractSpec(spec: string): ExtractSpec {
  const s = spec.trim();
  if (s === '') return { kind: 'default' };
  if (!s.includes(',')) return { kind: 'param', name: s.toLowerCase() };
  const [from1 = '', from2 = '', to1 = '', to2 = ''] = spec.split(',');
  return { kind: 'markers', from1, from2, to1, to2 };
}

/**
 * The text between markers: it starts after `from1` (or, when `from1` does not occur, after
 * `from2`; both empty: at the start) and ends before the first `to1` after it (or `to2`; neither
 * occurs or both empty: at the end). Undefined when no start marker occurs.
 */
export function extractBetween(
  raw: string,
  m: { from1: string; from2: string; to1: string; to2: string },
): { value: string; start: number } | undefined {
  let start: number;
  if (m.from1 === '' && m.from2 === '') start = 0;
  else {
    start = -1;
    for (const marker of [m.from1, m.from2]) {
      if (marker === '') continue;
      const i = raw.indexOf(marker);
      if (i >= 0) {
        start = i + marker.length;
        break;
      }
    }
    if (start < 0) return undefined;
  }
  let end = raw.length;
  for (const marker of [m.to1, m.to2]) {
    if (marker === '') continue;
    const i = raw.indexOf(marker, start);
    if (i >= 0) {
      end = i;
      break;
    }
  }
  return { value: raw.slice(start, end), start };
}

function decodeForm(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}

export const DEFAULT_PARAM_NAMES = {
  from: ['from', 'anum', 'sender', 'msisdn', 'source'],
  to: ['to', 'bnum', 'bnun', 'receiver', 'destination', 'dest'],
  message: ['message', 'txt', 'text', 'body', 'msg'],
} as const;

export type InboundField = keyof typeof DEFAULT_PARAM_NAMES;

/** One field of an incoming SMS by its `smsreceive_*` rule; undefined when it is not there. */
export function extractInboundField(
  field: InboundField,
  spec: string,
  input: InboundInput,
): string | undefined {
  const s = parseExtractSpec(spec);
  if (s.kind === 'default') {
    for (const n of DEFAULT_PARAM_NAMES[field]) {
      const v = input.params.get(n);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  if (s.kind === 'param') return input.params.get(s.name);
  const raw = rawRequestText(input);
  const hit = extractBetween(raw, s);
  if (!hit) return undefined;
  // Form-encoded places (the query string, a form body) hold %XX and + for space.
  const inQuery = hit.start <= input.query.length;
  const value = inQuery || input.bodyFormEncoded ? decodeForm(hit.value) : hit.value;
  return value.trim();
}

export interface ExtractedSms {
  from: string;
  to: string;
  message: string;
}

/** All three fields; reports the first one missing. */
export function extractInboundSms(
  cfg: { smsreceive_from: string; smsreceive_to: string; smsreceive_message: string },
  input: InboundInput,
): { ok: true; sms: ExtractedSms } | { ok: false; missing: InboundField } {
  const from = extractInboundField('from', cfg.smsreceive_from, input);
  if (from === undefined) return { ok: false, missing: 'from' };
  const to = extractInboundField('to', cfg.smsreceive_to, input);
  if (to === undefined || to.trim() === '') return { ok: false, missing: 'to' };
  const message = extractInboundField('message', cfg.smsreceive_message, input);
  if (message === undefined) return { ok: false, missing: 'message' };
  return { ok: true, sms: { from: from.trim(), to: to.trim(), message } };
}
