import { createHash } from 'node:crypto';
import {
  assembleParts,
  isCommandNumber,
  isValidMoId,
  moGroupKey,
  type MoMessage,
  type MoPart,
} from '@smsfleet/core';
import type { ConfigSnapshot } from '@smsfleet/config';
import type {
  InboundCdr,
  InboundCdrRepo,
  InboundUser,
  InboxInsert,
  InboxRepo,
  MoPartsRepo,
  RegisteredNumbersRepo,
} from '@smsfleet/db';
import type { MailMessage } from '@smsfleet/mail';
import type { Logger } from '@smsfleet/runtime';
import type { CommandOutcome, CommandRunner } from './command-runner.js';

/** Published on `sms.inbound` for every chat delivery: a SIP server or a webhook picks it up. */
export interface InboundEvent {
  type: 'sms.inbound';
  moId: string;
  userId: number;
  from: string;
  to: string;
  text: string;
  parts: number;
  /** The user's SIP URI or webhook URL, when set. */
  chatEndpoint: string;
  receivedAt: number;
}

export interface MailSender {
  send(m: MailMessage): Promise<string>;
}

export interface MoProcessorDeps {
  inbox: InboxRepo;
  numbers: RegisteredNumbersRepo;
  parts: MoPartsRepo;
  cdrs: InboundCdrRepo;
  commands: CommandRunner;
  config(): ConfigSnapshot;
  /** The SMTP mailer of the current configuration; undefined when `smtpserver` is empty. */
  mailer(): MailSender | undefined;
  publish<T>(subject: 'mo' | 'inbound', events: T[], msgId?: string): Promise<void>;
  /** Queues an SMS answer to a command's sender through the normal send path. */
  sendAnswer(a: { to: string; from: string; text: string; userId: number; moId: string }): Promise<void>;
  log: Logger;
  /** How long a failing email is retried before the message is left in the inbox instead. */
  emailGiveUpMs: number;
  onDelivered?(kind: 'chat' | 'email' | 'command' | 'undelivered'): void;
  /**
   * Names of the given users that have a live SIP registration (the SIP front delivers their chat
   * by SIP MESSAGE): for `smsreceive_route` 3 a registration counts as a chat endpoint.
   */
  sipRegistered?(userNames: readonly string[]): Promise<Set<string>>;
}

/** A temporary failure somewhere in the batch: JetStream redelivers it (every step is idempotent). */
export class RetryLaterError extends Error {
  readonly code = 'RETRY_LATER';
}

type Delivery = { chat: boolean; email: boolean; reason: string };

/**
 * How `smsreceive_route` delivers to a user: 0 off, 1 chat, 2 email, 3 chat or email (email only
 * when the user has no chat endpoint), 4 chat and email. Email needs an address; without one the
 * message goes to the inbox so it is never lost.
 */
export function deliveryFor(route: number, user: Pick<InboundUser, 'email' | 'chatEndpoint'>): Delivery {
  const hasEmail = user.email.trim() !== '';
  switch (route) {
    case 0:
      return { chat: false, email: false, reason: 'receiving SMS is disabled (smsreceive_route=0)' };
    case 1:
      return { chat: true, email: false, reason: '' };
    case 2:
      return hasEmail
        ? { chat: false, email: true, reason: '' }
        : { chat: true, email: false, reason: 'no email address: kept in the inbox' };
    case 3:
      if (user.chatEndpoint.trim() !== '' || !hasEmail) return { chat: true, email: false, reason: '' };
      return { chat: false, email: true, reason: '' };
    default:
      return { chat: true, email: hasEmail, reason: '' };
  }
}

/** Ids longer than the keys allow (or with spaces) are hashed to a stable printable id. */
export function stableMoId(id: string): string {
  return isValidMoId(id) ? id : `h${createHash('sha1').update(id).digest('hex').slice(0, 39)}`;
}

/** The id of a message assembled from parts: the same parts always give the same id. */
export function assembledId(partIds: readonly string[]): string {
  return `c${createHash('sha1').update(partIds.join('\n')).digest('hex').slice(0, 39)}`;
}

/**
 * The inbound pipeline for one batch from the durable `mo` consumer: parts wait for their
 * siblings and come back whole on `mo`; whole messages are stored in the inbox (multi-row insert),
 * emailed, run as SMS commands, published as `sms.inbound`, and get one inbound CDR each. A
 * temporary failure throws, so the batch is redelivered; every step is idempotent on the message id.
 */
