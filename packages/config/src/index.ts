export {
  CONFIG_KEYS,
  buildSnapshot,
  defaultSnapshot,
  displayValue,
  formatValue,
  getEntry,
  isSecret,
  parseValue,
  resolveKey,
  type ConfigEntry,
  type ConfigKey,
  type ConfigSnapshot,
  type ConfigValue,
  type ParseResult,
} from './registry.js';
export {
  ConfigStore,
  ConfigStoreError,
  type ConfigChangeListener,
  type ConfigStoreOptions,
} from './config-store.js';
export { checkConfigChange, smppConfigProblem, smppUrlProblem } from './change-check.js';
