import type { Consumption, EventBus } from '@smsfleet/bus';
import type { SmsEvent } from '@smsfleet/core';
import { MessageStatusStore, type Redis } from '@smsfleet/queue';
import type { Logger } from '@smsfleet/runtime';

export interface StatusTrackerOptions {
  bus: EventBus;
  redis: Redis;
  queuePrefix: string;
  log: Logger;
  ttlSeconds?: number;
}

/**
 * Keeps the message status store (Redis) up to date from every `sms.*` event: per smsid its state
 * history, per batch its progress counters. One durable consumer for the whole fleet, one Redis
 * pipeline per event batch; redelivered events change nothing (the store is idempotent), and a
 * Redis error naks the batch so no transition is lost.
 */
export async function startStatusTracker(opts: StatusTrackerOptions): Promise<Consumption> {
  const store = new MessageStatusStore(opts.redis, opts.queuePrefix, opts.ttlSeconds);
  return opts.bus.consume<SmsEvent>(
    'status-tracker',
    '*',
    async (events) => {
      await store.record(events);
    },
    {
      maxBatchMessages: 256,
      onError: (err) => opts.log.error({ err: (err as Error).message }, 'status tracker batch failed'),
    },
  );
}
