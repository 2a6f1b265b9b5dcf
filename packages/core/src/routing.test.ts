import { describe, expect, test } from 'vitest';
import {
  chooseRoute,
  compileRoutes,
  matchingRoutes,
  nextRoute,
  routePlan,
  seededRandom,
  validateRouteRule,
  type RouteRule,
} from './routing.js';

let nextId = 1;
function rule(p: Partial<RouteRule> & Pick<RouteRule, 'pattern' | 'gatewayId'>): RouteRule {
  return { id: nextId++, patternType: 'prefix', priority: 10, weight: 1, ...p };
}
const q = (to: string, extra: Partial<{ from: string; userId: number; userGroup: string }> = {}) => ({
  to,
  from: extra.from ?? '1000',
  userId: extra.userId ?? 7,
  userGroup: extra.userGroup,
});

describe('route matching: prefix vs regex and conditions', () => {
  const table = compileRoutes([
    rule({ pattern: '3620', gatewayId: 1 }),
    rule({ patternType: 'regex', pattern: '36(30|70)\\d{7}', gatewayId: 2 }),
    rule({ pattern: '44', gatewayId: 3, senderPrefix: '999' }),
    rule({ pattern: '49', gatewayId: 4, userId: 42 }),
    rule({ pattern: '33', gatewayId: 5, userGroup: 'gold' }),
    rule({ pattern: '', gatewayId: 6, priority: 100 }),
  ]);
  test.each([
    ['36201234567', {}, [1, 6]],
    ['+36201234567', {}, [1, 6]],
    ['36301234567', {}, [2, 6]],
    ['363012345678', {}, [6]], // regex is anchored on the whole number: one digit too many
    ['436301234567', {}, [6]], // prefix and regex never match inside the number
    ['36701234567', {}, [2, 6]],
    ['447700900000', {}, [6]], // sender condition not met
    ['447700900000', { from: '99912' }, [3, 6]],
    ['4930123', {}, [6]], // user condition not met
    ['4930123', { userId: 42 }, [4, 6]],
    ['33123', { userGroup: 'silver' }, [6]],
    ['33123', { userGroup: 'gold' }, [5, 6]],
  ] as const)('%s %j -> %j', (to, extra, want) => {
    expect(matchingRoutes(table, q(to, extra)).map((r) => r.gatewayId)).toEqual(want);
  });

  test('unusable gateways are skipped', () => {
    expect(matchingRoutes(table, q('36201234567'), (g) => g !== 1).map((r) => r.gatewayId)).toEqual([6]);
  });
});

describe('priority and failover order', () => {
  test.each([
    {
      name: 'lower priority value first',
      rules: [
        rule({ pattern: '36', gatewayId: 1, priority: 20 }),
        rule({ pattern: '36', gatewayId: 2, priority: 5 }),
      ],
      plan: [2, 1],
    },
    {
      name: 'a gateway appears once at its best place',
      rules: [
        rule({ pattern: '36', gatewayId: 1, priority: 1 }),
        rule({ pattern: '3620', gatewayId: 2, priority: 2 }),
        rule({ patternType: 'regex', pattern: '36.*', gatewayId: 1, priority: 3 }),
        rule({ pattern: '', gatewayId: 3, priority: 9 }),
      ],
      plan: [1, 2, 3],
    },
    {
      name: 'no match, no plan',
      rules: [rule({ pattern: '44', gatewayId: 1 })],
      plan: [],
    },
  ])('$name', ({ rules, plan }) => {
    expect(routePlan(compileRoutes(rules), q('36201234567'), Math.random)).toEqual(plan);
  });

  test('nextRoute walks the plan, skipping tried gateways, until it is exhausted', () => {
    const table = compileRoutes([
      rule({ pattern: '36', gatewayId: 1, priority: 1 }),
      rule({ pattern: '36', gatewayId: 2, priority: 2 }),
      rule({ pattern: '36', gatewayId: 3, priority: 3 }),
    ]);
    const m = q('3620');
    expect(nextRoute(table, m, [], Math.random)).toBe(1);
    expect(nextRoute(table, m, [1], Math.random)).toBe(2);
    expect(nextRoute(table, m, [1, 2], Math.random)).toBe(3);
    expect(nextRoute(table, m, [2], Math.random)).toBe(1);
    expect(nextRoute(table, m, [1, 2, 3], Math.random)).toBeUndefined();
    expect(nextRoute(table, m, [1], Math.random, (g) => g !== 2)).toBe(3);
  });

  test('failover of a weighted pair goes to the other member before the lower priority', () => {
    const table = compileRoutes([
      rule({ pattern: '36', gatewayId: 1, weight: 3 }),
      rule({ pattern: '36', gatewayId: 2, weight: 1 }),
      rule({ pattern: '36', gatewayId: 3, priority: 50 }),
    ]);
    for (let i = 0; i < 50; i++) {
      const plan = routePlan(table, q('3620'), Math.random);
      expect(plan.slice(0, 2).sort()).toEqual([1, 2]);
      expect(plan[2]).toBe(3);
    }
  });
});

