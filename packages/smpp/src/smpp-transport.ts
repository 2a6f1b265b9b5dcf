import { readFileSync } from 'node:fs';
import type tls from 'node:tls';
import {
  describeSmppStatus,
  smppStatus,
  type OutboundSms,
  type SmppGatewayConfig,
  type SubmitResult,
  type Transport,
} from '@smsfleet/core';
import { LocalBindLeaser, type BindLeaser } from './bind-lease.js';
import { parseDeliver, type DeliverEvent } from './deliver.js';
import { LocalRateLimiter, type SegmentRateLimiter } from './local-rate-limiter.js';
import { field, type Pdu } from './smpp-lib.js';
import { SmppBindError, SmppRequestError, SmppSession, type BindType } from './smpp-session.js';
import { buildSubmits, SubmitBuildError, type SubmitPart } from './submit-builder.js';

/**
 * An SMPP(S) gateway: a set of binds (each a slot leased across every dispatcher replica),
 * reconnected with backoff and jitter, and `send()` that splits the message, paces it in segments
 * per second, submits every part through the window of the least-loaded bind and maps each
 * command_status through the policy table. A message's result is the set of its parts' ids.
 */

export interface SmppTransportOptions {
  gatewayId: number;
  config: SmppGatewayConfig;
  /** Bind slots across replicas (default: this process alone). */
  leaser?: BindLeaser;
  /** Segments-per-second limit across replicas (default: this process alone). */
  rateLimiter?: SegmentRateLimiter;
  /**
   * Receipts and MO messages from receiver/transceiver binds. The deliver_sm is answered when the
   * returned promise settles (ok: 0; rejected: ESME_RX_T_APPN, the SMSC redelivers).
   */
  onDeliver?: (e: DeliverEvent) => void | Promise<void>;
  /** Every PDU in and out, per bind (the gateway test prints them). */
  onTrace?: (bind: string, dir: 'in' | 'out', pdu: Pdu) => void;
  /** Bind life events, for the caller's logs (packages do not log). */
  onBindEvent?: (e: BindEvent) => void;
  /** How long one send() keeps trying (rebinds, throttling) before a temporary failure. */
  sendTimeoutMs?: number;
  /** Resends of a temporary command_status (RSYSERR ...) within one send(). */
  maxTemporaryRetries?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
}

export interface BindEvent {
  type: 'bound' | 'closed' | 'bind-failed' | 'lease-lost';
  bind: string;
  error?: string;
}

export interface SmppTransportStats {
  /** submit_sm accepted (status 0). */
  submitted: number;
  /** Parts resent because a bind dropped or timed out after the PDU was written: possible duplicates. */
  unknownOutcomes: number;
  throttled: number;
  queueFull: number;
  temporaryErrors: number;
  permanentErrors: number;
  binds: number;
  bindAttempts: number;
}

interface Slot {
  index: number;
  /** transmitter+receiver mode holds one slot per pair; the receiver gets the `r` suffix. */
  name: string;
  type: BindType;
  session?: SmppSession;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function jitter(ms: number): number {
  return Math.round(ms * (0.5 + Math.random()));
}

export class SmppTransport implements Transport {
  readonly gatewayId: number;
  readonly config: SmppGatewayConfig;
  private readonly leaser: BindLeaser;
  private readonly limiter: SegmentRateLimiter;
  private readonly tlsOptions: tls.ConnectionOptions | undefined;
  private readonly slots: Slot[] = [];
  private readonly loops: Promise<void>[] = [];
  private closing = false;
  private closedPromise: Promise<void> | undefined;
  private readonly wake = new Set<() => void>();
  private throttleLevel = 0;
  private pausedUntil = 0;
  private lastBindError = '';
  /** Parts already accepted of messages whose other parts failed temporarily (no resend). */
  private readonly doneParts = new Map<string, Map<number, string>>();
  private readonly stopLoops = new AbortController();
  readonly counters: Omit<SmppTransportStats, 'binds'> = {
    submitted: 0,
    unknownOutcomes: 0,
    throttled: 0,
    queueFull: 0,
    temporaryErrors: 0,
    permanentErrors: 0,
    bindAttempts: 0,
  };

