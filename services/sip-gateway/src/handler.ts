/**
 * What the SIP front does with a request: REGISTER (contacts in the registrar), MESSAGE (RFC 3428:
 * an SMS through the send API when the target qualifies under `sendsmsmessages`), OPTIONS; digest
 * authentication for REGISTER and MESSAGE. Returns the response to send (none for ACK).
 */
import { decideSipTarget, parseMobilePrefixes } from '@smsfleet/core';
import { readCredentials, type DigestAuth } from './digest.js';
import type { SendOutcome } from './mizu-client.js';
import type { Binding, BindingChange, Registrar } from './registrar.js';
import {
  bodyBytes,
  bodyText,
  header,
  makeResponse,
  parseUri,
  uriUser,
  type SipMessageObject,
  type SipRequest,
} from './sip-message.js';
import type { Source } from './transport.js';

export const ALLOW = 'REGISTER, MESSAGE, OPTIONS, ACK';

/** The user as SIP authentication needs it; undefined when no such user. */
export interface SipUserSecret {
  name: string;
  password: string;
  enabled: boolean;
}

export interface SipHandlerConfig {
  sendsmsmessages: number;
  sendsmsmessages_country: string;
  sendsmsmessages_mobileprefixes: string;
  apiv2key: string;
}

export interface SipHandlerDeps {
  auth: DigestAuth;
  /** The one place users' SIP secrets come from (swap for packages/security when it lands). */
  userSecret(name: string): Promise<SipUserSecret | undefined>;
  /** Optional ban list for repeated failures: true when this user/address may not try now. */
  isBanned?(name: string, address: string): Promise<boolean>;
  recordAuthFailure?(name: string, address: string): Promise<void>;
  recordAuthSuccess?(name: string, address: string): Promise<void>;
  /**
   * Claims one use of (nonce, nc, cnonce) fleet-wide: false when it was used before, i.e. the
   * request is a replay (UDP retransmissions are absorbed earlier, by the server transactions).
   */
  claimNonceUse?(nonce: string, nc: string, cnonce: string): Promise<boolean>;
  registrar: Registrar;
  config(): SipHandlerConfig;
  sendSms(p: { apiKey: string; user: string; to: string; text: string }): Promise<SendOutcome>;
  maxBodyBytes: number;
  minExpiresS: number;
  maxExpiresS: number;
  defaultExpiresS: number;
  onOutcome?(method: string, status: number): void;
  log: {
    info(o: object, msg: string): void;
    warn(o: object, msg: string): void;
  };
}

type Authed = { ok: true; user: string } | { ok: false; response: SipMessageObject };

function warning(text: string): string {
  return `399 smsfleet "${text.replace(/["\\\r\n]/g, ' ').slice(0, 200)}"`;
}

export class SipHandler {
  constructor(private readonly d: SipHandlerDeps) {}

  async handle(req: SipRequest, src: Source): Promise<SipMessageObject | undefined> {
    const method = req.method.toUpperCase();
    let res: SipMessageObject | undefined;
    switch (method) {
      case 'ACK':
        return undefined;
      case 'OPTIONS':
        res = makeResponse(req, 200, 'OK', { headers: { allow: ALLOW, accept: 'text/plain' } });
        break;
      case 'REGISTER':
        res = await this.register(req, src);
        break;
      case 'MESSAGE':
        res = await this.message(req, src);
        break;
      case 'INVITE':
      case 'BYE':
      case 'CANCEL':
      case 'SUBSCRIBE':
      case 'NOTIFY':
      case 'PUBLISH':
      case 'INFO':
      case 'UPDATE':
      case 'REFER':
      case 'PRACK':
        res = makeResponse(req, 405, 'Method Not Allowed', { headers: { allow: ALLOW } });
        break;
      default:
        res = makeResponse(req, 501, 'Not Implemented', { headers: { allow: ALLOW } });
    }
    this.d.onOutcome?.(method, res.status ?? 0);
    return res;
  }

