import type { Scenario } from '../scenario.js';
import { PROCESS_SCENARIOS } from './process-faults.js';
import { INFRA_SCENARIOS } from './infra-faults.js';

/**
 * Every scenario `./smsfleet chaos` runs, in order. A new scenario file in this folder exports a
 * `Scenario` (or a list) and is added here.
 */
export const SCENARIOS: Scenario[] = [...PROCESS_SCENARIOS, ...INFRA_SCENARIOS];