  constructor(private readonly opts: SmppTransportOptions) {
    this.gatewayId = opts.gatewayId;
    this.config = opts.config;
    this.leaser = opts.leaser ?? new LocalBindLeaser();
    this.limiter = opts.rateLimiter ?? new LocalRateLimiter();
    this.tlsOptions = this.config.secure ? buildTlsOptions(this.config) : undefined;
    const c = this.config;
    for (let i = 0; i < c.binds; i++) {
      if (c.bindMode === 'transmitter+receiver') {
        this.slots.push({ index: i, name: `${c.host}#${i}t`, type: 'transmitter' });
        this.slots.push({ index: i, name: `${c.host}#${i}r`, type: 'receiver' });
      } else {
        this.slots.push({ index: i, name: `${c.host}#${i}`, type: c.bindMode });
      }
    }
    // One lease per slot index: a transmitter+receiver pair is held together.
    const byIndex = new Map<number, Slot[]>();
    for (const s of this.slots) byIndex.set(s.index, [...(byIndex.get(s.index) ?? []), s]);
    for (const [index, group] of byIndex) this.loops.push(this.runSlot(index, group));
  }

  stats(): SmppTransportStats {
    return { ...this.counters, binds: this.slots.filter((s) => s.session?.bound).length };
  }

  /** Resolves once at least `n` transmitting binds are up (tests, gateway test). */
  async waitForBinds(n = 1, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.txSessions().length < n) {
      if (Date.now() > until) {
        throw new SmppBindError(
          `no SMPP bind within ${timeoutMs} ms${this.lastBindError ? `: ${this.lastBindError}` : ''}`,
        );
      }
      await this.waitWake(100);
    }
  }

  private txSessions(): SmppSession[] {
    const out: SmppSession[] = [];
    for (const s of this.slots) if (s.type !== 'receiver' && s.session?.bound) out.push(s.session);
    return out;
  }

  private notify(): void {
    for (const w of [...this.wake]) w();
  }

