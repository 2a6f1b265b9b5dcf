import type { FleetOptions } from '@smsfleet/harness';

/** The figures of one scenario, counted after the fleet settled (see measure.ts). */
export interface ScenarioResult {
  scenario: string;
  /** Messages the load generator tried to send. */
  sent: number;
  /** Messages answered `OK` (their smsids were recorded). */
  accepted: number;
  /** Accepted messages that reached a final state (a CDR) before the settle deadline. */
  finals: number;
  /** Accepted messages with no final state / CDR after the settle deadline. Must be 0. */
  lost: number;
  /** smsids with more than one CDR row. Must be 0. */
  duplicateCdrs: number;
  /** Messages the provider (the simulator) received more than once. */
  providerDuplicates: number;
  /** start credit − sum of CDR costs − end credit, exact decimal string. Must be "0". */
  creditDifference: string;
  /** Wall-clock duration of the scenario. */
  seconds: number;
  notes?: string;
}

export interface ScenarioOptions {
  /** Messages to send in the run. */
  messages: number;
  /** Progress lines (the CLI prints them; tests may drop them). */
  log: (line: string) => void;
  /** Messages per second offered by the load generator (default: see DEFAULT_RATE). */
  rate?: number;
  /** How long measurement waits for missing final states after the last CDR arrived (ms). */
  settleStallMs?: number;
}

export interface Scenario {
  name: string;
  description: string;
  /** Extra Fleet options the scenario needs (private Redis/NATS, sim options...); informative. */
  fleetOptions?: FleetOptions;
  run(opts: ScenarioOptions): Promise<ScenarioResult>;
}

/** True when the figures show a real failure: something lost, billed twice or credit off. */
export function failed(r: ScenarioResult): boolean {
  return r.lost !== 0 || r.duplicateCdrs !== 0 || !/^-?0(\.0*)?$/.test(r.creditDifference);
}
