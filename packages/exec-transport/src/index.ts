export * from './exec-transport.js';