  private waitWake(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  // -- binds ----------------------------------------------------------------------------------

  private async runSlot(index: number, group: Slot[]): Promise<void> {
    const base = this.opts.reconnectBaseMs ?? 500;
    const max = this.opts.reconnectMaxMs ?? 30_000;
    let backoff = base;
    const signal = this.stopLoops.signal;
    while (!this.closing) {
      let held = false;
      try {
        held = await this.leaser.acquire(index);
      } catch (err) {
        this.lastBindError = `bind lease: ${(err as Error).message}`;
      }
      if (!held) {
        // Another replica holds this slot: look again a little later.
        await abortableSleep(jitter(Math.min(this.leaser.ttlMs / 3, 5000)), signal);
        continue;
      }
      const renew = setInterval(
        () => {
          this.leaser.renew(index).then(
            (ok) => {
              if (ok) return;
              // We stalled past the TTL and another replica may have the slot now: drop our binds.
              this.opts.onBindEvent?.({ type: 'lease-lost', bind: group[0]?.name ?? String(index) });
              for (const s of group) s.session?.destroy(new Error('bind lease lost'));
            },
            () => undefined,
          );
        },
        Math.max(100, Math.floor(this.leaser.ttlMs / 3)),
      );
      let refused = false;
      try {
        const sessions = await Promise.all(group.map((s) => this.openSession(s)));
        backoff = base;
        await Promise.race(sessions.map((s) => s.closed));
        // A pair goes down together so the pair's lease stays meaningful.
        for (const s of sessions) s.destroy();
        await Promise.all(sessions.map((s) => s.closed));
      } catch (err) {
        const e = err as Error;
        this.lastBindError =
          e.message +
          (err instanceof SmppBindError && err.status !== undefined
            ? ` (${describeSmppStatus(err.status)})`
            : '');
        refused = err instanceof SmppBindError && err.status !== undefined;
        this.opts.onBindEvent?.({
          type: 'bind-failed',
          bind: group[0]?.name ?? '',
          error: this.lastBindError,
        });
        for (const s of group) s.session?.destroy();
      } finally {
        clearInterval(renew);
        for (const s of group) s.session = undefined;
        this.notify();
      }
      if (this.closing) {
        await this.leaser.release(index).catch(() => undefined);
        break;
      }
      // Keep the lease while reconnecting (renewed below by the next acquire): another replica
      // taking it would only bind the same failing SMSC. A refused bind waits longer: never hammer.
      await abortableSleep(jitter(refused ? Math.max(backoff, 5000) : backoff), signal);
      backoff = Math.min(max, backoff * 2);
    }
    await this.leaser.release(index).catch(() => undefined);
  }

  private async openSession(slot: Slot): Promise<SmppSession> {
    const c = this.config;
    this.counters.bindAttempts++;
    const timeoutMs = c.timeoutSec * 1000;
    const session = await SmppSession.open({
      host: c.host,
      port: c.port,
      tls: this.tlsOptions,
      bindType: slot.type,
      systemId: c.systemId,
      password: c.password,
      systemType: c.systemType,
      interfaceVersion: c.interfaceVersion,
      window: c.window,
      requestTimeoutMs: c.absoluteTimeout ? timeoutMs : c.responseTimeoutSec * 1000 || timeoutMs,
      inactivityTimeoutMs: c.absoluteTimeout ? 0 : timeoutMs,
      enquireLinkMs: c.enquireLinkSec * 1000,
      connectTimeoutMs: this.opts.connectTimeoutMs ?? 10_000,
      onDeliver: (pdu) => this.onDeliverPdu(pdu),
      onTrace: this.opts.onTrace ? (dir, pdu) => this.opts.onTrace?.(slot.name, dir, pdu) : undefined,
    });
    if (this.closing) {
      await session.close(0);
      throw new SmppBindError('transport closing');
    }
    slot.session = session;
    this.opts.onBindEvent?.({ type: 'bound', bind: slot.name });
    session.once('close', (err?: Error) => {
      this.opts.onBindEvent?.({ type: 'closed', bind: slot.name, error: err?.message });
      this.notify();
    });
    this.notify();
    return session;
  }

  private async onDeliverPdu(pdu: Pdu): Promise<number> {
    const e = parseDeliver(pdu, this.gatewayId);
    if (!this.opts.onDeliver) return 0;
    await this.opts.onDeliver(e);
    return 0;
  }

  // -- sending ----------------------------------------------------------------------------------

  async send(msg: OutboundSms, signal?: AbortSignal): Promise<SubmitResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    if (this.closing) return { ok: false, permanent: false, reason: 'SMPP transport closed', latencyMs: 0 };
    let built;
    try {
      built = buildSubmits(msg, this.config);
    } catch (err) {
      if (err instanceof SubmitBuildError || err instanceof RangeError) {
        return { ok: false, permanent: true, reason: `SMPP: ${err.message}`, latencyMs: latency() };
      }
      throw err;
    }
    const done = this.doneParts.get(msg.smsid);
    const todo = built.parts.map((p, i) => ({ p, i })).filter(({ i }) => !done?.has(i));
    const deadline = Date.now() + (this.opts.sendTimeoutMs ?? 60_000);
    const todoSegments = todo.reduce((s, { p }) => s + p.segments, 0);
    if (this.config.mps > 0 && todoSegments > 0) {
      await this.limiter.acquire(`${this.gatewayId}:smpp`, todoSegments, this.config.mps, signal);
    }
    const results = await Promise.all(todo.map(({ p }) => this.submitPart(p, deadline, signal)));
    const ids = new Map(done ?? []);
    let failure: { permanent: boolean; reason: string } | undefined;
    results.forEach((r, k) => {
      const i = todo[k]?.i ?? 0;
      if (r.ok) ids.set(i, r.id);
      else if (!failure || r.permanent) failure = r;
    });
    if (failure) {
      if (!failure.permanent && ids.size > 0) {
        // Remember accepted parts so the dispatcher's retry resends only the rest.
        if (this.doneParts.size > 10_000) this.doneParts.delete(this.doneParts.keys().next().value as string);
        this.doneParts.set(msg.smsid, ids);
      } else {
        this.doneParts.delete(msg.smsid);
      }
      const partial = ids.size
        ? ` (${ids.size}/${built.parts.length} parts accepted: ${[...ids.values()].join(',')})`
        : '';
      return {
        ok: false,
        permanent: failure.permanent,
        reason: failure.reason + partial,
        latencyMs: latency(),
      };
    }
    this.doneParts.delete(msg.smsid);
    const partIds = built.parts.map((_, i) => ids.get(i) ?? '');
    return {
      ok: true,
      providerMessageId: partIds.join(','),
      partIds,
      segments: built.segments,
      // Receipts can only come back on a bind that receives.
      awaitReceipt: this.config.registeredDelivery !== 0 && this.config.bindMode !== 'transmitter',
      answer: `submit_sm_resp ${partIds.join(',')}`,
      latencyMs: latency(),
    };
  }

  private pickSession(): SmppSession | undefined {
    let best: SmppSession | undefined;
    for (const s of this.slots) {
      if (s.type === 'receiver' || !s.session?.bound) continue;
      if (!best || s.session.load < best.load) best = s.session;
    }
    return best;
  }

