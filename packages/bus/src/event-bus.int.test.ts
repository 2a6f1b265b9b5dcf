import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { SmsEvent, SmsState } from '@smsfleet/core';
import { EventBus, type ConsumeHandlerContext, type Consumption } from './event-bus.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timed out waiting for condition');
    await sleep(10);
  }
}

function ev(smsid: string, state: SmsState = 'submitted'): SmsEvent {
  return {
    smsid,
    state,
    at: 1_700_000_000_123,
    msg: {
      smsid,
      userId: 7,
      gatewayId: 3,
      from: 'smsfleet',
      to: '36201234567',
      text: 'árvíztűrő tükörfúrógép',
      encoding: 'UCS2',
      segments: 1,
      clientIp: '10.0.0.1',
      acceptedAt: 1_700_000_000_000,
    },
    providerMessageId: `P-${smsid}`,
    answer: 'OK',
    submittedAt: 1_700_000_000_123,
  };
}

interface Call {
  events: SmsEvent[];
  ctx: ConsumeHandlerContext;
}

describe('EventBus on NATS JetStream', () => {
  const buses: EventBus[] = [];
  const consumptions: Consumption[] = [];

  async function newBus(prefix = `t${randomBytes(5).toString('hex')}`): Promise<EventBus> {
    const bus = await EventBus.connect({ url: NATS_URL, prefix, name: 'event-bus-int-test' });
    buses.push(bus);
    return bus;
  }

  async function consume(
    bus: EventBus,
    durable: string,
    state: SmsState,
    handler: (events: SmsEvent[], ctx: ConsumeHandlerContext) => Promise<void>,
    opts: Parameters<EventBus['consume']>[3] = {},
  ): Promise<Consumption> {
    const c = await bus.consume(durable, state, handler, opts);
    consumptions.push(c);
    return c;
  }

  async function consumerInfo(bus: EventBus, durable: string) {
    const jsm = await jetstreamManager(bus.nc);
    return jsm.consumers.info(bus.streamName, durable);
  }

  async function storedMessages(bus: EventBus): Promise<number> {
    const jsm = await jetstreamManager(bus.nc);
    return (await jsm.streams.info(bus.streamName)).state.messages;
  }

  afterEach(async () => {
    await Promise.all(consumptions.splice(0).map((c) => c.stop()));
    const all = buses.splice(0);
    for (const b of all) await b.deleteStream();
    await Promise.all(all.map((b) => b.close()));
  });

  it('a published batch reaches a durable consumer intact, on its own subject only', async () => {
    const bus = await newBus();
    expect(bus.streamName).toMatch(/^SMS_t[0-9a-f]+$/);
    const batch = [ev('a'), ev('b'), ev('c')];
    await bus.publish('submitted', batch, 'chunk-1:submitted');
    await bus.publish('failed', [ev('x', 'failed')], 'chunk-1:failed');
    await bus.publish('submitted', []); // nothing to store
    expect(await storedMessages(bus)).toBe(2);

    const calls: Call[] = [];
    await consume(bus, 'dispatch-test', 'submitted', async (events, ctx) => void calls.push({ events, ctx }));
    await waitFor(() => calls.length >= 1);
    await sleep(100);
    expect(calls).toEqual([{ events: batch, ctx: { messages: 1, redelivered: false } }]);
  });

  it('a batch over the server max_payload is split; every event arrives once, also after a republish', async () => {
    const bus = await newBus();
    const big = Array.from({ length: 1500 }, (_, i) => ({ ...ev(`big-${i}`), answer: 'x'.repeat(1000) }));
    await bus.publish('submitted', big, 'big-chunk');
    await bus.publish('submitted', big, 'big-chunk'); // the same msgIds: JetStream drops them all
    expect(await storedMessages(bus)).toBeGreaterThan(1);
    const seen: string[] = [];
    await consume(
      bus,
      'big-test',
      'submitted',
      async (events) => void seen.push(...events.map((e) => e.smsid)),
    );
    await waitFor(() => seen.length >= 1500, 10_000);
    await sleep(200);
    expect(seen).toHaveLength(1500);
    expect(new Set(seen).size).toBe(1500);
  });

  it('a durable consumer resumes after what it acked; another durable starts from the beginning', async () => {
    const bus = await newBus();
    await bus.publish('submitted', [ev('1')]);
    const first: string[] = [];
    const c1 = await bus.consume(
      'durable-a',
      'submitted',
      async (events) => void first.push(...events.map((e) => e.smsid)),
    );
    await waitFor(() => first.length === 1);
    await c1.stop();
    await waitFor(async () => (await consumerInfo(bus, 'durable-a')).num_ack_pending === 0);

    // Published while nobody consumes.
    await bus.publish('submitted', [ev('2')]);
    await bus.publish('submitted', [ev('3')]);
    await sleep(100);
    expect(first).toEqual(['1']);

    const again: string[] = [];
    await consume(
      bus,
      'durable-a',
      'submitted',
      async (events) => void again.push(...events.map((e) => e.smsid)),
    );
    const fresh: string[] = [];
    await consume(
      bus,
      'durable-b',
      'submitted',
      async (events) => void fresh.push(...events.map((e) => e.smsid)),
    );
    await waitFor(() => again.length === 2 && fresh.length === 3);
    await sleep(100);
    expect(again).toEqual(['2', '3']);
    expect(fresh).toEqual(['1', '2', '3']);
  });

  it('publishing twice with the same msgId stores one message, seen once', async () => {
    const bus = await newBus();
    await bus.publish('submitted', [ev('dup')], 'chunk-9:submitted');
    await bus.publish('submitted', [ev('dup')], 'chunk-9:submitted');
    await bus.publish('submitted', [ev('other')], 'chunk-10:submitted');
    // Without a msgId there is no dedup.
    await bus.publish('submitted', [ev('plain')]);
    await bus.publish('submitted', [ev('plain')]);
    expect(await storedMessages(bus)).toBe(4);

    const seen: string[] = [];
    await consume(bus, 'dedup', 'submitted', async (events) => void seen.push(...events.map((e) => e.smsid)));
    await waitFor(() => seen.length >= 4);
    await sleep(100);
    expect(seen).toEqual(['dup', 'other', 'plain', 'plain']);
  });

  it('a handler that throws once gets the batch again (flagged redelivered), then it is acked for good', async () => {
    const bus = await newBus();
    const batch = [ev('r1'), ev('r2')];
    await bus.publish('submitted', batch, 'retry-chunk:submitted');

    const calls: Call[] = [];
    const errors: unknown[] = [];
    const boom = new Error('db down');
    await consume(
      bus,
      'flaky',
      'submitted',
      async (events, ctx) => {
        calls.push({ events, ctx });
        if (calls.length === 1) throw boom;
      },
      { retryDelayMs: 50, ackWaitMs: 300, onError: (e) => errors.push(e) },
    );
    await waitFor(() => calls.length === 2);
    expect(calls).toEqual([
      { events: batch, ctx: { messages: 1, redelivered: false } },
      { events: batch, ctx: { messages: 1, redelivered: true } },
    ]);
    expect(errors).toEqual([boom]);

    await waitFor(async () => {
      const info = await consumerInfo(bus, 'flaky');
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    // Longer than ack_wait: an unacked message would have come back by now.
    await sleep(450);
    expect(calls).toHaveLength(2);
  });

  it('notify / onNotify round trips between two connections, both ways', async () => {
    const a = await newBus();
    const b = await newBus(a.streamName.replace(/^SMS_/, ''));
    const stranger = await newBus();

    const atA: unknown[] = [];
    const atB: unknown[] = [];
    const atStranger: unknown[] = [];
    const offA = a.onNotify('config', (p) => atA.push(p));
    const offB = b.onNotify('gateways', (p) => atB.push(p));
    stranger.onNotify('config', (p) => atStranger.push(p));
    await Promise.all([a.nc.flush(), b.nc.flush(), stranger.nc.flush()]);

    b.notify('config', { key: 'smsurl', v: 1 });
    b.notify('config', { key: 'smsurl', v: 2 });
    a.notify('gateways'); // default payload
    await waitFor(() => atA.length === 2 && atB.length === 1);
    expect(atA).toEqual([
      { key: 'smsurl', v: 1 },
      { key: 'smsurl', v: 2 },
    ]);
    expect(atB).toEqual([{}]);

    // A payload that is not JSON still wakes the listener, with an empty object.
    b.nc.publish(b.notifySubject('config'), 'not json');
    await waitFor(() => atA.length === 3);
    expect(atA[2]).toEqual({});

    // Unsubscribed listeners hear nothing more; another prefix never heard anything.
    offA();
    offB();
    await Promise.all([a.nc.flush(), b.nc.flush()]);
    b.notify('config', { v: 3 });
    a.notify('gateways', { v: 3 });
    await Promise.all([a.nc.flush(), b.nc.flush()]);
    await sleep(100);
    expect(atA).toHaveLength(3);
    expect(atB).toHaveLength(1);
    expect(atStranger).toEqual([]);
  });

  it('messages already waiting are handed over together, in order', async () => {
    const bus = await newBus();
    const published: SmsEvent[] = [];
    for (let i = 0; i < 20; i++) {
      const events = [ev(`m${i}-a`), ev(`m${i}-b`)];
      published.push(...events);
      await bus.publish('submitted', events, `c${i}:submitted`);
    }

    const calls: Call[] = [];
    await consume(bus, 'batcher', 'submitted', async (events, ctx) => {
      calls.push({ events, ctx });
      await sleep(20);
    });
    await waitFor(() => calls.reduce((n, c) => n + c.events.length, 0) >= 40);
    await sleep(50);
    expect(calls.length).toBeLessThan(20);
    expect(calls.flatMap((c) => c.events)).toEqual(published);
    expect(calls.reduce((n, c) => n + c.ctx.messages, 0)).toBe(20);
  });

  it('maxBatchMessages caps the JetStream messages behind one handler call', async () => {
    const bus = await newBus();
    for (let i = 0; i < 20; i++) await bus.publish('failed', [ev(`f${i}`, 'failed')]);

    const calls: Call[] = [];
    await consume(bus, 'capped', 'failed', async (events, ctx) => void calls.push({ events, ctx }), {
      maxBatchMessages: 5,
    });
    await waitFor(() => calls.reduce((n, c) => n + c.events.length, 0) >= 20);
    expect(calls.every((c) => c.ctx.messages <= 5)).toBe(true);
    expect(calls.flatMap((c) => c.events.map((e) => e.smsid))).toEqual(
      Array.from({ length: 20 }, (_, i) => `f${i}`),
    );
  });

  it('an undecodable message is reported and skipped; the good ones still arrive', async () => {
    const bus = await newBus();
    await jetstream(bus.nc).publish(bus.subject('submitted'), 'this is not json');
    await bus.publish('submitted', [ev('good')]);

    const seen: string[] = [];
    const errors: unknown[] = [];
    await consume(
      bus,
      'poison',
      'submitted',
      async (events) => void seen.push(...events.map((e) => e.smsid)),
      {
        onError: (e) => errors.push(e),
      },
    );
    await waitFor(() => seen.length === 1 && errors.length === 1);
    await sleep(100);
    expect(seen).toEqual(['good']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SyntaxError);
  });

  // nats-server before 2.10 ignores `+TERM <reason>`: the consumer must term without a reason.
  it('an undecodable message is terminated: not redelivered after ack_wait', async () => {
    const bus = await newBus();
    await jetstream(bus.nc).publish(bus.subject('submitted'), 'this is not json');
    const errors: unknown[] = [];
    await consume(bus, 'poison-term', 'submitted', async () => undefined, {
      ackWaitMs: 300,
      onError: (e) => errors.push(e),
    });
    await waitFor(() => errors.length >= 1);
    await sleep(700); // more than two ack_waits
    expect(errors).toHaveLength(1);
    expect((await consumerInfo(bus, 'poison-term')).num_ack_pending).toBe(0);
  });

  it('stop() finishes and acks the batch in hand, then nothing more is delivered', async () => {
    const bus = await newBus();
    await bus.publish('submitted', [ev('s1')]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    const c = await bus.consume('stopper', 'submitted', async (events) => {
      await gate;
      seen.push(...events.map((e) => e.smsid));
    });
    await waitFor(async () => (await consumerInfo(bus, 'stopper')).num_ack_pending === 1);

    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    await sleep(50);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(seen).toEqual(['s1']);
    await waitFor(async () => (await consumerInfo(bus, 'stopper')).num_ack_pending === 0);

    await bus.publish('submitted', [ev('s2')]);
    await sleep(100);
    expect(seen).toEqual(['s1']);
    expect((await consumerInfo(bus, 'stopper')).num_pending).toBe(1);
  });
});
