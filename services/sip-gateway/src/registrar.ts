/**
 * Registrations in Redis, so every replica knows every user's contacts: one hash per user
 * (`sipRegistrationKey`), a field per contact URI with its binding as JSON; the key expires with
 * its last binding and expired bindings are dropped when read.
 */
import { sipRegistrationKey } from '@smsfleet/core';
import type { Redis } from 'ioredis';

export type SipTransportName = 'udp' | 'tcp' | 'tls';

export interface Binding {
  /** The Contact URI as registered. */
  contact: string;
  expiresAt: number;
  /** Transport and source address the REGISTER came from (used to reach clients behind NAT). */
  transport: SipTransportName;
  address: string;
  port: number;
  callId: string;
  cseq: number;
}

export interface BindingChange {
  contact: string;
  /** Seconds; 0 removes the binding. */
  expires: number;
}

export class Registrar {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(user: string): string {
    return sipRegistrationKey(this.prefix, user);
  }

  /** The user's live bindings, newest first. */
  async bindings(user: string, now = Date.now()): Promise<Binding[]> {
    const all = await this.redis.hgetall(this.key(user));
    const live: Binding[] = [];
    const dead: string[] = [];
    for (const [field, json] of Object.entries(all)) {
      let b: Binding | undefined;
      try {
        b = JSON.parse(json) as Binding;
      } catch {
        b = undefined;
      }
      if (b && b.expiresAt > now) live.push(b);
      else dead.push(field);
    }
    if (dead.length) await this.redis.hdel(this.key(user), ...dead);
    return live.sort((a, b) => b.expiresAt - a.expiresAt);
  }

  /**
   * Applies a REGISTER: adds, refreshes or removes bindings (`removeAll` for `Contact: *`), and
   * returns what is bound afterwards. A change from an older CSeq of the same Call-ID is ignored
   * (RFC 3261 10.3 step 7).
   */
  async apply(
    user: string,
    changes: readonly BindingChange[],
    from: Omit<Binding, 'contact' | 'expiresAt'>,
    removeAll = false,
    now = Date.now(),
  ): Promise<Binding[]> {
    const key = this.key(user);
    if (removeAll) {
      await this.redis.del(key);
      return [];
    }
    const current = new Map((await this.bindings(user, now)).map((b) => [b.contact, b]));
    const tx = this.redis.multi();
    for (const c of changes) {
      const old = current.get(c.contact);
      if (old && old.callId === from.callId && old.cseq >= from.cseq) continue;
      if (c.expires <= 0) {
        tx.hdel(key, c.contact);
        current.delete(c.contact);
      } else {
        const b: Binding = { ...from, contact: c.contact, expiresAt: now + c.expires * 1000 };
        tx.hset(key, c.contact, JSON.stringify(b));
        current.set(c.contact, b);
      }
    }
    const last = Math.max(0, ...[...current.values()].map((b) => b.expiresAt));
    if (last > now) tx.pexpireat(key, last);
    await tx.exec();
    return [...current.values()].sort((a, b) => b.expiresAt - a.expiresAt);
  }
}