describe('weights share traffic among equal priorities', () => {
  test.each([{ weights: [70, 30] }, { weights: [1, 1, 2] }, { weights: [5, 3, 1, 1] }])(
    'first picks follow $weights within 2 points over 10,000 draws',
    ({ weights }) => {
      const table = compileRoutes(
        weights.map((w, i) => rule({ pattern: '36', gatewayId: i + 1, weight: w })),
      );
      const rand = seededRandom('weights-test');
      const counts = new Map<number, number>();
      const draws = 10_000;
      for (let i = 0; i < draws; i++) {
        const g = routePlan(table, q('36201234567'), rand)[0]!;
        counts.set(g, (counts.get(g) ?? 0) + 1);
      }
      const total = weights.reduce((a, b) => a + b, 0);
      weights.forEach((w, i) => {
        const share = (counts.get(i + 1) ?? 0) / draws;
        expect(Math.abs(share - w / total)).toBeLessThan(0.02);
      });
    },
  );
});

describe('chooseRoute per smsrouting', () => {
  const table = compileRoutes([rule({ pattern: '36', gatewayId: 5 })]);
  const empty = compileRoutes([]);
  test.each([
    { mode: 0, global: true, gws: [5, 6], t: table, to: '3620', want: 0 },
    { mode: 0, global: false, gws: [5], t: table, to: '3620', want: undefined },
    { mode: 1, global: true, gws: [5, 6], t: table, to: '3620', want: 5 },
    { mode: 1, global: true, gws: [5, 6], t: table, to: '4420', want: undefined }, // rules, none matches
    { mode: 1, global: true, gws: [6], t: table, to: '3620', want: undefined }, // its gateway is disabled
    { mode: 1, global: true, gws: [6, 8], t: empty, to: '3620', want: 6 }, // no rules: first gateway
    { mode: 1, global: true, gws: [], t: empty, to: '3620', want: undefined },
    { mode: -1, global: true, gws: [], t: table, to: '3620', want: 0 },
    { mode: -1, global: true, gws: [5], t: table, to: '3620', want: 5 },
    { mode: -1, global: false, gws: [6], t: empty, to: '3620', want: 6 },
  ])('mode $mode global=$global gws=$gws to=$to -> $want', ({ mode, global, gws, t, to, want }) => {
    expect(
      chooseRoute({ smsrouting: mode, hasGlobalGateway: global, gateways: gws }, t, q(to), Math.random),
    ).toBe(want);
  });
});

describe('validation', () => {
  test.each([
    [{ patternType: 'prefix', pattern: '36a', gatewayId: 1, priority: 1, weight: 1 }, /digits/],
    [{ patternType: 'regex', pattern: '(', gatewayId: 1, priority: 1, weight: 1 }, /invalid regular/],
    [{ patternType: 'prefix', pattern: '36', gatewayId: 0, priority: 1, weight: 1 }, /gateway/],
    [{ patternType: 'prefix', pattern: '36', gatewayId: 1, priority: 1, weight: 0 }, /weight/],
  ] as const)('%j is refused', (r, re) => {
    expect(validateRouteRule(r)).toMatch(re);
  });
  test('a valid rule passes', () => {
    expect(
      validateRouteRule({ patternType: 'regex', pattern: '36\\d+', gatewayId: 1, priority: 1, weight: 2 }),
    ).toBe(undefined);
  });
  test('seededRandom is deterministic and in [0,1)', () => {
    const a = seededRandom('x');
    const b = seededRandom('x');
    for (let i = 0; i < 100; i++) {
      const v = a();
      expect(v).toBe(b());
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});
