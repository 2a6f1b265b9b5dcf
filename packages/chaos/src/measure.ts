import { formatDecimal, parseDecimal } from '@smsfleet/core';
import { UsersRepo } from '@smsfleet/db';
import type { Fleet } from '@smsfleet/harness';

/** The charged user a chaos run sends for, and the credit it started with. */
export interface ChaosUser {
  id: number;
  name: string;
  startCredit: string;
}

/** A price with sub-cent digits, so a rounding or double-charge shows in the credit difference. */
export const CHAOS_PRICE = '0.013';

/** Creates the user a run sends for (charged at `smsprice`), with plenty of credit. */
export async function createChaosUser(fleet: Fleet, credit = '1000000'): Promise<ChaosUser> {
  const name = `chaos${fleet.id}`;
  const u = await new UsersRepo(fleet.db).create({ name, password: 'chaos-pass', type: 'user', credit });
  return { id: u.id, name, startCredit: u.credit };
}

export interface Measurement {
  accepted: number;
  /** Accepted messages with a CDR (a final state). */
  finals: number;
  /** Accepted messages without a CDR after the settle deadline. */
  lost: number;
  /** A few of the lost smsids, for the notes. */
  lostSample: string[];
  /** smsids with more than one CDR row. */
  duplicateCdrs: number;
  /** CDRs for messages never answered OK (the answer was lost in a fault): not an error. */
  unansweredCdrs: number;
  /** Messages the provider received more than once. */
  providerDuplicates: number;
  providerReceived: number;
  /** start credit − Σ CDR costs − end credit, exact. */
  creditDifference: string;
  /** CDR counts per final state. */
  states: Record<string, number>;
}

export interface MeasureOptions {
  user: ChaosUser;
  /** smsids answered OK. */
  accepted: Set<string>;
  /** Give up when no new CDR of an accepted message arrived for this long (default 60 s). */
  stallMs?: number;
  /** Absolute deadline for waiting (default 15 min). */
  deadlineMs?: number;
  log?: (line: string) => void;
}

interface CdrRow {
  smsid: string;
  cost: string;
  state: string;
}

async function cdrRows(fleet: Fleet, userId: number): Promise<CdrRow[]> {
  return (await fleet.db('cdr').select('smsid', 'cost', 'state').where({ user_id: userId })) as CdrRow[];
}

/** Credit holds not yet released or rolled forward (0 when the table does not exist). */
async function creditHolds(fleet: Fleet): Promise<number> {
  if (!(await fleet.db.schema.hasTable('credit_holds'))) return 0;
  const r = (await fleet.db('credit_holds').count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(r?.n ?? 0);
}

async function credit(fleet: Fleet, userId: number): Promise<string> {
  const r = (await fleet.db('users').select('credit').where({ id: userId }).first()) as
    { credit: string } | undefined;
  if (!r) throw new Error(`user ${userId} vanished`);
  return r.credit;
}

/**
 * Waits until every accepted message has a CDR (or the CDR count stops growing for `stallMs`),
 * then counts. CDRs are the source of truth for final states: billing writes one per final state,
 * in the same transaction that settles the credit.
 */
export async function settleAndMeasure(fleet: Fleet, opts: MeasureOptions): Promise<Measurement> {
  const stallMs = opts.stallMs ?? 60_000;
  const deadline = Date.now() + (opts.deadlineMs ?? 15 * 60_000);
  let best = -1;
  let bestAt = Date.now();
  let lastLog = 0;
  for (;;) {
    const r = (await fleet
      .db('cdr')
      .countDistinct({ n: 'smsid' })
      .where({ user_id: opts.user.id })
      .first()) as { n: number | string } | undefined;
    const n = Number(r?.n ?? 0);
    if (n > best) {
      best = n;
      bestAt = Date.now();
    }
    if (n >= opts.accepted.size) {
      // Every accepted message may have its CDR, but CDRs of unanswered messages may also count:
      // check exactly below; if some are missing, keep waiting.
      const rows = await cdrRows(fleet, opts.user.id);
      const have = new Set(rows.map((x) => x.smsid));
      let missing = 0;
      for (const id of opts.accepted) if (!have.has(id)) missing++;
      if (missing === 0) break;
    }
    if (Date.now() - bestAt > stallMs || Date.now() > deadline) break;
    if (opts.log && Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      opts.log(`  settling: ${n} CDRs for ${opts.accepted.size} accepted messages`);
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  // Then the credit: messages of requests that were never answered (the answer or the whole
  // request was cut by a fault) may still be queued or held (credit holds are rolled forward by
  // the api-gateway). Wait until no hold is left and the credit matches the CDRs, or until
  // neither the CDRs nor the credit moved for `stallMs`.
  let last = '';
  let lastAt = Date.now();
  for (;;) {
    const m = await measureNow(fleet, opts);
    const holds = await creditHolds(fleet);
    if (holds === 0 && m.creditDifference === '0') break;
    const state = `${m.finals}/${m.unansweredCdrs}/${m.creditDifference}/${holds}`;
    if (state !== last) {
      last = state;
      lastAt = Date.now();
    }
    if (Date.now() - lastAt > stallMs || Date.now() > deadline) break;
    if (opts.log && Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      opts.log(`  settling: credit difference ${m.creditDifference}, ${holds} credit holds`);
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  return measureNow(fleet, opts);
}

/** Counts the figures from the database and the simulator as they are now. */
export async function measureNow(fleet: Fleet, opts: MeasureOptions): Promise<Measurement> {
  const rows = await cdrRows(fleet, opts.user.id);
  const perSmsid = new Map<string, number>();
  const states: Record<string, number> = {};
  let costs = 0n;
  for (const r of rows) {
    perSmsid.set(r.smsid, (perSmsid.get(r.smsid) ?? 0) + 1);
    states[r.state] = (states[r.state] ?? 0) + 1;
    costs += parseDecimal(r.cost);
  }
  let finals = 0;
  const lostSample: string[] = [];
  for (const id of opts.accepted) {
    if (perSmsid.has(id)) finals++;
    else if (lostSample.length < 5) lostSample.push(id);
  }
  let duplicateCdrs = 0;
  let unansweredCdrs = 0;
  for (const [id, n] of perSmsid) {
    if (n > 1) duplicateCdrs++;
    if (!opts.accepted.has(id)) unansweredCdrs++;
  }
  const end = await credit(fleet, opts.user.id);
  const difference = parseDecimal(opts.user.startCredit) - costs - parseDecimal(end);
  const sim = await fleet.simStats();
  return {
    accepted: opts.accepted.size,
    finals,
    lost: opts.accepted.size - finals,
    lostSample,
    duplicateCdrs,
    unansweredCdrs,
    providerDuplicates: sim.duplicates,
    providerReceived: sim.received,
    creditDifference: formatDecimal(difference),
    states,
  };
}
