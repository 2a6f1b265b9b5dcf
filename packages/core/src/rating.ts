/**
 * SMS rating as in Mizu's price setup: prices by destination prefix with service type SMS, the
 * longest prefix wins; a user's own prices come before their price packet's, which come before
 * the general ones. Every SMS "lasts" `smstime` seconds, so a price is per SMS segment. With no
 * price found, `smsprice` applies. Money is exact decimal strings (money.ts).
 */
import { isDecimal, multiplyDecimal } from './money.js';

export interface PriceRule {
  id: number;
  /** Destination prefix, digits only ('' = every destination). */
  prefix: string;
  /** Price of one SMS segment (one `smstime` unit), a non-negative decimal string. */
  price: string;
  /** 0 / null = not user specific. */
  userId?: number | null;
  /** '' / null = not packet specific. */
  packet?: string | null;
}

export interface RateQuery {
  to: string;
  userId: number;
  /** The user's price packet, if any. */
  packet?: string | null;
  segments: number;
}

export interface Rating {
  /** Price of one segment. */
  unitPrice: string;
  /** unitPrice x segments. */
  cost: string;
  segments: number;
  /** The price rule used, or undefined when `smsprice` applied. */
  rule?: PriceRule;
}

/** Rules indexed for the hot path: per scope, a map from prefix to rule. */
export interface PriceTable {
  readonly byUser: ReadonlyMap<number, ReadonlyMap<string, PriceRule>>;
  readonly byPacket: ReadonlyMap<string, ReadonlyMap<string, PriceRule>>;
  readonly general: ReadonlyMap<string, PriceRule>;
  readonly size: number;
}

export function validatePriceRule(r: Omit<PriceRule, 'id'>): string | undefined {
  if (!/^[0-9]{0,32}$/.test(r.prefix)) return 'prefix must be 0-32 digits';
  if (!isDecimal(r.price) || r.price.trim().startsWith('-')) return 'price must be a non-negative decimal';
  if (!/^\s*\d+(\.\d{1,6})?\s*$/.test(r.price)) return 'price has at most 6 decimal places';
  return undefined;
}

function addTo<K>(m: Map<K, Map<string, PriceRule>>, k: K, r: PriceRule): void {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map<string, PriceRule>()));
  // Two rules with the same scope and prefix: the later one (higher id) wins, as an update would.
  const prev = inner.get(r.prefix);
  if (!prev || prev.id < r.id) inner.set(r.prefix, r);
}

export function compilePrices(rules: readonly PriceRule[]): PriceTable {
  const byUser = new Map<number, Map<string, PriceRule>>();
  const byPacket = new Map<string, Map<string, PriceRule>>();
  const general = new Map<number, Map<string, PriceRule>>();
  for (const r of rules) {
    const bad = validatePriceRule(r);
    if (bad) throw new RangeError(`price ${r.id}: ${bad}`);
    if (r.userId) addTo(byUser, r.userId, r);
    else if (r.packet) addTo(byPacket, r.packet, r);
    else addTo(general, 0, r);
  }
  return { byUser, byPacket, general: general.get(0) ?? new Map(), size: rules.length };
}

function longestPrefix(m: ReadonlyMap<string, PriceRule> | undefined, to: string): PriceRule | undefined {
  if (!m || m.size === 0) return undefined;
  const digits = to.startsWith('+') ? to.slice(1) : to;
  // At most 33 map lookups: cheaper than scanning every rule for every message.
  for (let n = Math.min(digits.length, 32); n >= 0; n--) {
    const r = m.get(digits.slice(0, n));
    if (r) return r;
  }
  return undefined;
}

/** The price rule for a destination, or undefined when `smsprice` applies. */
export function findPrice(table: PriceTable, q: Omit<RateQuery, 'segments'>): PriceRule | undefined {
  return (
    longestPrefix(table.byUser.get(q.userId), q.to) ??
    (q.packet ? longestPrefix(table.byPacket.get(q.packet), q.to) : undefined) ??
    longestPrefix(table.general, q.to)
  );
}

/** Rates one message: per-segment price from the table or `smsprice`, times its segments. */
export function rateSms(table: PriceTable, q: RateQuery, smsprice: string): Rating {
  const rule = findPrice(table, q);
  const unitPrice = rule ? rule.price : smsprice;
  return { unitPrice, cost: multiplyDecimal(unitPrice, q.segments), segments: q.segments, rule };
}
