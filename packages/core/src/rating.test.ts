import { describe, expect, test } from 'vitest';
import { compilePrices, rateSms, validatePriceRule, type PriceRule } from './rating.js';

const rules: PriceRule[] = [
  { id: 1, prefix: '36', price: '0.05' },
  { id: 2, prefix: '3620', price: '0.04' },
  { id: 3, prefix: '362012', price: '0.035' },
  { id: 4, prefix: '44', price: '0.1' },
  { id: 5, prefix: '36', price: '0.02', userId: 9 },
  { id: 6, prefix: '3620', price: '0.03', packet: 'gold' },
  { id: 7, prefix: '', price: '0.2', packet: 'gold' },
  { id: 8, prefix: '44', price: '0.09' }, // same scope and prefix as 4: the newer one wins
];
const table = compilePrices(rules);

describe('rating', () => {
  test.each([
    { name: 'longest prefix wins', to: '36201234567', userId: 1, segments: 1, cost: '0.035', rule: 3 },
    {
      name: 'shorter prefix when the longer does not match',
      to: '36209999999',
      userId: 1,
      segments: 1,
      cost: '0.04',
      rule: 2,
    },
    { name: 'leading + ignored', to: '+36301234567', userId: 1, segments: 1, cost: '0.05', rule: 1 },
    { name: 'cost is per segment', to: '36201234567', userId: 1, segments: 3, cost: '0.105', rule: 3 },
    { name: 'newest rule of same prefix', to: '447700900', userId: 1, segments: 2, cost: '0.18', rule: 8 },
    {
      name: 'no price: smsprice fallback',
      to: '49301234',
      userId: 1,
      segments: 2,
      cost: '0.14',
      rule: undefined,
    },
    { name: 'user price before general', to: '36201234567', userId: 9, segments: 1, cost: '0.02', rule: 5 },
    {
      name: 'packet price before general',
      to: '36201234567',
      userId: 1,
      packet: 'gold',
      segments: 1,
      cost: '0.03',
      rule: 6,
    },
    {
      name: 'packet catch-all',
      to: '49301234',
      userId: 1,
      packet: 'gold',
      segments: 1,
      cost: '0.2',
      rule: 7,
    },
    {
      name: 'unknown packet uses general',
      to: '44123',
      userId: 1,
      packet: 'tin',
      segments: 1,
      cost: '0.09',
      rule: 8,
    },
  ])('$name', ({ to, userId, segments, cost, rule, ...rest }) => {
    const r = rateSms(table, { to, userId, segments, packet: (rest as { packet?: string }).packet }, '0.07');
    expect(r.cost).toBe(cost);
    expect(r.rule?.id).toBe(rule);
  });

  test('exact money: 3 x 0.1 is 0.3', () => {
    const t = compilePrices([{ id: 1, prefix: '1', price: '0.1' }]);
    expect(rateSms(t, { to: '1555', userId: 1, segments: 3 }, '0').cost).toBe('0.3');
  });

  test.each([
    [{ prefix: '3a', price: '1' }, /digits/],
    [{ prefix: '36', price: '-1' }, /non-negative/],
    [{ prefix: '36', price: 'x' }, /non-negative/],
    [{ prefix: '36', price: '0.0000001' }, /6 decimal/],
  ])('refuses %j', (r, re) => expect(validatePriceRule(r)).toMatch(re));
});
