import { describe, expect, test } from 'vitest';
import { compilePrices, compileRoutes, type Chunk, type SmsEvent } from '@smsfleet/core';
import type { RoutingTables } from '@smsfleet/db';
import type { Logger } from '@smsfleet/runtime';
import { createFailover } from './failover.js';

const silentLog = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

function tables(gateways = [1, 2, 3]): RoutingTables {
  return {
    routes: compileRoutes([
      { id: 1, patternType: 'prefix', pattern: '36', gatewayId: 1, priority: 1, weight: 1 },
      { id: 2, patternType: 'prefix', pattern: '36', gatewayId: 2, priority: 2, weight: 1 },
      { id: 3, patternType: 'prefix', pattern: '36', gatewayId: 3, priority: 3, weight: 1 },
    ]),
    prices: compilePrices([]),
    gateways,
    gatewayNames: new Map(),
    packets: new Map(),
  };
}

function failedEvent(
  smsid: string,
  gatewayId: number,
  route?: { tried: number[]; attempt: number },
): SmsEvent {
  return {
    smsid,
    state: 'failed',
    at: 1,
    reason: 'simulated rejection',
    msg: {
      smsid,
      userId: 9,
      gatewayId,
      from: '1000',
      to: '3620111',
      text: 'x',
      encoding: 'GSM7',
      segments: 1,
      clientIp: '',
      acceptedAt: 1,
      ...(route ? { route } : {}),
    },
  };
}

function setup(opts: { max?: number; routing?: number; gateways?: number[] } = {}) {
  const queued: Chunk[] = [];
  const failover = createFailover({
    tables: () => tables(opts.gateways),
    settings: () => ({ smsrouting: opts.routing ?? 1, smsroutemaxtries: opts.max ?? 3 }),
    addChunks: async (c) => void queued.push(...c),
    log: silentLog,
  });
  return { failover, queued };
}

describe('failover', () => {
  test('moves a failed message to the next route with its history, then stops at the limit', async () => {
    const { failover, queued } = setup();
    const chunk: Chunk = { chunkId: 'c1', gatewayId: 1, messages: [] };
    expect(await failover(chunk, [failedEvent('a', 1)])).toEqual([]);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ chunkId: 'c1>2', gatewayId: 2, attempt: 1 });
    expect(queued[0]!.messages[0]).toMatchObject({ gatewayId: 2, route: { tried: [1], attempt: 2 } });

    const second = { chunkId: 'c1>2', gatewayId: 2, messages: [] };
    expect(await failover(second, [failedEvent('a', 2, { tried: [1], attempt: 2 })])).toEqual([]);
    expect(queued[1]!.messages[0]).toMatchObject({ gatewayId: 3, route: { tried: [1, 2], attempt: 3 } });

    // Third gateway failed too: smsroutemaxtries=3 reached, the message stays failed.
    const third = { chunkId: 'c1>2>3', gatewayId: 3, messages: [] };
    const stay = await failover(third, [failedEvent('a', 3, { tried: [1, 2], attempt: 3 })]);
    expect(stay).toHaveLength(1);
    expect(stay[0]!.reason).toMatch(/after 3 routes/);
    expect(queued).toHaveLength(2);
  });

  test.each([
    { name: 'smsrouting 0', opts: { routing: 0 }, gw: 1 },
    { name: 'global smsurl gateway', opts: {}, gw: 0 },
    { name: 'limit 1 disables failover', opts: { max: 1 }, gw: 1 },
    { name: 'no other enabled gateway', opts: { gateways: [1] }, gw: 1 },
  ])('$name: stays failed', async ({ opts, gw }) => {
    const { failover, queued } = setup(opts);
    expect(
      await failover({ chunkId: 'c', gatewayId: gw, messages: [] }, [failedEvent('a', gw)]),
    ).toHaveLength(1);
    expect(queued).toHaveLength(0);
  });

  test('disabled gateways are skipped and the choice is the same when re-run', async () => {
    const a = setup({ gateways: [1, 3] });
    const b = setup({ gateways: [1, 3] });
    const events = Array.from({ length: 20 }, (_, i) => failedEvent(`m${i}`, 1));
    await a.failover({ chunkId: 'c', gatewayId: 1, messages: [] }, events);
    await b.failover({ chunkId: 'c', gatewayId: 1, messages: [] }, events);
    expect(a.queued).toEqual(b.queued);
    expect(a.queued.map((c) => c.gatewayId)).toEqual([3]);
    expect(a.queued[0]!.messages).toHaveLength(20);
  });
});
