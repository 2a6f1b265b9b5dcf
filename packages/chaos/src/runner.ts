import { failed, type Scenario, type ScenarioOptions, type ScenarioResult } from './scenario.js';
import { resultLine } from './table.js';

export interface RunnerOptions extends ScenarioOptions {
  /** Called with each result as its scenario finishes. */
  onResult?: (r: ScenarioResult) => void;
}

export interface RunnerReport {
  results: ScenarioResult[];
  /** Scenarios that threw (the fleet could not be started, a fault could not be applied...). */
  errors: { scenario: string; error: string }[];
  /** True when any lost, duplicate-CDR or credit figure is off, or a scenario threw. */
  failed: boolean;
}

/** Runs the scenarios one after another, each on its own fresh fleet. */
export async function runScenarios(scenarios: Scenario[], opts: RunnerOptions): Promise<RunnerReport> {
  const results: ScenarioResult[] = [];
  const errors: RunnerReport['errors'] = [];
  for (const s of scenarios) {
    opts.log(`${s.name}: ${s.description}`);
    try {
      const r = await s.run(opts);
      results.push(r);
      opts.log(resultLine(r));
      opts.onResult?.(r);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      errors.push({ scenario: s.name, error });
      opts.log(`${s.name}: ERROR ${error}`);
    }
  }
  return { results, errors, failed: errors.length > 0 || results.some(failed) };
}

/** Picks scenarios by name (`--only a,b`); unknown names are an error listing the known ones. */
export function selectScenarios(all: Scenario[], only: string[] | undefined): Scenario[] {
  if (!only || only.length === 0) return all;
  const known = new Map(all.map((s) => [s.name, s]));
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length)
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
  return only.map((n) => known.get(n)!);
}
