export * from './http-transport.js';
export * from './mask.js';
export * from './sql-placeholders.js';