export class MoProcessor {
  constructor(private readonly d: MoProcessorDeps) {}

  async process(events: MoMessage[]): Promise<void> {
    const singles = new Map<string, MoMessage>();
    const groups = new Map<string, number>();
    for (const raw of events) {
      const m = { ...raw, id: stableMoId(String(raw.id ?? '')) };
      if (typeof m.to !== 'string' || typeof m.text !== 'string') {
        this.d.log.warn({ moId: m.id }, 'malformed MO dropped');
        continue;
      }
      m.from = typeof m.from === 'string' ? m.from : '';
      if (m.part) {
        const part = m as MoMessage & { part: MoPart };
        const key = moGroupKey(part);
        await this.d.parts.store(key, part);
        groups.set(key, part.part.total);
      } else if (!singles.has(m.id)) singles.set(m.id, m);
    }
    for (const [key, total] of groups) await this.assemble(key, total);
    if (singles.size) await this.deliver([...singles.values()]);
  }

  /** When every part is there: one whole message back on `mo` (de-duplicated by its id). */
  private async assemble(key: string, total: number): Promise<void> {
    await this.d.parts.takeComplete(key, total, async (parts) => {
      const r = assembleParts(parts);
      if (!r.complete) return;
      const first = parts.find((p) => p.part?.seq === 1) ?? parts[0]!;
      const whole: MoMessage = {
        id: assembledId(r.ids),
        from: first.from,
        to: first.to,
        text: r.text,
        receivedAt: r.firstReceivedAt,
        source: first.source,
        gatewayId: first.gatewayId ?? 0,
        clientIp: first.clientIp ?? '',
        parts: total,
        // Commands run only when every part came from an allowed poster.
        commandsAllowed: parts.every((p) => p.commandsAllowed !== false),
      };
      await this.d.publish('mo', [whole], `mo:${whole.id}`);
      this.d.log.info({ moId: whole.id, parts: total, state: 'assembled' }, 'mo state');
    });
  }