  private async submitPart(
    part: SubmitPart,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<{ ok: true; id: string } | { ok: false; permanent: boolean; reason: string }> {
    let temporaryTries = 0;
    let lastReason = '';
    for (;;) {
      if (signal?.aborted) return { ok: false, permanent: false, reason: 'send aborted' };
      if (this.closing)
        return {
          ok: false,
          permanent: false,
          reason: `SMPP transport closed${lastReason ? ` (${lastReason})` : ''}`,
        };
      const now = Date.now();
      if (now >= deadline) {
        const why =
          lastReason || (this.lastBindError ? `no bind: ${this.lastBindError}` : 'no bound SMPP session');
        return {
          ok: false,
          permanent: false,
          reason: `SMPP: gave up after ${this.opts.sendTimeoutMs ?? 60_000} ms: ${why}`,
        };
      }
      if (this.pausedUntil > now) {
        await sleep(Math.min(this.pausedUntil - now, deadline - now));
        continue;
      }
      const session = this.pickSession();
      if (!session) {
        await this.waitWake(Math.min(250, deadline - now));
        continue;
      }
      let resp: Pdu;
      try {
        resp = await session.submit(part.command, part.fields, part.tlvs, signal);
      } catch (err) {
        if (err instanceof SmppRequestError) {
          // Written and unanswered: the SMSC may have it. Resend on a fresh bind (the protocol
          // leaves no other way to not lose it) and count it as a possible duplicate.
          if (err.written) {
            this.counters.unknownOutcomes++;
            lastReason = err.message;
          } else {
            lastReason ||= err.message;
            // Let the session's close run before looking for another one (no busy loop).
            await this.waitWake(20);
          }
          continue;
        }
        if (err instanceof RangeError) return { ok: false, permanent: true, reason: `SMPP: ${err.message}` };
        if (signal?.aborted) return { ok: false, permanent: false, reason: 'send aborted' };
        throw err;
      }
      const status = resp.command_status;
      if (status === 0) {
        this.counters.submitted++;
        if (this.throttleLevel > 0) this.throttleLevel = Math.max(0, this.throttleLevel - 1);
        return { ok: true, id: field(resp, 'message_id') };
      }
      const info = smppStatus(status);
      lastReason = `SMSC answered ${describeSmppStatus(status)}`;
      switch (info.class) {
        case 'throttled':
        case 'queue-full': {
          if (info.class === 'throttled') this.counters.throttled++;
          else this.counters.queueFull++;
          // Slow the whole gateway down: every sender of this transport waits out the pause. The
          // answers to a full window arrive together: escalate once per pause, not per answer.
          if (Date.now() >= this.pausedUntil) this.throttleLevel = Math.min(this.throttleLevel + 1, 8);
          const pause = jitter(
            Math.min(5000, (info.class === 'queue-full' ? 500 : 100) * 2 ** (this.throttleLevel - 1)),
          );
          this.pausedUntil = Math.max(this.pausedUntil, Date.now() + pause);
          continue;
        }
        case 'temporary':
          this.counters.temporaryErrors++;
          if (++temporaryTries > (this.opts.maxTemporaryRetries ?? 3)) {
            return { ok: false, permanent: false, reason: `SMPP: ${lastReason}` };
          }
          await sleep(jitter(200 * 2 ** (temporaryTries - 1)));
          continue;
        case 'session':
        case 'bind':
          // Wrong bind state: this bind is useless, rebind and resend.
          session.destroy(new Error(lastReason));
          continue;
        default:
          this.counters.permanentErrors++;
          return { ok: false, permanent: true, reason: `SMPP: ${lastReason}` };
      }
    }
  }

  /** Graceful: stop binding, let in-flight requests finish, unbind every session. Idempotent. */
  close(): Promise<void> {
    this.closedPromise ??= (async () => {
      this.closing = true;
      this.stopLoops.abort();
      this.notify();
      await Promise.allSettled(this.slots.map((s) => s.session?.close() ?? Promise.resolve()));
      await Promise.allSettled(this.loops);
    })();
    return this.closedPromise;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The seed's ssl options as Node TLS options (files read once, when the gateway is built). */
export function buildTlsOptions(c: SmppGatewayConfig): tls.ConnectionOptions {
  const o: tls.ConnectionOptions = {
    rejectUnauthorized: !c.tls.acceptAnyCertificate,
    servername: /^[\d.]+$|:/.test(c.host) ? undefined : c.host,
  };
  if (c.tls.caPem) o.ca = c.tls.caPem;
  if (c.tls.passphrase) o.passphrase = c.tls.passphrase;
  if (c.tls.pfxFile) o.pfx = readFileSync(c.tls.pfxFile);
  if (c.tls.pfxBase64) o.pfx = Buffer.from(c.tls.pfxBase64, 'base64');
  if (c.tls.clientPemFile) {
    const pem = readFileSync(c.tls.clientPemFile, 'utf8');
    o.cert = pem;
    o.key = pem;
  }
  return o;
}
