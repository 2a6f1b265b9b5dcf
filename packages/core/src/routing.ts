/**
 * SMS routing as plain data plus pure functions (as Jasmin's Routes.py): a rule matches a message
 * by destination (prefix or regular expression), optionally by sender and by user or user group;
 * matching rules are tried by ascending `priority`, and rules of equal priority share the traffic
 * by `weight`. The ordered list of distinct gateways is the message's route plan: the first is
 * where it goes, the rest are its failover order.
 */

export type RoutePatternType = 'prefix' | 'regex';

export interface RouteRule {
  id: number;
  patternType: RoutePatternType;
  /** Destination prefix ('' matches every number) or a regular expression on the whole number. */
  pattern: string;
  /** tb_users.id of the SMS GW user. */
  gatewayId: number;
  /** Lower is tried first. */
  priority: number;
  /** Share of traffic among matching rules of the same priority (> 0). */
  weight: number;
  /** Optional sender condition: a prefix of the `from` number. */
  senderPrefix?: string | null;
  /** Optional: only this user's messages. */
  userId?: number | null;
  /** Optional: only messages of users in this group (the user's price packet). */
  userGroup?: string | null;
}

export interface RouteQuery {
  to: string;
  from: string;
  userId: number;
  /** The sender's group (price packet), if any. */
  userGroup?: string | null;
}

interface CompiledRule extends RouteRule {
  test: (to: string) => boolean;
}

/** Rules compiled once (regular expressions built, sorted by priority) for the hot path. */
export interface RouteTable {
  readonly rules: readonly CompiledRule[];
}

export class RouteRuleError extends Error {
  readonly code = 'BAD_ROUTE';
}

/** Checks a rule as it is saved; returns the reason it is invalid, or undefined. */
export function validateRouteRule(r: Omit<RouteRule, 'id'>): string | undefined {
  if (r.patternType === 'prefix') {
    if (!/^\+?[0-9]*$/.test(r.pattern)) return 'a prefix pattern is digits only (optionally a leading +)';
  } else if (r.patternType === 'regex') {
    if (r.pattern === '') return 'a regular expression pattern must not be empty';
    try {
      new RegExp(r.pattern);
    } catch (err) {
      return `invalid regular expression: ${(err as Error).message}`;
    }
  } else {
    return `pattern type must be prefix or regex, got ${String(r.patternType)}`;
  }
  if (!Number.isInteger(r.gatewayId) || r.gatewayId <= 0) return 'gateway id must be a positive integer';
  if (!Number.isInteger(r.priority)) return 'priority must be an integer';
  if (!Number.isInteger(r.weight) || r.weight <= 0) return 'weight must be a positive integer';
  return undefined;
}

function stripPlus(n: string): string {
  return n.startsWith('+') ? n.slice(1) : n;
}

/** Compiles rules; an invalid rule throws RouteRuleError (rules are validated when saved). */
export function compileRoutes(rules: readonly RouteRule[]): RouteTable {
  const compiled: CompiledRule[] = rules.map((r) => {
    const bad = validateRouteRule(r);
    if (bad) throw new RouteRuleError(`route ${r.id}: ${bad}`);
    if (r.patternType === 'prefix') {
      const prefix = stripPlus(r.pattern);
      return { ...r, test: (to: string) => stripPlus(to).startsWith(prefix) };
    }
    // Anchored on the whole number: `^36(20|30)` style patterns behave as operators expect, and
    // a pattern without anchors still has to match all of it (no accidental substring matches).
    const re = new RegExp(`^(?:${r.pattern})$`);
    return { ...r, test: (to: string) => re.test(to) || re.test(stripPlus(to)) };
  });
  // Stable: equal priorities keep their id order, so the weighted draw is reproducible in tests.
  compiled.sort((a, b) => a.priority - b.priority || a.id - b.id);
  return { rules: compiled };
}

