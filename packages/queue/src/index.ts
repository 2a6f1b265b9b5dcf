export * from './redis.js';
export * from './chunk-queue.js';
export * from './micro-batcher.js';
export * from './chunk-progress.js';
export { Worker, Queue, type Job, UnrecoverableError, DelayedError } from 'bullmq';