  private async authenticate(req: SipRequest, src: Source): Promise<Authed> {
    const creds = readCredentials(req.headers.authorization?.[0]);
    const challenge = (stale: boolean) =>
      makeResponse(req, 401, 'Unauthorized', {
        headers: { 'www-authenticate': [this.d.auth.challenge(stale)] },
      });
    if (!creds) return { ok: false, response: challenge(false) };
    const forbidden = (why: string) =>
      makeResponse(req, 403, 'Forbidden', { headers: { warning: warning(why) } });
    if (this.d.isBanned && (await this.d.isBanned(creds.username, src.address))) {
      this.d.log.warn({ user: creds.username, address: src.address }, 'SIP auth refused: banned');
      return { ok: false, response: forbidden('too many failed attempts, try later') };
    }
    const user = await this.d.userSecret(creds.username);
    const result = user
      ? this.d.auth.verify(creds, req.method.toUpperCase(), user.password)
      : ({ ok: false, stale: false, reason: 'wrong credentials' } as const);
    if (!result.ok) {
      if (result.stale) return { ok: false, response: challenge(true) };
      // A nonce we never issued (another realm/key, or forged): challenge afresh.
      if (result.reason === 'nonce not issued here' || result.reason === 'wrong realm')
        return { ok: false, response: challenge(false) };
      await this.d.recordAuthFailure?.(creds.username, src.address);
      this.d.log.warn(
        { user: creds.username, address: src.address, reason: result.reason },
        'SIP auth failed',
      );
      return { ok: false, response: forbidden('wrong credentials') };
    }
    if (!user?.enabled) return { ok: false, response: forbidden('user is disabled') };
    if (
      creds.qop &&
      this.d.claimNonceUse &&
      !(await this.d.claimNonceUse(creds.nonce, creds.nc ?? '', creds.cnonce ?? ''))
    ) {
      this.d.log.warn({ user: user.name, address: src.address }, 'SIP digest replay refused');
      return { ok: false, response: challenge(false) };
    }
    await this.d.recordAuthSuccess?.(user.name, src.address);
    return { ok: true, user: user.name };
  }

  private async register(req: SipRequest, src: Source): Promise<SipMessageObject> {
    const auth = await this.authenticate(req, src);
    if (!auth.ok) return auth.response;
    const aor = uriUser(parseUri(req.headers.to.uri));
    if (aor !== auth.user)
      return makeResponse(req, 403, 'Forbidden', {
        headers: { warning: warning(`${auth.user} may not register ${aor}`) },
      });
    const expiresHeader = header(req, 'expires');
    const headerExpires = expiresHeader !== undefined ? Number(expiresHeader) : undefined;
    if (headerExpires !== undefined && !(Number.isInteger(headerExpires) && headerExpires >= 0))
      return makeResponse(req, 400, 'Bad Expires');
    // The `sip` parser reads `Contact: *` as a contact whose URI is `*`.
    const parsed = req.headers.contact;
    const contacts =
      Array.isArray(parsed) && parsed.length === 1 && parsed[0]?.uri.trim() === '*' ? '*' : parsed;
    const from: Omit<Binding, 'contact' | 'expiresAt'> = {
      transport: src.transport,
      address: src.address,
      port: src.port,
      callId: req.headers['call-id'],
      cseq: req.headers.cseq.seq,
    };
    let bound: Binding[];
    if (contacts === '*') {
      if (headerExpires !== 0) return makeResponse(req, 400, 'Contact * Needs Expires 0');
      bound = await this.d.registrar.apply(auth.user, [], from, true);
      this.d.log.info({ user: auth.user, state: 'unregistered-all' }, 'sip register');
    } else if (!contacts || contacts.length === 0) {
      bound = await this.d.registrar.bindings(auth.user); // a query (RFC 3261 10.2.3)
    } else {
      const changes: BindingChange[] = [];
      for (const c of contacts) {
        if (!parseUri(c.uri)) return makeResponse(req, 400, 'Bad Contact');
        const raw = c.params['expires'];
        let expires = raw != null ? Number(raw) : (headerExpires ?? this.d.defaultExpiresS);
        if (!Number.isInteger(expires) || expires < 0) return makeResponse(req, 400, 'Bad Expires');
        if (expires > 0 && expires < this.d.minExpiresS)
          return makeResponse(req, 423, 'Interval Too Brief', {
            headers: { 'min-expires': String(this.d.minExpiresS) },
          });
        expires = Math.min(expires, this.d.maxExpiresS);
        changes.push({ contact: c.uri, expires });
      }
      bound = await this.d.registrar.apply(auth.user, changes, from);
      this.d.log.info(
        {
          user: auth.user,
          transport: src.transport,
          address: src.address,
          port: src.port,
          contacts: bound.length,
          state: 'registered',
        },
        'sip register',
      );
    }
    const now = Date.now();
    const headers: Record<string, unknown> = { date: new Date(now).toUTCString() };
    if (bound.length)
      headers['contact'] = bound.map((b) => ({
        uri: b.contact,
        params: { expires: String(Math.max(0, Math.round((b.expiresAt - now) / 1000))) },
      }));
    return makeResponse(req, 200, 'OK', { headers });
  }

