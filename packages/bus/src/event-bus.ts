import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { SmsEvent, SmsState } from '@smsfleet/core';

/**
 * Subjects under `sms.`: the message states, `final`, and other event kinds that ride the same
 * stream (`receipt`: SMPP delivery receipts, `mo`: mobile-originated messages, `inbound`: messages
 * delivered to users). `*` consumes every one of them.
 */
export type EventSubject =
  | SmsState
  | 'final'
  | 'receipt'
  | 'mo'
  | 'inbound'
  // SMS commands: call requests for a VoIP switch (payload `type` is call.callback / call.p2p).
  | 'callback'
  | 'p2p'
  | '*';

export interface EventBusOptions {
  url: string;
  /** Prefix of subjects and of the stream name, so tests and tenants never see each other. */
  prefix?: string;
  name?: string;
  /** How long the stream keeps events (ms). */
  maxAgeMs?: number;
}

export interface ConsumeHandlerContext {
  /** Number of JetStream messages behind this call (each carries a batch of events). */
  messages: number;
  /** True when at least one of the messages is a redelivery. */
  redelivered: boolean;
}

export interface Consumption {
  /** Stop pulling, finish the batch in hand, then return. */
  stop(): Promise<void>;
}

const NANOS_PER_MS = 1_000_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Message-state events on NATS JetStream. One JetStream message carries the transitions of many
 * messages (`SmsEventBatch`), so one publish and one ack cover a whole chunk.
 */
export class EventBus {
  readonly streamName: string;
  private closed: Promise<void> | undefined;

  private constructor(
    readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly prefix: string,
  ) {
    this.streamName = prefix ? `SMS_${prefix}` : 'SMS';
  }

