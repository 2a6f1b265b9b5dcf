export * from './send-processor.js';
export * from './transport-factory.js';
export { SendFiles } from './send-files.js';
