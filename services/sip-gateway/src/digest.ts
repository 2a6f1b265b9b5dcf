/**
 * SIP digest authentication (RFC 3261 22, RFC 2617 / RFC 7616 with MD5 and qop=auth).
 *
 * Nonces are stateless: `<issued-ms base36>.<random>.<HMAC>` signed with a key every replica
 * shares, so a challenge from one replica is verified by any other, and each nonce expires.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { unquote } from './sip-message.js';

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

export type NonceState = 'ok' | 'stale' | 'invalid';
export type DigestResult = { ok: true } | { ok: false; stale: boolean; reason: string };

export function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

/** The expected `response` for the given credentials and password (RFC 2617 3.2.2.1). */
export function digestResponse(c: DigestCredentials, method: string, password: string): string {
  const ha1 = md5(`${c.username}:${c.realm}:${password}`);
  const ha2 = md5(`${method}:${c.uri}`);
  if (c.qop) return md5(`${ha1}:${c.nonce}:${c.nc ?? ''}:${c.cnonce ?? ''}:${c.qop}:${ha2}`);
  return md5(`${ha1}:${c.nonce}:${ha2}`);
}

/** Reads an Authorization header as parsed by the `sip` package (quoted values). */
export function readCredentials(h: Record<string, string> | undefined): DigestCredentials | undefined {
  if (!h || (h['scheme'] ?? '').toLowerCase() !== 'digest') return undefined;
  const get = (k: string) => unquote(h[k]);
  const username = get('username');
  const realm = get('realm');
  const nonce = get('nonce');
  const uri = get('uri');
  const response = get('response');
  if (!username || realm === undefined || !nonce || !uri || !response) return undefined;
  return {
    username,
    realm,
    nonce,
    uri,
    response: response.toLowerCase(),
    algorithm: get('algorithm') ?? 'MD5',
    qop: get('qop'),
    nc: get('nc'),
    cnonce: get('cnonce'),
    opaque: get('opaque'),
  };
}

export class DigestAuth {
  constructor(
    private readonly key: Buffer,
    readonly realm: string,
    private readonly nonceTtlMs: number,
  ) {}

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(`${this.realm}|${body}`).digest('base64url').slice(0, 32);
  }

  nonce(now = Date.now()): string {
    const body = `${now.toString(36)}.${randomBytes(9).toString('base64url')}`;
    return `${body}.${this.sign(body)}`;
  }

  checkNonce(nonce: string, now = Date.now()): NonceState {
    const i = nonce.lastIndexOf('.');
    if (i < 0) return 'invalid';
    const body = nonce.slice(0, i);
    const sig = Buffer.from(nonce.slice(i + 1));
    const want = Buffer.from(this.sign(body));
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return 'invalid';
    const issued = parseInt(body.split('.')[0] ?? '', 36);
    if (!Number.isFinite(issued) || issued > now + 5_000) return 'invalid';
    return now - issued > this.nonceTtlMs ? 'stale' : 'ok';
  }

  /** The WWW-Authenticate header value (as the `sip` package's stringifier takes it). */
  challenge(stale = false, now = Date.now()): Record<string, string> {
    const h: Record<string, string> = {
      scheme: 'Digest',
      realm: `"${this.realm}"`,
      nonce: `"${this.nonce(now)}"`,
      algorithm: 'MD5',
      qop: '"auth"',
    };
    if (stale) h['stale'] = 'true';
    return h;
  }

  /**
   * Verifies credentials for `method` against the user's password. A stale (expired but genuine)
   * nonce with a right response asks for a new challenge (`stale=true`) instead of failing.
   */
  verify(c: DigestCredentials, method: string, password: string, now = Date.now()): DigestResult {
    if (c.realm !== this.realm) return { ok: false, stale: false, reason: 'wrong realm' };
    if (c.algorithm.toUpperCase() !== 'MD5')
      return { ok: false, stale: false, reason: 'unsupported algorithm' };
    if (c.qop !== undefined && c.qop !== 'auth')
      return { ok: false, stale: false, reason: 'unsupported qop' };
    if (c.qop && (!c.nc || !c.cnonce)) return { ok: false, stale: false, reason: 'qop without nc/cnonce' };
    const state = this.checkNonce(c.nonce, now);
    if (state === 'invalid') return { ok: false, stale: false, reason: 'nonce not issued here' };
    const want = Buffer.from(digestResponse(c, method, password));
    const got = Buffer.from(c.response);
    const match = want.length === got.length && timingSafeEqual(want, got);
    if (!match) return { ok: false, stale: false, reason: 'wrong credentials' };
    if (state === 'stale') return { ok: false, stale: true, reason: 'nonce expired' };
    return { ok: true };
  }
}
