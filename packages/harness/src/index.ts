export * from './fleet.js';
export * from './private-infra.js';
