export {
  startHttpSim,
  mergeBehaviour,
  DEFAULT_BEHAVIOUR,
  MAX_STORED_MESSAGES,
  type HttpSim,
  type HttpSimOptions,
  type SimBehaviour,
  type SimMessage,
  type SimMessageFilter,
  type SimStats,
} from './http-sim.js';