  static async connect(opts: EventBusOptions): Promise<EventBus> {
    const u = new URL(opts.url);
    const nc = await connect({
      servers: `${u.hostname}:${u.port || '4222'}`,
      name: opts.name,
      user: u.username ? decodeURIComponent(u.username) : undefined,
      pass: u.password ? decodeURIComponent(u.password) : undefined,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    const jsm = await jetstreamManager(nc);
    const bus = new EventBus(nc, jetstream(nc), jsm, opts.prefix ?? '');
    await bus.ensureStream(opts.maxAgeMs ?? 24 * 3600_000);
    return bus;
  }

  subject(state: EventSubject): string {
    return this.prefix ? `${this.prefix}.sms.${state}` : `sms.${state}`;
  }

  /** Subject for core-NATS notifications (config or user changes); not stored. */
  notifySubject(topic: string): string {
    return this.prefix ? `${this.prefix}.smsfleet.${topic}` : `smsfleet.${topic}`;
  }

  private async ensureStream(maxAgeMs: number): Promise<void> {
    const cfg = {
      name: this.streamName,
      subjects: [this.subject('*')],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: maxAgeMs * NANOS_PER_MS,
      // Dedup window for msgID: a chunk retried after a crash republishes with the same id.
      duplicate_window: 120_000 * NANOS_PER_MS,
    };
    try {
      await this.jsm.streams.info(this.streamName);
    } catch {
      try {
        await this.jsm.streams.add(cfg);
      } catch (err) {
        // Another replica created it at the same moment.
        await this.jsm.streams.info(this.streamName).catch(() => {
          throw err;
        });
      }
    }
  }

  /**
   * Publishes one batch of transitions and waits for JetStream's ack (the events are stored).
   * `msgId` makes a republish after a crash a no-op inside the duplicate window.
   */
  async publish<T = SmsEvent>(state: EventSubject, events: T[], msgId?: string): Promise<void> {
    if (events.length === 0) return;
    const data = encoder.encode(JSON.stringify({ v: 1, events }));
    if (data.length > this.maxPayload && events.length > 1) {
      // Over the server's max_payload (1 MiB by default): halves, each with its own stable msgId.
      const mid = Math.ceil(events.length / 2);
      await this.publish(state, events.slice(0, mid), msgId ? `${msgId}#a` : undefined);
      await this.publish(state, events.slice(mid), msgId ? `${msgId}#b` : undefined);
      return;
    }
    await this.js.publish(this.subject(state), data, msgId ? { msgID: msgId } : {});
  }

  /** Largest JetStream message we send, under the server's max_payload with room for headers. */
  private get maxPayload(): number {
    return Math.max(4096, (this.nc.info?.max_payload ?? 1024 * 1024) - 4096);
  }

  /**
   * Consumes a subject from a durable pull consumer. Messages arriving while the handler runs are
   * collected and handed over together on the next call, so batches grow with load and latency
   * stays low when traffic is light. A handler error naks every message of the call (redelivered
   * after `retryDelayMs`); success acks them.
   */
  async consume<T = SmsEvent>(
    durable: string,
    state: EventSubject,
    handler: (events: T[], ctx: ConsumeHandlerContext) => Promise<void>,
    opts: {
      maxBatchMessages?: number;
      ackWaitMs?: number;
      retryDelayMs?: number;
      onError?: (err: unknown) => void;
    } = {},
  ): Promise<Consumption> {
    const name = `${durable}`;
    const ackWaitMs = opts.ackWaitMs ?? 30_000;
    try {
      await this.jsm.consumers.info(this.streamName, name);
    } catch {
      await this.jsm.consumers.add(this.streamName, {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: this.subject(state),
        ack_wait: ackWaitMs * NANOS_PER_MS,
        max_ack_pending: 10_000,
        max_deliver: -1,
      });
    }
    const consumer = await this.js.consumers.get(this.streamName, name);
    const maxBatch = opts.maxBatchMessages ?? 256;
    const buffer: JsMsg[] = [];
    let wake: (() => void) | undefined;
    let stopped = false;
    const messages: ConsumerMessages = await consumer.consume({
      max_messages: maxBatch * 2,
      callback: (m) => {
        buffer.push(m);
        wake?.();
      },
    });

    const loop = (async () => {
      while (!stopped || buffer.length > 0) {
        if (buffer.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const taken = buffer.splice(0, maxBatch);
        const events: T[] = [];
        let redelivered = false;
        const bad: JsMsg[] = [];
        const good: JsMsg[] = [];
        for (const m of taken) {
          if (m.redelivered) redelivered = true;
          try {
            const batch = JSON.parse(decoder.decode(m.data)) as { events: T[] };
            for (const e of batch.events) events.push(e);
            good.push(m);
          } catch (err) {
            // A poison message would be redelivered forever: terminate it and report.
            opts.onError?.(err);
            bad.push(m);
          }
        }
        // No reason text: nats-server before 2.10 ignores `+TERM <reason>` and would redeliver forever.
        for (const m of bad) m.term();
        try {
          if (events.length) await handler(events, { messages: good.length, redelivered });
          for (const m of good) m.ack();
        } catch (err) {
          opts.onError?.(err);
          for (const m of good) m.nak(opts.retryDelayMs ?? 1000);
        }
      }
    })();

    return {
      stop: async () => {
        stopped = true;
        await messages.close();
        wake?.();
        await loop;
      },
    };
  }

  /** Core NATS fire-and-forget notification (e.g. "config changed"). */
  notify(topic: string, payload: unknown = {}): void {
    this.nc.publish(this.notifySubject(topic), encoder.encode(JSON.stringify(payload)));
  }

  onNotify(topic: string, cb: (payload: unknown) => void): () => void {
    const sub: Subscription = this.nc.subscribe(this.notifySubject(topic), {
      callback: (err, msg) => {
        if (err) return;
        try {
          cb(JSON.parse(decoder.decode(msg.data)));
        } catch {
          cb({});
        }
      },
    });
    return () => sub.unsubscribe();
  }

  /**
   * How far a durable consumer is behind: JetStream messages (event batches) not delivered yet
   * (`pending`), delivered and not acked (`ackPending`), and the stream time of the oldest one not
   * acked (the first message on the consumer's subject after its ack floor; null when none).
   * Undefined when the consumer does not exist (its service never ran).
   */
  async consumerBacklog(
    durable: string,
    state: EventSubject,
  ): Promise<{ pending: number; ackPending: number; oldestAt: number | null } | undefined> {
    let info: Awaited<ReturnType<JetStreamManager['consumers']['info']>>;
    try {
      info = await this.jsm.consumers.info(this.streamName, durable);
    } catch (err) {
      if (/not found/i.test((err as Error).message)) return undefined;
      throw err;
    }
    const pending = info.num_pending;
    const ackPending = info.num_ack_pending;
    if (pending + ackPending === 0) return { pending, ackPending, oldestAt: null };
    // nats-server 2.9 answers `next_by_subj` on the plain message-get API; the client types only
    // declare it for direct get.
    const query = { seq: info.ack_floor.stream_seq + 1, next_by_subj: this.subject(state) };
    const m = await this.jsm.streams
      .getMessage(this.streamName, query as unknown as { seq: number })
      .catch(() => null);
    return { pending, ackPending, oldestAt: m ? m.time.getTime() : null };
  }

  /** Deletes the stream (tests). */
  async deleteStream(): Promise<void> {
    await this.jsm.streams.delete(this.streamName).catch(() => undefined);
  }

  /** Drains: pending publishes and subscriptions finish, then the connection closes. */
  close(): Promise<void> {
    this.closed ??= this.nc.isClosed() ? Promise.resolve() : this.nc.drain().catch(() => this.nc.close());
    return this.closed;
  }
}
