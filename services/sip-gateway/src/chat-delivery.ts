/**
 * Delivers inbound SMS of the "chat" route (`sms.inbound` events from services/inbound) to the
 * user's registered SIP contacts as SIP MESSAGE requests, retrying with backoff; the final outcome
 * is recorded on the inbox row (the message stays in the inbox either way).
 */
import type { SipChatState } from '@smsfleet/db';
import type { Binding, Registrar, SipTransportName } from './registrar.js';
import { newBranch, newTag, parseUri, toWire, type SipMessageObject } from './sip-message.js';
import type { Source } from './transport.js';

/** The part of services/inbound's `InboundEvent` this needs. */
export interface ChatEvent {
  moId: string;
  userId: number;
  from: string;
  to: string;
  text: string;
  /** The user's configured SIP URI (or webhook URL), used when nothing is registered. */
  chatEndpoint: string;
}

export interface ChatDeliveryDeps {
  registrar: Registrar;
  userName(userId: number): Promise<string | undefined>;
  request(m: SipMessageObject, to: Source): Promise<{ status: number; reason: string }>;
  /** Our address as peers should see it, per transport (Via sent-by). */
  via(transport: SipTransportName): { host: string; port: number };
  /** True when a TCP/TLS connection from that peer is open on this replica. */
  connected(src: Source): boolean;
  realm: string;
  attempts: number;
  retryDelayMs: number;
  /** Already delivered (a redelivered event): skip. */
  alreadyDone(moId: string): Promise<boolean>;
  record(moId: string, state: SipChatState, attempts: number, detail: string): Promise<void>;
  onOutcome?(state: SipChatState): void;
  sleep?(ms: number): Promise<void>;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

/**
 * Where a binding is reached. Over TCP/TLS the connection the client registered on is reused while
 * it is open (`connected`); otherwise the Contact URI's host and port (RFC 3261 routing).
 */
export function targetOf(b: Binding, connected: (src: Source) => boolean): Source {
  const source: Source = { transport: b.transport, address: b.address, port: b.port };
  if (b.transport !== 'udp' && connected(source)) return source;
  const u = parseUri(b.contact);
  if (!u) return source;
  const port = Number.isFinite(u.port) && u.port > 0 ? u.port : b.transport === 'tls' ? 5061 : 5060;
  return { transport: b.transport, address: u.host.replace(/^\[|\]$/g, ''), port };
}

/** A target for a configured `sip:` chat endpoint (no registration). */
export function endpointTarget(endpoint: string): { uri: string; to: Source } | undefined {
  const u = parseUri(endpoint.trim());
  if (!u || (u.schema !== 'sip' && u.schema !== 'sips')) return undefined;
  const param = (u.params['transport'] ?? '').toLowerCase();
  const transport: SipTransportName =
    u.schema === 'sips' || param === 'tls' ? 'tls' : param === 'tcp' ? 'tcp' : 'udp';
  const port = Number.isFinite(u.port) && u.port > 0 ? u.port : transport === 'tls' ? 5061 : 5060;
  return { uri: endpoint.trim(), to: { transport, address: u.host, port } };
}

/** Display-safe SIP user part for the sender number. */
function userPart(s: string): string {
  return encodeURIComponent(s || 'unknown').replace(/%2B/g, '+');
}

export class ChatDelivery {
  constructor(private readonly d: ChatDeliveryDeps) {}

  buildMessage(e: ChatEvent, user: string, uri: string, transport: SipTransportName): SipMessageObject {
    const via = this.d.via(transport);
    return {
      method: 'MESSAGE',
      uri,
      version: '2.0',
      headers: {
        via: [
          {
            version: '2.0',
            protocol: transport.toUpperCase(),
            host: via.host,
            port: via.port,
            params: { branch: newBranch(), rport: null },
          },
        ],
        'max-forwards': '70',
        from: { uri: `sip:${userPart(e.from)}@${this.d.realm}`, params: { tag: newTag() } },
        to: { uri: `sip:${encodeURIComponent(user)}@${this.d.realm}`, params: {} },
        'call-id': `${newTag()}${newTag()}@${via.host}`,
        cseq: { seq: 1, method: 'MESSAGE' },
        'content-type': 'text/plain;charset=UTF-8',
        'x-smsfleet-moid': e.moId,
      },
      content: toWire(e.text),
    };
  }

  /** Delivers one event; never throws for SIP failures (they are recorded). */
  async deliver(e: ChatEvent): Promise<SipChatState> {
    if (await this.d.alreadyDone(e.moId)) return 'delivered';
    const user = await this.d.userName(e.userId);
    let attempts = 0;
    let last = '';
    for (let round = 0; round < this.d.attempts; round++) {
      if (round > 0) await (this.d.sleep ?? sleep)(this.d.retryDelayMs * 2 ** (round - 1));
      const targets: { uri: string; to: Source }[] = [];
      if (user)
        for (const b of await this.d.registrar.bindings(user))
          targets.push({ uri: b.contact, to: targetOf(b, (src) => this.d.connected(src)) });
      if (targets.length === 0) {
        const ep = endpointTarget(e.chatEndpoint);
        if (ep) targets.push(ep);
      }
      if (targets.length === 0) {
        if (round === 0) return this.finish(e, 'no-contact', 0, 'no SIP registration');
        break;
      }
      for (const t of targets) {
        attempts++;
        const r = await this.d.request(this.buildMessage(e, user ?? '', t.uri, t.to.transport), t.to);
        last = `${r.status} ${r.reason}`.trim();
        if (r.status >= 200 && r.status < 300) return this.finish(e, 'delivered', attempts, last);
        this.d.log.warn(
          { moId: e.moId, userId: e.userId, transport: t.to.transport, status: r.status, attempt: attempts },
          'sip chat attempt failed',
        );
        // A client that refuses for good (4xx other than timeouts/busy, 6xx) is not retried.
        if (isPermanent(r.status)) return this.finish(e, 'failed', attempts, last);
      }
    }
    return this.finish(e, 'failed', attempts, last || 'no SIP registration left');
  }

  private async finish(
    e: ChatEvent,
    state: SipChatState,
    attempts: number,
    detail: string,
  ): Promise<SipChatState> {
    await this.d.record(e.moId, state, attempts, detail);
    this.d.onOutcome?.(state);
    this.d.log.info({ moId: e.moId, userId: e.userId, attempts, detail, state: `sip-${state}` }, 'sip chat');
    return state;
  }
}

export function isPermanent(status: number): boolean {
  if (status >= 600) return true;
  return status >= 400 && status < 500 && ![408, 480, 486, 491].includes(status);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
