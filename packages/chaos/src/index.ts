export * from './scenario.js';
export * from './measure.js';
export * from './load.js';
export * from './run.js';
export * from './runner.js';
export * from './table.js';
export { SCENARIOS } from './scenarios/index.js';
export * from './scenarios/infra-faults.js';
export * from './scenarios/process-faults.js';
