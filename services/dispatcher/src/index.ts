export * from './send-processor.js';
