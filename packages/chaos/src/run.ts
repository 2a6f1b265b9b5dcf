import { Fleet, type FleetOptions } from '@smsfleet/harness';
import { LoadGenerator, type LoadOptions } from './load.js';
import {
  CHAOS_PRICE,
  createChaosUser,
  settleAndMeasure,
  type ChaosUser,
  type Measurement,
} from './measure.js';
import type { ScenarioOptions, ScenarioResult } from './scenario.js';

/** Default offered rate: a 10,000-message run takes about 25 s of sending, long enough to hit. */
export const DEFAULT_RATE = 400;

export interface RunContext {
  fleet: Fleet;
  load: LoadGenerator;
  user: ChaosUser;
  messages: number;
  log: (line: string) => void;
  /** Resolves once `share` (0..1) of the messages were offered. */
  atShare: (share: number) => Promise<void>;
}

export interface StandardRunOptions {
  name: string;
  options: ScenarioOptions;
  /** Fleet options merged over the chaos defaults (config is merged key by key). */
  fleet?: FleetOptions;
  /** Load options over the defaults (messages, rate and user come from the run). */
  load?: Partial<Omit<LoadOptions, 'messages' | 'user'>>;
  /** After the fleet started, before the load starts (sim behaviour, private infrastructure...). */
  prepare?(fleet: Fleet): Promise<void>;
  /** The fault, run while the load is going. Returns notes for the result line, if any. */
  fault(ctx: RunContext): Promise<string | void>;
  /** After measuring, before the fleet stops (always runs). */
  cleanup?(fleet: Fleet): Promise<void>;
}

/** Chaos defaults: a price with sub-cent digits so any double or missed charge shows. */
export function chaosFleetOptions(extra: FleetOptions = {}): FleetOptions {
  const env = { ...(extra.env ?? {}) };
  // Short chunk locks: a restarted dispatcher takes over a dead one's chunks within seconds.
  env.dispatcher = { LOCK_DURATION_MS: '5000', STALLED_INTERVAL_MS: '1000', ...(env.dispatcher ?? {}) };
  // Holds of requests cut by a fault are rolled forward after 5 s instead of 30 s.
  env['api-gateway'] = { CREDIT_HOLD_RECOVERY_MS: '5000', ...(env['api-gateway'] ?? {}) };
  return {
    readyTimeoutMs: 180_000,
    ...extra,
    env,
    config: { smsprice: CHAOS_PRICE, ...(extra.config ?? {}) },
  };
}

/**
 * The common shape of a fault scenario: a fresh fleet, a charged user, a steady load, the fault
 * in the middle, then wait for every accepted message to settle and count.
 */
export async function standardRun(o: StandardRunOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const { log, messages } = o.options;
  const fleet = new Fleet(chaosFleetOptions(o.fleet));
  let measurement: Measurement | undefined;
  let notes: string[] = [];
  try {
    await fleet.start();
    await o.prepare?.(fleet);
    const user = await createChaosUser(fleet);
    const load = new LoadGenerator(fleet, {
      rate: o.options.rate ?? DEFAULT_RATE,
      ...o.load,
      messages,
      user: user.name,
    });
    const ctx: RunContext = {
      fleet,
      load,
      user,
      messages,
      log,
      atShare: (share) => load.offeredAtLeast(Math.floor(messages * share)),
    };
    // The load runs to its end even when the fault fails, so the fleet is quiet when it stops.
    let faultError: Error | undefined;
    const faultNotes = await o.fault(ctx).catch((err: unknown) => {
      faultError = err instanceof Error ? err : new Error(String(err));
    });
    const result = await load.finished();
    if (faultError) throw faultError;
    if (faultNotes) notes.push(faultNotes);
    log(
      `  ${o.name}: load done, ${result.accepted.size}/${result.sent} accepted` +
        (result.refusals.size
          ? `, ${result.refused} refused, ${result.retries} retries (${[...result.refusals].map(([k, v]) => `${k}: ${v}`).join('; ')})`
          : ''),
    );
    measurement = await settleAndMeasure(fleet, {
      user,
      accepted: result.accepted,
      ...(o.options.settleStallMs !== undefined ? { stallMs: o.options.settleStallMs } : {}),
      log,
    });
    if (result.refused) notes.push(`${result.refused} refused`);
    if (result.retries) notes.push(`${result.retries} requests retried`);
    if (measurement.unansweredCdrs) notes.push(`${measurement.unansweredCdrs} CDRs of unanswered requests`);
    if (measurement.lost)
      notes.push(`lost e.g. ${measurement.lostSample.join(',')}; logs in ${fleet.logDir}`);
    notes.push(
      Object.entries(measurement.states)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    );
  } finally {
    try {
      await o.cleanup?.(fleet);
    } finally {
      await fleet.stop().catch((err: unknown) => log(`  ${o.name}: fleet stop failed: ${String(err)}`));
    }
  }
  notes = notes.filter((n) => n !== '');
  return {
    scenario: o.name,
    sent: messages,
    accepted: measurement.accepted,
    finals: measurement.finals,
    lost: measurement.lost,
    duplicateCdrs: measurement.duplicateCdrs,
    providerDuplicates: measurement.providerDuplicates,
    creditDifference: measurement.creditDifference,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    ...(notes.length ? { notes: notes.join('; ') } : {}),
  };
}