  private async message(req: SipRequest, src: Source): Promise<SipMessageObject> {
    const auth = await this.authenticate(req, src);
    if (!auth.ok) return auth.response;
    const reject = (status: number, reason: string, why: string, headers: Record<string, unknown> = {}) => {
      this.d.log.info({ user: auth.user, status, why, state: 'refused' }, 'sip message');
      return makeResponse(req, status, reason, { headers: { ...headers, warning: warning(why) } });
    };
    const ctype = header(req, 'content-type');
    const [mime = '', ...params] = (ctype ?? '').split(';').map((s) => s.trim().toLowerCase());
    const charset = params
      .find((p) => p.startsWith('charset='))
      ?.slice(8)
      .replace(/"/g, '');
    if (mime !== 'text/plain' || (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)))
      return reject(415, 'Unsupported Media Type', `only text/plain (UTF-8) is converted to SMS`, {
        accept: 'text/plain',
      });
    if (bodyBytes(req) > this.d.maxBodyBytes)
      return reject(413, 'Request Entity Too Large', `message over ${this.d.maxBodyBytes} bytes`);
    const raw = bodyText(req);
    if (raw === undefined) return reject(400, 'Bad Request', 'body is not valid UTF-8');
    // Trailing line breaks (many UAs end the body with CRLF) would only cost SMS characters.
    const text = raw.replace(/[\r\n]+$/, '');
    if (text.trim() === '') return reject(488, 'Not Acceptable Here', 'empty message');
    const cfg = this.d.config();
    const target = uriUser(parseUri(req.uri));
    const decision = decideSipTarget(target, {
      mode: cfg.sendsmsmessages,
      defaultCountry: cfg.sendsmsmessages_country,
      mobilePrefixes: parseMobilePrefixes(cfg.sendsmsmessages_mobileprefixes),
    });
    if (!decision.ok) return reject(404, 'Not Found', decision.reason);
    const sent = await this.d.sendSms({
      apiKey: cfg.apiv2key,
      user: auth.user,
      to: decision.number,
      text,
    });
    if (!sent.ok)
      return reject(
        sent.status,
        sent.reason,
        sent.detail,
        sent.retryAfterS ? { 'retry-after': String(sent.retryAfterS) } : {},
      );
    this.d.log.info(
      { user: auth.user, smsid: sent.smsid, kind: decision.kind, address: src.address, state: 'accepted' },
      'sip message',
    );
    return makeResponse(req, 202, 'Accepted', { headers: { 'x-smsid': sent.smsid } });
  }
}
