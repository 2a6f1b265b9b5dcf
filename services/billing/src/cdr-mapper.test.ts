import { describe, expect, test } from 'vitest';
import { compilePrices, type SmsEvent } from '@smsfleet/core';
import { settlementFromFinal } from './cdr-mapper.js';

function ev(state: SmsEvent['state'], extra: Partial<SmsEvent['msg']> = {}): SmsEvent {
  return {
    smsid: 's1',
    state,
    at: 1_700_000_000_000,
    answer: 'provider said ok',
    msg: {
      smsid: 's1',
      userId: 5,
      gatewayId: 3,
      from: '1000',
      to: '36201234567',
      text: 'hi',
      encoding: 'GSM7',
      segments: 2,
      clientIp: '10.0.0.1',
      acceptedAt: 1_700_000_000_000,
      ...extra,
    },
  };
}
const rating = {
  smsprice: '0.07',
  smstime: 60,
  prices: compilePrices([{ id: 1, prefix: '3620', price: '0.04' }]),
};

describe('settlementFromFinal', () => {
  test.each([
    { state: 'delivered', reserved: '0.08', cost: '0.08', refund: '0', duration: 60 },
    { state: 'unknown', reserved: '0.08', cost: '0.08', refund: '0', duration: 60 },
    { state: 'failed', reserved: '0.08', cost: '0', refund: '0.08', duration: 0 },
    { state: 'rejected', reserved: '0.08', cost: '0', refund: '0.08', duration: 0 },
    { state: 'undelivered', reserved: '0.08', cost: '0', refund: '0.08', duration: 0 },
    { state: 'expired', reserved: '0.08', cost: '0', refund: '0.08', duration: 0 },
    // No reservation (admin): rated by the price setup, nothing moves.
    { state: 'delivered', reserved: undefined, cost: '0.08', refund: '0', duration: 60 },
    { state: 'failed', reserved: undefined, cost: '0', refund: '0', duration: 0 },
  ] as const)('$state reserved=$reserved -> cost $cost refund $refund', (c) => {
    const s = settlementFromFinal(ev(c.state, c.reserved ? { reserved: c.reserved } : {}), rating);
    expect(s.cdr.cost).toBe(c.cost);
    expect(s.refund).toBe(c.refund);
    expect(s.cdr.duration).toBe(c.duration);
    expect(s.cdr.comment).toBe('provider said ok');
    expect(s.cdr.gatewayId).toBe(3);
  });

  test('fallback smsprice per segment when no price matches', () => {
    expect(settlementFromFinal(ev('delivered', { to: '4477' }), rating).cdr.cost).toBe('0.14');
  });

  test('route attempt is recorded', () => {
    expect(
      settlementFromFinal(ev('delivered', { route: { tried: [1], attempt: 2 } }), rating).cdr.routeAttempt,
    ).toBe(2);
  });
});
