export * from './redis.js';
export * from './chunk-queue.js';
export * from './micro-batcher.js';
export * from './chunk-progress.js';
export * from './message-status.js';
export { Worker, Queue, type Job, UnrecoverableError, DelayedError } from 'bullmq';
export * from './rate-limiter.js';
export * from './circuit-breaker.js';
export * from './ops-stats.js';
