import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDecimal, compareDecimal, formatDecimal, multiplyDecimal, parseDecimal } from './money.js';
import { compilePrices, findPrice, rateSms } from './rating.js';
import {
  chooseRoute,
  compileRoutes,
  routePlan,
  seededRandom,
  validateRouteRule,
  type RouteQuery,
  type RouteRule,
} from './routing.js';

const numRuns = Number(process.env['FC_NUM_RUNS'] ?? 500);

const digits = (max: number) => fc.stringMatching(new RegExp(`^[0-9]{0,${max}}$`));
const number = fc.tuple(fc.constantFrom('', '+'), digits(15)).map(([p, d]) => `${p}${d}`);

const rule = fc.record({
  id: fc.integer({ min: 1, max: 1000 }),
  patternType: fc.constantFrom('prefix' as const, 'regex' as const),
  pattern: fc.oneof(digits(4), fc.constantFrom('36.*', '1[0-9]+', '(20|30)\\d*', '.*', '44|49.*', '\\d{3,}')),
  gatewayId: fc.integer({ min: 1, max: 8 }),
  priority: fc.integer({ min: 0, max: 3 }),
  weight: fc.integer({ min: 1, max: 100 }),
  senderPrefix: fc.option(digits(2)),
  userId: fc.option(fc.integer({ min: 1, max: 3 })),
  userGroup: fc.option(fc.constantFrom('', 'gold', 'silver')),
});
const rules = fc
  .array(rule, { maxLength: 12 })
  .map((rs) => rs.map((r, i) => ({ ...r, id: i + 1 })).filter((r) => validateRouteRule(r) === undefined));
const query = fc.record<RouteQuery>({
  to: number,
  from: digits(6),
  userId: fc.integer({ min: 1, max: 3 }),
  userGroup: fc.option(fc.constantFrom('gold', 'silver')),
});

function matches(r: RouteRule, q: RouteQuery): boolean {
  if (r.userId != null && r.userId !== q.userId) return false;
  if (r.userGroup && r.userGroup !== q.userGroup) return false;
  if (r.senderPrefix && !q.from.startsWith(r.senderPrefix)) return false;
  const to = q.to.replace(/^\+/, '');
  if (r.patternType === 'prefix') return to.startsWith(r.pattern.replace(/^\+/, ''));
  return new RegExp(`^(?:${r.pattern})$`).test(to) || new RegExp(`^(?:${r.pattern})$`).test(q.to);
}

describe('routing', () => {
  it('the plan is the eligible gateways, each once, best priority first', () => {
    fc.assert(
      fc.property(
        rules,
        query,
        fc.array(fc.integer({ min: 1, max: 8 })),
        fc.integer(),
        (rs, q, down, seed) => {
          const table = compileRoutes(rs);
          const usable = (g: number) => !down.includes(g);
          const plan = routePlan(table, q, seededRandom(String(seed)), usable);
          const eligible = rs.filter((r) => matches(r, q) && usable(r.gatewayId));
          expect(new Set(plan).size).toBe(plan.length);
          expect(new Set(plan)).toEqual(new Set(eligible.map((r) => r.gatewayId)));
          // a gateway sits at the place of its best (lowest) priority rule
          const best = (g: number) =>
            Math.min(...eligible.filter((r) => r.gatewayId === g).map((r) => r.priority));
          for (let i = 1; i < plan.length; i++)
            expect(best(plan[i - 1]!)).toBeLessThanOrEqual(best(plan[i]!));
        },
      ),
      { numRuns },
    );
  });

  it('the first pick follows the weights: the draw lands in the picked rule’s share', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (weights, r) => {
          const rs: RouteRule[] = weights.map((w, i) => ({
            id: i + 1,
            patternType: 'prefix',
            pattern: '',
            gatewayId: i + 1,
            priority: 0,
            weight: w,
          }));
          const [first] = routePlan(compileRoutes(rs), { to: '361', from: '', userId: 1 }, () => r);
          const total = weights.reduce((a, b) => a + b, 0);
          const x = r * total;
          const k = first! - 1;
          const lo = weights.slice(0, k).reduce((a, b) => a + b, 0);
          expect(x).toBeGreaterThanOrEqual(lo - 1e-9);
          expect(x).toBeLessThan(lo + weights[k]! + 1e-9);
        },
      ),
      { numRuns },
    );
  });

  it('chooseRoute picks an enabled, eligible gateway (or the global one only when allowed)', () => {
    fc.assert(
      fc.property(
        rules,
        query,
        fc.constantFrom(-1, 0, 1),
        fc.boolean(),
        fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { maxLength: 8 }),
        fc.integer(),
        (rs, q, mode, hasGlobal, gateways, seed) => {
          const table = compileRoutes(rs);
          const g = chooseRoute(
            { smsrouting: mode, hasGlobalGateway: hasGlobal, gateways },
            table,
            q,
            seededRandom(String(seed)),
          );
          if (g === undefined) return;
          if (g === 0) {
            expect(hasGlobal).toBe(true);
            expect(mode === 0 || (mode === -1 && (gateways.length === 0 || rs.length === 0))).toBe(true);
            return;
          }
          expect(gateways).toContain(g);
          if (rs.length > 0) expect(rs.some((r) => r.gatewayId === g && matches(r, q))).toBe(true);
        },
      ),
      { numRuns },
    );
  });

  it('the same seed gives the same plan (failover re-decided after a crash)', () => {
    fc.assert(
      fc.property(rules, query, fc.string(), (rs, q, seed) => {
        const t = compileRoutes(rs);
        expect(routePlan(t, q, seededRandom(seed))).toEqual(routePlan(t, q, seededRandom(seed)));
      }),
      { numRuns },
    );
  });
});

