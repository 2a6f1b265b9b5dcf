/**
 * SIP messages: parsing and serialising with the `sip` package (its parser works on "binary"
 * strings, one char per byte), plus the checks and helpers this service needs on top of it.
 */
import { randomBytes } from 'node:crypto';
import sip, { type SipAor, type SipMessageObject, type SipUri } from 'sip';

export type { SipAor, SipMessageObject, SipUri };

/** A request that passed `checkRequest`: the headers every transaction needs are there. */
export interface SipRequest extends SipMessageObject {
  method: string;
  uri: string;
  headers: SipMessageObject['headers'] & {
    via: NonNullable<SipMessageObject['headers']['via']>;
    from: SipAor;
    to: SipAor;
    'call-id': string;
    cseq: { seq: number; method: string };
  };
}

/** The largest datagram or framed message we accept (RFC 3261 18.1.1 suggests 1300 for UDP). */
export const MAX_MESSAGE_BYTES = 65_535;

/** Parses one datagram; undefined when it is not SIP at all. */
export function parseDatagram(buf: Buffer): SipMessageObject | undefined {
  try {
    return sip.parse(buf.toString('binary'));
  } catch {
    return undefined;
  }
}

/** Serialises a message to the bytes to send (Content-Length counts bytes). */
export function encode(m: SipMessageObject): Buffer {
  return Buffer.from(sip.stringify(m), 'binary');
}

/** UTF-8 text as the parser's binary string (what goes into `content`). */
export function toWire(text: string): string {
  return Buffer.from(text, 'utf8').toString('binary');
}

/** The body as UTF-8 text; undefined when it is not valid UTF-8. */
export function bodyText(m: SipMessageObject): string | undefined {
  const bytes = Buffer.from(m.content ?? '', 'binary');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function bodyBytes(m: SipMessageObject): number {
  return (m.content ?? '').length;
}

/** A generic (string) header, trimmed; undefined when absent. */
export function header(m: SipMessageObject, name: string): string | undefined {
  const v = m.headers[name.toLowerCase()];
  return typeof v === 'string' ? v.trim() : undefined;
}

export function unquote(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t;
}

export function parseUri(s: string): SipUri | undefined {
  try {
    return sip.parseUri(s);
  } catch {
    return undefined;
  }
}

/** The user part of a SIP URI, percent-decoded (`sip:%2B3620...@host` -> `+3620...`). */
export function uriUser(uri: SipUri | undefined): string {
  if (!uri?.user) return '';
  try {
    return decodeURIComponent(uri.user);
  } catch {
    return uri.user;
  }
}

/** Why a request cannot be handled at all (400), or undefined when it is well formed. */
export function checkRequest(m: SipMessageObject, received: Buffer | string): string | undefined {
  if (!m.method || !m.uri) return 'not a request';
  if (m.version !== '2.0') return 'SIP version not supported';
  const h = m.headers;
  if (!Array.isArray(h.via) || h.via.length === 0) return 'missing Via';
  if (!h.from?.uri) return 'missing From';
  if (!h.to?.uri) return 'missing To';
  if (!h['call-id']) return 'missing Call-ID';
  if (!h.cseq || !Number.isFinite(h.cseq.seq)) return 'missing or bad CSeq';
  if (h.cseq.method.toUpperCase() !== m.method.toUpperCase()) return 'CSeq method does not match';
  if (!parseUri(m.uri)) return 'bad Request-URI';
  const declared = h['content-length'];
  if (declared !== undefined && (!Number.isInteger(declared) || declared < 0)) return 'bad Content-Length';
  // A datagram shorter than its Content-Length was cut on the way (RFC 3261 18.3).
  if (declared !== undefined && (m.content ?? '').length < declared)
    return 'body shorter than Content-Length';
  void received;
  return undefined;
}

export function isRequest(m: SipMessageObject): m is SipRequest {
  return typeof m.method === 'string' && m.method !== '';
}

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

export function newBranch(): string {
  return `z9hG4bK${randomBytes(8).toString('hex')}`;
}

/** A response to `req`, with a To tag on every final response (RFC 3261 8.2.6.2). */
export function makeResponse(
  req: SipRequest,
  status: number,
  reason: string,
  extra: { headers?: Record<string, unknown>; content?: string; toTag?: string } = {},
): SipMessageObject {
  const to: SipAor = { ...req.headers.to, params: { ...req.headers.to.params } };
  if (status >= 200 && !to.params['tag']) to.params['tag'] = extra.toTag ?? newTag();
  return {
    status,
    reason,
    version: '2.0',
    headers: {
      via: req.headers.via,
      from: req.headers.from,
      to,
      'call-id': req.headers['call-id'],
      cseq: req.headers.cseq,
      ...extra.headers,
    },
    content: extra.content ?? '',
  };
}

/**
 * A byte-stream framer for TCP/TLS: calls `onMessage` for each whole message (headers and
 * Content-Length bytes of body), `onFlood` when headers or body exceed the limits.
 */
export function streamFramer(
  onMessage: (m: SipMessageObject) => void,
  onFlood: () => void,
  maxBytes = MAX_MESSAGE_BYTES,
): (chunk: Buffer) => void {
  const feed = sip.makeStreamParser(onMessage, onFlood, maxBytes, maxBytes);
  return (chunk) => feed(chunk.toString('binary'));
}