function ruleMatches(r: CompiledRule, q: RouteQuery): boolean {
  if (r.userId != null && r.userId !== q.userId) return false;
  if (r.userGroup != null && r.userGroup !== '' && r.userGroup !== (q.userGroup ?? null)) return false;
  if (r.senderPrefix != null && r.senderPrefix !== '' && !q.from.startsWith(r.senderPrefix)) return false;
  return r.test(q.to);
}

/** Matching rules whose gateway is usable, in priority order. */
export function matchingRoutes(
  table: RouteTable,
  q: RouteQuery,
  usable?: (gatewayId: number) => boolean,
): CompiledRule[] {
  return table.rules.filter((r) => ruleMatches(r, q) && (usable ? usable(r.gatewayId) : true));
}

/**
 * The ordered gateways for a message: priority groups in ascending order; inside a group a
 * weighted draw without replacement (so the first pick follows the weights and the others
 * become the failover order). A gateway appears once, at its best place.
 * `rand` returns numbers in [0, 1).
 */
export function routePlan(
  table: RouteTable,
  q: RouteQuery,
  rand: () => number,
  usable?: (gatewayId: number) => boolean,
): number[] {
  const rules = matchingRoutes(table, q, usable);
  const plan: number[] = [];
  const seen = new Set<number>();
  let i = 0;
  while (i < rules.length) {
    let j = i;
    while (j < rules.length && rules[j]!.priority === rules[i]!.priority) j++;
    const group = rules.slice(i, j);
    while (group.length) {
      let total = 0;
      for (const r of group) total += r.weight;
      let x = rand() * total;
      let k = 0;
      for (; k < group.length - 1; k++) {
        x -= group[k]!.weight;
        if (x < 0) break;
      }
      const [picked] = group.splice(k, 1);
      if (!seen.has(picked!.gatewayId)) {
        seen.add(picked!.gatewayId);
        plan.push(picked!.gatewayId);
      }
    }
    i = j;
  }
  return plan;
}

/** The first gateway of the plan not tried yet, or undefined when the routes are exhausted. */
export function nextRoute(
  table: RouteTable,
  q: RouteQuery,
  tried: readonly number[],
  rand: () => number,
  usable?: (gatewayId: number) => boolean,
): number | undefined {
  const done = new Set(tried);
  return routePlan(table, q, rand, usable).find((g) => !done.has(g));
}

/** `smsrouting`: -1 auto (routing when any SMS GW user exists), 0 global `smsurl` only, 1 routing. */
export type SmsRoutingMode = -1 | 0 | 1;

export interface GatewayChoiceInput {
  smsrouting: number;
  /** The global `smsurl` is set (gateway 0 exists). */
  hasGlobalGateway: boolean;
  /** Enabled SMS GW user ids. */
  gateways: readonly number[];
}

/**
 * The gateway of a new message. Mode 0 uses gateway 0 (the global `smsurl`). Mode 1 uses the
 * routing table; with no table rule matching, the first enabled SMS GW user takes it (Mizu's
 * behaviour with a single gateway and no rules). Mode -1 behaves as 1 when any SMS GW user exists,
 * else as 0. Undefined when nothing can take the message.
 */
export function chooseRoute(
  input: GatewayChoiceInput,
  table: RouteTable,
  q: RouteQuery,
  rand: () => number,
): number | undefined {
  const global = input.hasGlobalGateway ? 0 : undefined;
  if (input.smsrouting === 0) return global;
  if (input.smsrouting === -1 && input.gateways.length === 0) return global;
  const enabled = new Set(input.gateways);
  const usable = (id: number) => enabled.has(id);
  const plan = routePlan(table, q, rand, usable);
  if (plan.length) return plan[0];
  // Rules exist but none matches this destination: no default route, unless there are no rules.
  if (table.rules.length > 0) return undefined;
  return input.gateways[0] ?? (input.smsrouting === -1 ? global : undefined);
}

/**
 * A deterministic generator seeded by a string (FNV-1a + mulberry32): failover decisions that are
 * re-made after a crash pick the same gateway, so re-queued chunks keep their ids.
 */
export function seededRandom(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