/** A decimal string and its exact value in millionths. */
const money = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 10n ** 12n }),
    fc.integer({ min: 0, max: 6 }),
    fc.integer({ min: 0, max: 2 }),
  )
  .map(([units, places, trailingZeros]) => {
    const scaled = units - (units % 10n ** BigInt(6 - places));
    const int = scaled / 1_000_000n;
    const frac = (scaled % 1_000_000n).toString().padStart(6, '0').slice(0, places);
    const text = `${int}${places || trailingZeros ? '.' : ''}${frac}${'0'.repeat(places || trailingZeros ? trailingZeros : 0)}`;
    return { text: text.endsWith('.') ? `${text}0` : text, units: scaled };
  });

describe('money and rating', () => {
  it('parse/format/add/multiply are exact', () => {
    fc.assert(
      fc.property(money, money, fc.integer({ min: 0, max: 1000 }), (a, b, n) => {
        expect(parseDecimal(a.text)).toBe(a.units);
        expect(parseDecimal(formatDecimal(a.units))).toBe(a.units);
        expect(parseDecimal(addDecimal(a.text, b.text))).toBe(a.units + b.units);
        expect(addDecimal(a.text, b.text)).toBe(addDecimal(b.text, a.text));
        expect(parseDecimal(multiplyDecimal(a.text, n))).toBe(a.units * BigInt(n));
        const sign = a.units < b.units ? -1 : a.units > b.units ? 1 : 0;
        expect(compareDecimal(a.text, b.text)).toBe(sign);
        expect(formatDecimal(-a.units)).toBe(a.units === 0n ? '0' : `-${formatDecimal(a.units)}`);
      }),
      { numRuns },
    );
  });

  const priceRule = fc.record({
    id: fc.integer({ min: 1, max: 10_000 }),
    prefix: digits(6),
    // a price rule has at most 6 written decimals (validatePriceRule)
    price: money.map((m) => m.text).filter((t) => (t.split('.')[1] ?? '').length <= 6),
    userId: fc.option(fc.integer({ min: 1, max: 3 })),
    packet: fc.option(fc.constantFrom('', 'gold', 'silver')),
  });

  it('the longest matching prefix of the most specific scope wins; cost = unit x segments exactly', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(priceRule, { selector: (r) => r.id, maxLength: 15 }),
        number,
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.constantFrom('gold', 'silver')),
        fc.integer({ min: 1, max: 255 }),
        money,
        (prices, to, userId, packet, segments, smsprice) => {
          const table = compilePrices(prices);
          const q = { to, userId, packet, segments };
          const digitsTo = to.replace(/^\+/, '');
          const scopes = [
            prices.filter((p) => p.userId === userId),
            packet ? prices.filter((p) => !p.userId && p.packet === packet) : [],
            prices.filter((p) => !p.userId && !p.packet),
          ];
          let expected: (typeof prices)[number] | undefined;
          for (const scope of scopes) {
            const hits = scope.filter((p) => digitsTo.startsWith(p.prefix));
            if (hits.length === 0) continue;
            // longest prefix; same prefix: the later rule (higher id)
            expected = hits.reduce((a, b) =>
              b.prefix.length > a.prefix.length || (b.prefix.length === a.prefix.length && b.id > a.id)
                ? b
                : a,
            );
            break;
          }
          expect(findPrice(table, q)?.id).toBe(expected?.id);
          const rating = rateSms(table, q, smsprice.text);
          const unit = expected ? expected.price : smsprice.text;
          expect(parseDecimal(rating.cost)).toBe(parseDecimal(unit) * BigInt(segments));
        },
      ),
      { numRuns },
    );
  });
});
