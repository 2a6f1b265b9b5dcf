export * from './finalizer.js';
