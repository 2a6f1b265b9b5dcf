export * from './cdr-mapper.js';