  private async deliver(msgs: MoMessage[]): Promise<void> {
    const cfg = this.d.config();
    const users = await this.d.numbers.usersByNumbers(msgs.map((m) => m.to));
    const existing = await this.d.inbox.findByMoIds(msgs.map((m) => m.id));
    const sipUsers =
      this.d.sipRegistered && users.size
        ? await this.d.sipRegistered([...new Set([...users.values()].map((u) => u.name))])
        : new Set<string>();
    const plans = msgs.map((m) => {
      const user = users.get(m.to);
      const reachable =
        user && sipUsers.has(user.name) && user.chatEndpoint.trim() === ''
          ? { ...user, chatEndpoint: 'sip-registration' }
          : user;
      const delivery: Delivery = reachable
        ? deliveryFor(cfg.smsreceive_route, reachable)
        : { chat: false, email: false, reason: '' };
      const command = !user && m.commandsAllowed !== false;
      return { m, user, delivery, command };
    });

    // 1. The durable record first: one multi-row insert, ignored for messages seen before.
    const rows: InboxInsert[] = plans.map(({ m, user, delivery }) => ({
      moId: m.id,
      userId: user?.id ?? 0,
      from: m.from,
      to: m.to,
      text: m.text,
      parts: m.parts ?? 1,
      source: m.source,
      gatewayId: m.gatewayId ?? 0,
      chat: delivery.chat,
      emailState: delivery.email ? 'pending' : 'none',
      receivedAt: new Date(m.receivedAt),
    }));
    await this.d.inbox.insertIgnore(rows);

    let retry: Error | undefined;
    const outcomes = new Map<string, CommandOutcome>();
    const inboundEvents: InboundEvent[] = [];
    for (const p of plans) {
      const before = existing.get(p.m.id);
      // 2. SMS commands, once per message (a redelivery after success finds `command` set).
      if (p.command && !before?.command) {
        const outcome = await this.d.commands.run(p.m, {
          callingcardauth: cfg.callingcardauth,
          anumberhandling: cfg.anumberhandling,
          defcallbackivr: cfg.defcallbackivr,
        });
        outcomes.set(p.m.id, outcome);
        if (isCommandNumber(p.m.from))
          await this.d.sendAnswer({
            to: p.m.from,
            from: p.m.to,
            text: outcome.answer,
            userId: outcome.userId,
            moId: p.m.id,
          });
        await this.d.inbox.setCommand(p.m.id, outcome.command || 'invalid');
        this.d.log.info(
          {
            moId: p.m.id,
            command: outcome.command,
            ok: outcome.ok,
            userId: outcome.userId,
            state: 'command',
          },
          'mo state',
        );
        this.d.onDelivered?.('command');
      }
      // 3. Email, retried while the mail server is away; given up into the inbox after a while.
      if (p.delivery.email && p.user) {
        const state = before?.emailState;
        if (state !== 'sent' && state !== 'failed') {
          const err = await this.email(p.m, p.user, before?.emailAttempts ?? 0);
          if (err) retry = err;
        }
      }
      if (p.delivery.chat && p.user) {
        inboundEvents.push({
          type: 'sms.inbound',
          moId: p.m.id,
          userId: p.user.id,
          from: p.m.from,
          to: p.m.to,
          text: p.m.text,
          parts: p.m.parts ?? 1,
          chatEndpoint: p.user.chatEndpoint,
          receivedAt: p.m.receivedAt,
        });
        this.d.onDelivered?.('chat');
      }
      if (!p.user && !p.command) this.d.onDelivered?.('undelivered');
    }

    // 4. `sms.inbound` for chat deliveries (SIP server, webhooks).
    if (inboundEvents.length)
      await this.d.publish(
        'inbound',
        inboundEvents,
        `inbound:${inboundEvents
          .map((e) => e.moId)
          .join(',')
          .slice(0, 200)}`,
      );

    // 5. One inbound CDR per message.
    const now = new Date();
    const cdrs: InboundCdr[] = plans.map(({ m, user, delivery, command }) => {
      const outcome = outcomes.get(m.id);
      let state = 'delivered';
      let reason = '';
      if (user) {
        if (!delivery.chat && !delivery.email) {
          state = 'undelivered';
          reason = delivery.reason;
        } else reason = delivery.reason;
      } else if (command) {
        reason = outcome ? `command ${outcome.command || 'invalid'}: ${outcome.answer}` : 'command';
        if (outcome && !outcome.ok) state = 'rejected';
      } else {
        state = 'undelivered';
        reason =
          m.commandsAllowed === false
            ? `no user has the number ${m.to}; commands not allowed from ${m.clientIp ?? ''} (httpsmcallbackip)`
            : `no user has the number ${m.to}`;
      }
      return {
        smsid: m.id,
        userId: outcome?.userId || user?.id || 0,
        gatewayId: m.gatewayId ?? 0,
        caller: m.from,
        callee: m.to,
        segments: m.parts ?? 1,
        state,
        disconnectReason: reason,
        clientIp: m.clientIp ?? '',
        acceptedAt: new Date(m.receivedAt),
        finalAt: now,
      };
    });
    await this.d.cdrs.insertIgnore(cdrs);
    for (const p of plans)
      this.d.log.info(
        {
          moId: p.m.id,
          userId: p.user?.id ?? 0,
          chat: p.delivery.chat,
          email: p.delivery.email,
          state: 'delivered',
        },
        'mo state',
      );
    if (retry) throw retry;
  }

  /** Sends one email; returns an error when the batch must be retried later. */
  private async email(m: MoMessage, user: InboundUser, attempts: number): Promise<Error | undefined> {
    const mailer = this.d.mailer();
    const giveUp = async (reason: string) => {
      await this.d.inbox.setEmailState(m.id, 'failed', attempts + 1, reason);
      await this.d.inbox.showInInbox(m.id);
      this.d.log.warn({ moId: m.id, userId: user.id, reason }, 'email given up, message kept in the inbox');
    };
    if (!mailer) {
      await giveUp('no SMTP server configured (smtpserver)');
      return undefined;
    }
    try {
      await mailer.send({
        to: user.email,
        subject: `SMS from ${m.from || 'unknown'}`,
        text: `${m.text}\n\n--\nFrom: ${m.from}\nTo: ${m.to}\nReceived: ${new Date(m.receivedAt).toISOString()}\n`,
      });
      await this.d.inbox.setEmailState(m.id, 'sent', attempts + 1);
      this.d.onDelivered?.('email');
      return undefined;
    } catch (err) {
      const e = err as Error & { permanent?: boolean };
      if (e.permanent || Date.now() - m.receivedAt > this.d.emailGiveUpMs) {
        await giveUp(e.message);
        return undefined;
      }
      await this.d.inbox.setEmailState(m.id, 'pending', attempts + 1, e.message);
      return new RetryLaterError(`email to user ${user.id} not sent yet: ${e.message}`);
    }
  }
}
