import { describe, expect, test } from 'vitest';
import type { Chunk, OutboundSms } from '@smsfleet/core';
import { AcceptPipeline, toChunks } from './accept-pipeline.js';

const m = (smsid: string, gatewayId: number): OutboundSms => ({
  smsid,
  gatewayId,
  userId: 1,
  from: '1',
  to: '2',
  text: 't',
  encoding: 'GSM7',
  segments: 1,
  clientIp: '::1',
  acceptedAt: 0,
});

describe('toChunks', () => {
  test('one gateway per chunk, at most size messages', () => {
    const items = [m('a', 1), m('b', 2), m('c', 1), m('d', 1)];
    const chunks = toChunks(items, 2);
    expect(chunks.map((c) => [c.gatewayId, c.messages.map((x) => x.smsid)])).toEqual([
      [1, ['a', 'c']],
      [1, ['d']],
      [2, ['b']],
    ]);
    expect(new Set(chunks.map((c) => c.chunkId)).size).toBe(3);
  });
});

describe('AcceptPipeline', () => {
  test('requests close together share one addBulk', async () => {
    const calls: Chunk[][] = [];
    const p = new AcceptPipeline({
      addChunks: async (c) => void calls.push(c),
      publishAccepted: async () => undefined,
      chunkSize: 100,
      batchWaitMs: 5,
    });
    await Promise.all([p.accept(m('a', 1)), p.accept(m('b', 1)), p.accept(m('c', 1))]);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]!.messages).toHaveLength(3);
  });
  test('a failed enqueue fails every request of the batch', async () => {
    const p = new AcceptPipeline({
      addChunks: async () => {
        throw new Error('redis down');
      },
      publishAccepted: async () => undefined,
      chunkSize: 100,
      batchWaitMs: 1,
    });
    await expect(Promise.all([p.accept(m('a', 1)), p.accept(m('b', 1))])).rejects.toThrow('redis down');
  });
});
